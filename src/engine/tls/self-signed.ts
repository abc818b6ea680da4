/**
 * Self-signed server certificates, made with node:crypto and a small DER encoder so that exit
 * nodes and inletsctl need neither openssl nor an npm package. Our clients trust them by pinning
 * the public key (PROTOCOL.md §11); tools that verify a certificate by name (Prometheus, curl, Go's
 * TLS) need the name in its subjectAltName, which `dnsNames` and `ips` fill.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import { isIPv4, isIPv6 } from 'node:net';
import { UsageError } from '../../errors.js';
import * as der from './der.js';
import { pinOfPublicKey } from './pin.js';

export interface SelfSignedOptions {
  /** Subject and issuer common name. Default 'inlets'. */
  commonName?: string;
  /** IP addresses for subjectAltName (IPv4 or IPv6). */
  ips?: string[];
  /** DNS names for subjectAltName. */
  dnsNames?: string[];
  /** Validity from now, in days. Default 3650. */
  days?: number;
  /** Reuse this private key (PKCS#8 or SEC1 PEM) instead of making one, so the pin stays. */
  keyPem?: string;
}

export interface SelfSigned {
  certPem: string;
  /** PKCS#8 PEM of the private key (Ed25519; an ECDSA P-256 key given as `keyPem` is kept). */
  keyPem: string;
  /** `sha256:<hex>` of the public key (see pin.ts). */
  pin: string;
}

/** Signature algorithm identifiers: RFC 5758 (ecdsa-with-SHA256), RFC 8410 (Ed25519, no parameters). */
const ECDSA_WITH_SHA256 = /* @__PURE__ */ der.sequence(/* @__PURE__ */ der.oid('1.2.840.10045.4.3.2'));
const ED25519 = /* @__PURE__ */ der.sequence(/* @__PURE__ */ der.oid('1.3.101.112'));

/** Key types a certificate is made for; new keys are Ed25519 (its key and certificate are the smallest: user-data bytes). */
export const TLS_KEY_TYPES = ['ed25519', 'ec'];

/**
 * Makes an Ed25519 key (or reuses `keyPem`, Ed25519 or ECDSA P-256, as older versions made) and a
 * self-signed X.509 v3 server certificate.
 */
export function generateSelfSigned(options: SelfSignedOptions = {}): SelfSigned {
  const { commonName = 'inlets', ips = [], dnsNames = [], days = 3650 } = options;
  let privateKey: KeyObject;
  if (options.keyPem) {
    privateKey = createPrivateKey(options.keyPem);
    if (!TLS_KEY_TYPES.includes(privateKey.asymmetricKeyType!)) throw new UsageError('the TLS key must be an Ed25519 or ECDSA key', 'TLS_KEY_INVALID');
  } else {
    privateKey = generateKeyPairSync('ed25519').privateKey;
  }
  const ec = privateKey.asymmetricKeyType === 'ec';
  const algorithm = ec ? ECDSA_WITH_SHA256 : ED25519;
  const publicKey = createPublicKey(privateKey);
  const spki = publicKey.export({ type: 'spki', format: 'der' });

  // 12 random bytes: over the 64 bits of entropy CAs give serials, 4 user-data bytes under the usual 16
  const serial = randomBytes(12);
  serial[0] = (serial[0] & 0x7f) | 0x40; // positive, and exactly 12 bytes long
  const name = der.sequence(der.set(der.sequence(der.oid('2.5.4.3'), der.utf8String(commonName))));
  const now = Date.now();
  const validity = der.sequence(der.time(new Date(now - 3600_000)), der.time(new Date(now + days * 86400_000)));

  const extensions = [
    extension('2.5.29.19', true, der.sequence()), // basicConstraints: CA false
    // no keyUsage: it is optional for a server certificate (RFC 5280 4.2.1.3), and bytes count
    extension('2.5.29.37', false, der.sequence(der.oid('1.3.6.1.5.5.7.3.1'))), // extKeyUsage: serverAuth
  ];
  if (ips.length > 0 || dnsNames.length > 0) {
    const names = [
      ...dnsNames.map((dns) => der.implicitPrimitive(2, Buffer.from(dns, 'ascii'))),
      ...ips.map((ip) => der.implicitPrimitive(7, ipBytes(ip))),
    ];
    extensions.push(extension('2.5.29.17', false, der.sequence(...names)));
  }

  const tbs = der.sequence(
    der.explicit(0, der.smallInteger(2)), // v3
    der.unsignedInteger(serial),
    algorithm,
    name,
    validity,
    name,
    spki,
    der.explicit(3, der.sequence(...extensions)),
  );
  // ECDSA: a DER Ecdsa-Sig-Value, as X.509 wants; Ed25519 signs the message itself (no digest)
  const signature = sign(ec ? 'sha256' : null, tbs, privateKey);
  const cert = der.sequence(tbs, algorithm, der.bitString(signature));

  return {
    certPem: toPem('CERTIFICATE', cert),
    keyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    pin: pinOfPublicKey(publicKey),
  };
}

function extension(id: string, critical: boolean, value: Buffer): Buffer {
  return critical
    ? der.sequence(der.oid(id), der.boolean(true), der.octetString(value))
    : der.sequence(der.oid(id), der.octetString(value));
}

function toPem(label: string, bytes: Buffer): string {
  const lines = bytes.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

/** A DNS name a certificate can carry: labels of letters, digits and inner hyphens, or a `*.` wildcard. */
const DNS_NAME = /^(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

/**
 * Sorts `--tls-san` values into IPs and DNS names (lowercased), each once.
 * @throws UsageError `TLS_SAN_INVALID` for a value that is neither an IP nor a DNS name.
 */
export function subjectAltNames(values: string[]): { dnsNames: string[]; ips: string[] } {
  const dnsNames = new Set<string>();
  const ips = new Set<string>();
  for (const value of values) {
    if (isIPv4(value) || isIPv6(value)) ips.add(value);
    else if (value.length <= 253 && DNS_NAME.test(value.toLowerCase())) dnsNames.add(value.toLowerCase());
    else throw new UsageError(`--tls-san: "${value}" is neither an IP address nor a DNS name`, 'TLS_SAN_INVALID');
  }
  return { dnsNames: [...dnsNames], ips: [...ips] };
}

/**
 * A certificate's subjectAltNames as comparable words: `DNS:name` and `IP:<hex bytes>`, sorted.
 * Reads Node's `X509Certificate.subjectAltName` text ("DNS:a, IP Address:192.0.2.1").
 */
export function sanWords(subjectAltName: string | undefined): string[] {
  if (!subjectAltName) return [];
  return subjectAltName
    .split(', ')
    .map((entry) => (entry.startsWith('IP Address:') ? `IP:${ipBytes(entry.slice(11)).toString('hex')}` : entry.toLowerCase().replace(/^dns:/, 'DNS:')))
    .sort();
}

/** The words of sanWords for what `options` asks a certificate to carry. */
export function requestedSanWords(options: Pick<SelfSignedOptions, 'dnsNames' | 'ips'>): string[] {
  return [...(options.dnsNames ?? []).map((d) => `DNS:${d.toLowerCase()}`), ...(options.ips ?? []).map((ip) => `IP:${ipBytes(ip).toString('hex')}`)].sort();
}

/** IPv4 or IPv6 text as 4 or 16 bytes. */
export function ipBytes(ip: string): Buffer {
  if (isIPv4(ip)) return Buffer.from(ip.split('.').map(Number));
  if (!isIPv6(ip)) throw new UsageError(`not an IP address: ${ip}`, 'INVALID_IP');
  // A zone id (fe80::1%eth0) is not part of the address; an embedded IPv4 address
  // (::ffff:192.0.2.1) makes the last two groups.
  const text = ip.split('%')[0].replace(/(\d+)\.(\d+)\.(\d+)\.(\d+)$/, (_, a, b, c, d) => `${(a * 256 + +b).toString(16)}:${(c * 256 + +d).toString(16)}`);
  const [head, tail] = text.split('::').map((part) => (part ? part.split(':') : []));
  const groups = tail ? [...head, ...Array<string>(8 - head.length - tail.length).fill('0'), ...tail] : head;
  const bytes = Buffer.alloc(16);
  groups.forEach((group, i) => bytes.writeUInt16BE(parseInt(group, 16), i * 2));
  return bytes;
}
