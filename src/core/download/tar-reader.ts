/**
 * Reads one regular file out of an npm package tarball (.tgz): gzip, then POSIX ustar blocks with
 * the pax ('x') and GNU long-name ('L') extensions npm and other packers emit. Nothing is written
 * to disk; the caller decides what to do with the bytes. Only what we need: no links, no devices.
 *
 * Layout (POSIX.1-2001 ustar): 512-byte header blocks, each followed by the file's data padded to a
 * multiple of 512; the archive ends with two zero blocks.
 */
import { gunzipSync } from 'node:zlib';
import { CodedError } from '../../errors.js';

const BLOCK = 512;
/** Bound on the unpacked tarball, so a gzip bomb cannot exhaust memory (bytes). */
export const MAX_UNPACKED_BYTES = 512 * 1024 * 1024;

function badTarball(message: string, cause?: unknown): CodedError {
  return new CodedError('DOWNLOAD_BAD_TARBALL', `the package tarball is malformed: ${message}`, { cause });
}

/** A NUL-terminated string field of a header. */
function field(header: Buffer, start: number, length: number): string {
  const raw = header.subarray(start, start + length);
  const nul = raw.indexOf(0);
  return raw.subarray(0, nul < 0 ? length : nul).toString('utf8');
}

/** Numeric header fields are octal text, or big-endian base-256 when the top bit is set (GNU). */
function numeric(header: Buffer, start: number, length: number): number {
  if (header[start]! & 0x80) {
    let value = header[start]! & 0x7f;
    for (let i = start + 1; i < start + length; i++) value = value * 256 + header[i]!;
    return value;
  }
  const text = field(header, start, length).trim();
  if (!/^[0-7]*$/.test(text)) throw badTarball(`bad octal number "${text}"`);
  return text ? parseInt(text, 8) : 0;
}

/** The header checksum: the byte sum with the checksum field itself counted as spaces. */
function checksumOk(header: Buffer): boolean {
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : header[i]!;
  return sum === numeric(header, 148, 8);
}

/** pax records: `"<len> <key>=<value>\n"` repeated; len counts the whole record. */
function paxPath(data: Buffer): string | undefined {
  let offset = 0;
  let path: string | undefined;
  while (offset < data.length) {
    const space = data.indexOf(0x20, offset);
    if (space < 0) break;
    const length = parseInt(data.subarray(offset, space).toString('ascii'), 10);
    if (!(length > 0) || offset + length > data.length) throw badTarball('bad pax header record');
    const record = data.subarray(space + 1, offset + length - 1).toString('utf8');
    const eq = record.indexOf('=');
    if (record.slice(0, eq) === 'path') path = record.slice(eq + 1);
    offset += length;
  }
  return path;
}

/**
 * Returns the contents of the regular file at `wanted` (a path inside the package, such as
 * `dist/inlets.mjs`) from a gzip'd npm tarball, or undefined when it is not there. Like npm, the
 * first path component (normally `package/`) is the package root. Throws CodedError
 * `DOWNLOAD_BAD_TARBALL` on anything malformed.
 */
export function readFileFromTarball(tgz: Uint8Array, wanted: string): Buffer | undefined {
  let tar: Buffer;
  try {
    tar = gunzipSync(tgz, { maxOutputLength: MAX_UNPACKED_BYTES });
  } catch (err) {
    throw badTarball('not a gzip stream or too large', err);
  }
  let offset = 0;
  let longName: string | undefined;
  while (offset + BLOCK <= tar.length) {
    const header = tar.subarray(offset, offset + BLOCK);
    if (header.every((b) => b === 0)) return undefined; // end of archive
    if (!checksumOk(header)) throw badTarball(`header checksum mismatch at byte ${offset}`);
    const size = numeric(header, 124, 12);
    const type = String.fromCharCode(header[156]!);
    const dataStart = offset + BLOCK;
    if (dataStart + size > tar.length) throw badTarball('an entry runs past the end of the archive');
    const data = tar.subarray(dataStart, dataStart + size);
    offset = dataStart + Math.ceil(size / BLOCK) * BLOCK;

    if (type === 'x') {
      longName = paxPath(data) ?? longName;
      continue;
    }
    if (type === 'L') {
      longName = field(data, 0, data.length);
      continue;
    }
    if (type === 'g') continue; // global pax header: no per-file meaning for us

    const prefix = header.subarray(257, 262).toString('ascii') === 'ustar' ? field(header, 345, 155) : '';
    const name = longName ?? (prefix ? `${prefix}/${field(header, 0, 100)}` : field(header, 0, 100));
    longName = undefined;
    const inPackage = name.replace(/^\.?\/+/, '').split('/').slice(1).join('/');
    if (inPackage === wanted && (type === '0' || type === '\0')) return Buffer.from(data);
  }
  // Some packers omit the end marker; a clean end on a block boundary is still a whole archive.
  if (offset === tar.length) return undefined;
  throw badTarball('the archive is truncated');
}
