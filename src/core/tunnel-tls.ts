/**
 * The exit node's TLS pair as inletsctl makes it. The client trusts it by pinning its key
 * (PROTOCOL.md §11); tools that verify certificates by name instead (Prometheus, curl, Go) can use
 * the certificate as its own CA with the tunnel's server name, which its subjectAltName carries:
 * `<tunnelId>.inlets.invalid`. `.invalid` never resolves (RFC 6761 §6.4), so the name stands for
 * this tunnel's key and for nothing on the internet; a cloud's IP is not known when the
 * certificate is made (before the VM exists), so verify by that name rather than by the IP.
 */
import { generateSelfSigned, type SelfSigned } from '../engine/tls/self-signed.js';

/** The DNS zone of tunnel server names. */
export const TUNNEL_NAME_ZONE = 'inlets.invalid';

/** The name the exit node's certificate holds for tunnel `tunnelId`, e.g. `1a2b3c4d5e6f.inlets.invalid`. */
export function tunnelServerName(tunnelId: string): string {
  return `${tunnelId}.${TUNNEL_NAME_ZONE}`;
}

export interface TunnelTlsInput {
  /** The tunnel's name; not in the certificate (its common name is `inlets`: a name of up to 63
   * characters, twice, would cost user-data bytes, and verifiers read the subjectAltName). */
  name: string;
  tunnelId: string;
  /** The node's addresses, when known before the certificate is made (none of today's providers knows them). */
  ips?: string[];
}

/** A new Ed25519 key and its self-signed certificate for the tunnel. */
export function tunnelTls(input: TunnelTlsInput): SelfSigned {
  return generateSelfSigned({ commonName: 'inlets', dnsNames: [tunnelServerName(input.tunnelId)], ips: input.ips ?? [] });
}
