/**
 * Public-key pins: `sha256:<64 lowercase hex>`, the SHA-256 of a certificate's DER
 * SubjectPublicKeyInfo (PROTOCOL.md §11). Pinning the key rather than the certificate lets a
 * server renew its certificate with the same key without breaking its clients.
 */
import { X509Certificate, createHash, type KeyObject } from 'node:crypto';
import { UsageError } from '../../errors.js';

/** The pin of a public key. */
export function pinOfPublicKey(key: KeyObject): string {
  const spki = key.export({ type: 'spki', format: 'der' });
  return `sha256:${createHash('sha256').update(spki).digest('hex')}`;
}

/** The pin of a certificate given as PEM text, PEM bytes, DER bytes or a parsed certificate. */
export function pinOf(cert: string | Buffer | X509Certificate): string {
  const parsed = cert instanceof X509Certificate ? cert : new X509Certificate(cert);
  return pinOfPublicKey(parsed.publicKey);
}

/**
 * Validates a pin given by a user and returns it in canonical form (lower-case hex).
 * Throws UsageError('TLS_PIN_INVALID') naming the expected format.
 */
export function parsePin(text: string): string {
  const trimmed = text.trim();
  const match = /^sha256:([0-9a-fA-F]{64})$/.exec(trimmed);
  if (!match) {
    throw new UsageError(
      `invalid TLS pin ${JSON.stringify(trimmed.slice(0, 80))}: expected "sha256:" followed by 64 hex digits (the SHA-256 of the server's public key, as printed by the server at start)`,
      'TLS_PIN_INVALID',
    );
  }
  return `sha256:${match[1].toLowerCase()}`;
}
