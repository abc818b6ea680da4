/**
 * Host-key checks for the ssh provider, as OpenSSH does them: a `SHA256:<base64>` pin (the format
 * `ssh-keygen -lf` and `ssh` print), or the user's known_hosts (plain and hashed `|1|` entries,
 * `[host]:port` for other ports). A key is never trusted blindly: an unknown key is refused unless
 * the user explicitly accepts new keys, and a known host with a different key is always refused.
 */
import { createHash, createHmac } from 'node:crypto';

/** OpenSSH's SHA256 fingerprint of a key blob: `SHA256:` and unpadded base64. */
export function fingerprint(keyBlob: Buffer): string {
  return `SHA256:${createHash('sha256').update(keyBlob).digest('base64').replace(/=+$/, '')}`;
}

/** The canonical form of a pin given by the user (prefix case-insensitive), or undefined when malformed. */
export function normalizePin(pin: string): string | undefined {
  const m = /^sha256:([A-Za-z0-9+/]{43})=?$/i.exec(pin.trim());
  return m ? `SHA256:${m[1]}` : undefined;
}

/** The name known_hosts uses for host:port. */
function hostPattern(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

/** The key blobs known_hosts holds for host:port (markers such as @revoked are skipped). */
export function knownKeys(knownHosts: string, host: string, port: number): Buffer[] {
  const name = hostPattern(host, port);
  const out: Buffer[] = [];
  for (const raw of knownHosts.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#') || line.startsWith('@')) continue;
    const [hosts, , key] = line.split(/\s+/);
    if (!hosts || !key) continue;
    if (hosts.split(',').some((h) => hostMatches(h, name))) out.push(Buffer.from(key, 'base64'));
  }
  return out;
}

function hostMatches(entry: string, name: string): boolean {
  const hashed = /^\|1\|([^|]+)\|(.+)$/.exec(entry);
  if (hashed) return createHmac('sha1', Buffer.from(hashed[1], 'base64')).update(name).digest('base64') === hashed[2];
  return entry === name;
}

export type HostKeyVerdict = { ok: true; how: 'pin' | 'known_hosts' | 'accepted-new'; fingerprint: string } | { ok: false; why: string; fingerprint: string };

/**
 * Decides whether to trust `keyBlob` presented by host:port.
 * @param pin a normalized pin (checked first, and alone when given)
 */
export function checkHostKey(keyBlob: Buffer, o: { host: string; port: number; pin?: string; knownHosts?: string; acceptNew: boolean }): HostKeyVerdict {
  const fp = fingerprint(keyBlob);
  if (o.pin) return fp === o.pin ? { ok: true, how: 'pin', fingerprint: fp } : { ok: false, why: `the host key is ${fp}, not the pinned ${o.pin}`, fingerprint: fp };
  const known = knownKeys(o.knownHosts ?? '', o.host, o.port);
  if (known.some((k) => k.equals(keyBlob))) return { ok: true, how: 'known_hosts', fingerprint: fp };
  if (known.length > 0) return { ok: false, why: `the host key ${fp} differs from the one in known_hosts (the host key changed, or this is not the host you meant)`, fingerprint: fp };
  if (o.acceptNew) return { ok: true, how: 'accepted-new', fingerprint: fp };
  return { ok: false, why: `the host key ${fp} is not in known_hosts; check it and pass --ssh-host-key ${fp} (or --ssh-accept-new-host-key)`, fingerprint: fp };
}
