/**
 * The engine's brotli form for the user-data (about 10% smaller than gzip -9 on it), cached by
 * content, a few entries at most: quality 11 takes ~0.1 s, and tests and `create` render the same
 * bundle many times. A package's bundle comes with its brotli form made by scripts/build.mjs,
 * which also searches brotli's distance parameters (tens of bytes less); engine-bundle.ts offers
 * it here through `knownBrotli`.
 */
import { createHash } from 'node:crypto';
import { brotliCompressSync, brotliDecompressSync, constants as zlib } from 'node:zlib';

const compressed = new Map<string, Buffer>();
const CACHE_ENTRIES = 8;

function contentKey(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Records that `br` is a brotli stream of `data` (checked: it must decompress to exactly `data`). */
export function knownBrotli(data: Buffer, br: Buffer): boolean {
  let back: Buffer;
  try {
    back = brotliDecompressSync(br);
  } catch {
    return false;
  }
  if (!back.equals(data)) return false;
  remember(contentKey(data), br);
  return true;
}

function remember(key: string, br: Buffer): void {
  compressed.delete(key);
  compressed.set(key, br);
  while (compressed.size > CACHE_ENTRIES) compressed.delete(compressed.keys().next().value!);
}

/** `data` brotli-compressed: a form made earlier (knownBrotli) or a new one at quality 11. */
export function brotli(data: Buffer): Buffer {
  const key = contentKey(data);
  let out = compressed.get(key);
  if (!out) {
    out = brotliCompressSync(data, {
      params: { [zlib.BROTLI_PARAM_QUALITY]: zlib.BROTLI_MAX_QUALITY, [zlib.BROTLI_PARAM_SIZE_HINT]: data.length },
    });
  }
  remember(key, out);
  return out;
}
