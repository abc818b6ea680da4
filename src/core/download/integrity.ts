/**
 * Checks a downloaded tarball against what the registry's packument promises: `dist.integrity`
 * (Subresource Integrity, https://www.w3.org/TR/SRI/) and, when present, the legacy `dist.shasum`
 * (hex SHA-1). Both must match; we refuse a package without a SHA-512 (or SHA-384/256) integrity,
 * as SHA-1 alone is too weak to trust code we will install as an executable.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { CodedError } from '../../errors.js';

/** Strongest first; npm publishes sha512. */
const ACCEPTED = ['sha512', 'sha384', 'sha256'] as const;

/** What was verified, for the user ("sha512 verified"). */
export interface IntegrityResult {
  algorithm: string;
  shasumChecked: boolean;
}

/**
 * Throws CodedError `DOWNLOAD_INTEGRITY_MISSING` when `integrity` holds no accepted hash, and
 * `DOWNLOAD_INTEGRITY_MISMATCH` when the bytes do not match the strongest one or the shasum.
 */
export function verifyIntegrity(data: Uint8Array, integrity: string | undefined, shasum: string | undefined, what: string): IntegrityResult {
  const entries = (integrity ?? '')
    .split(/\s+/)
    .filter(Boolean)
    .map((item) => {
      const dash = item.indexOf('-');
      // An SRI entry may carry options after '?'; they carry no meaning for us.
      return { algorithm: item.slice(0, dash).toLowerCase(), digest: item.slice(dash + 1).split('?')[0] };
    });
  const algorithm = ACCEPTED.find((a) => entries.some((e) => e.algorithm === a));
  if (!algorithm) {
    throw new CodedError('DOWNLOAD_INTEGRITY_MISSING', `${what}: the registry gives no sha512 integrity for the tarball, so it cannot be verified; nothing was installed`);
  }
  const actual = createHash(algorithm).update(data).digest();
  // Any entry of the strongest algorithm may match (SRI allows several).
  const matches = entries
    .filter((e) => e.algorithm === algorithm)
    .some((e) => {
      const expected = Buffer.from(e.digest, 'base64');
      return expected.length === actual.length && timingSafeEqual(expected, actual);
    });
  if (!matches) {
    throw new CodedError(
      'DOWNLOAD_INTEGRITY_MISMATCH',
      `${what}: the tarball does not match the registry's ${algorithm} integrity (expected ${entries.find((e) => e.algorithm === algorithm)!.digest.slice(0, 16)}…, got ${actual.toString('base64').slice(0, 16)}…); nothing was installed`,
    );
  }
  let shasumChecked = false;
  if (shasum) {
    const sha1 = createHash('sha1').update(data).digest('hex');
    if (sha1 !== shasum.toLowerCase()) {
      throw new CodedError('DOWNLOAD_INTEGRITY_MISMATCH', `${what}: the tarball does not match the registry's shasum (expected ${shasum}, got ${sha1}); nothing was installed`);
    }
    shasumChecked = true;
  }
  return { algorithm, shasumChecked };
}
