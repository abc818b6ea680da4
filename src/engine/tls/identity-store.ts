/**
 * The server's TLS identity kept in its state directory: server.key and server.crt (mode 0600,
 * directory 0700). Made on first start and reused after, so the pin clients know stays valid.
 */
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { chmod, mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../../util/atomic-file.js';
import { pinOf } from './pin.js';
import { TLS_KEY_TYPES, generateSelfSigned, requestedSanWords, sanWords, type SelfSignedOptions } from './self-signed.js';

export interface Identity {
  certPem: string;
  keyPem: string;
  /** `sha256:<hex>` of the public key. */
  pin: string;
  /** True when this call made the files. */
  created: boolean;
}

/** Renew the certificate (same key, same pin) when it has less than this left, in ms: 30 days. */
const RENEW_BEFORE_MS = 30 * 86400_000;

/**
 * Loads server.crt and server.key from `stateDir`, or makes them. A missing or unreadable
 * certificate, one that expires within 30 days, or one whose subjectAltNames are not exactly
 * `options.dnsNames` and `options.ips` (`--tls-san` changed), is remade from the existing key when
 * that key is valid, so the pin does not change; a missing or invalid key means a new identity.
 */
export async function loadOrCreateIdentity(stateDir: string, options: SelfSignedOptions = {}): Promise<Identity> {
  await mkdir(stateDir, { recursive: true, mode: 0o700 });
  await chmod(stateDir, 0o700);
  const certPath = join(stateDir, 'server.crt');
  const keyPath = join(stateDir, 'server.key');
  const keyPem = await readFile(keyPath, 'utf8').catch(() => undefined);
  const certPem = await readFile(certPath, 'utf8').catch(() => undefined);

  const keyValid = keyPem !== undefined && isUsableKey(keyPem);
  if (keyValid && certPem !== undefined && certUsable(certPem, keyPem, requestedSanWords(options))) {
    await chmod(keyPath, 0o600);
    await chmod(certPath, 0o600);
    return { certPem, keyPem, pin: pinOf(certPem), created: false };
  }
  const made = generateSelfSigned({ ...options, keyPem: keyValid ? keyPem : undefined });
  if (!keyValid) await writeFileAtomic(keyPath, made.keyPem, 0o600);
  await writeFileAtomic(certPath, made.certPem, 0o600);
  return { certPem: made.certPem, keyPem: keyValid ? keyPem : made.keyPem, pin: made.pin, created: true };
}

function isUsableKey(pem: string): boolean {
  try {
    return TLS_KEY_TYPES.includes(createPrivateKey(pem).asymmetricKeyType!);
  } catch {
    return false;
  }
}

function certUsable(certPem: string, keyPem: string, sans: string[]): boolean {
  try {
    const cert = new X509Certificate(certPem);
    return (
      cert.checkPrivateKey(createPrivateKey(keyPem)) &&
      Date.parse(cert.validTo) - Date.now() > RENEW_BEFORE_MS &&
      sanWords(cert.subjectAltName).join() === sans.join()
    );
  } catch {
    return false;
  }
}
