// The tar reader against archives made by GNU tar in each header format npm tarballs may use.
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileFromTarball } from '../../src/core/download/tar-reader.js';

const run = promisify(execFile);
let dir: string;
const engine = Buffer.from('#!/usr/bin/env node\nconsole.log("engine");\n'.repeat(300));
/** ustar splits a path of up to 255 bytes into prefix + name; pax and GNU store any length. */
const longDirFor = (format: string) => (format === 'ustar' ? `dist/${'u'.repeat(60)}/${'v'.repeat(60)}` : `dist/${'d'.repeat(90)}/${'e'.repeat(90)}/${'f'.repeat(90)}`);

async function makeTgz(format: string, name = 'package'): Promise<Buffer> {
  const src = join(dir, `${format}-${name}`);
  const longDir = longDirFor(format);
  await mkdir(join(src, name, 'dist'), { recursive: true });
  await mkdir(join(src, name, longDir), { recursive: true });
  await writeFile(join(src, name, 'package.json'), '{"name":"x","version":"1.0.0"}');
  await writeFile(join(src, name, 'dist/inlets.mjs'), engine);
  await writeFile(join(src, name, longDir, 'inlets.mjs'), 'decoy with a long path');
  const out = join(dir, `${format}-${name}.tgz`);
  await run('tar', ['-czf', out, `--format=${format}`, '-C', src, name]);
  return readFile(out);
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'inletsctl-tar-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('readFileFromTarball', () => {
  for (const format of ['ustar', 'pax', 'gnu']) {
    it(`finds dist/inlets.mjs in a ${format} archive and reads long paths right`, async () => {
      const tgz = await makeTgz(format);
      expect(readFileFromTarball(tgz, 'dist/inlets.mjs')).toEqual(engine);
      expect(readFileFromTarball(tgz, `${longDirFor(format)}/inlets.mjs`)?.toString()).toBe('decoy with a long path');
    });
  }

  it('strips the first path component whatever it is called, as npm does', async () => {
    const tgz = await makeTgz('pax', 'some-other-root');
    expect(readFileFromTarball(tgz, 'dist/inlets.mjs')).toEqual(engine);
  });

  it('answers undefined when the file is absent, and ignores directories of that name', async () => {
    const tgz = await makeTgz('pax');
    expect(readFileFromTarball(tgz, 'dist/absent.mjs')).toBeUndefined();
    expect(readFileFromTarball(tgz, 'dist')).toBeUndefined();
  });

  it('refuses a corrupted header and a non-gzip input with DOWNLOAD_BAD_TARBALL', async () => {
    const tgz = await makeTgz('ustar');
    const { gunzipSync } = await import('node:zlib');
    const tar = gunzipSync(tgz);
    tar[10] ^= 0xff; // inside the first entry's name: the header checksum no longer matches
    expect(() => readFileFromTarball(gzipSync(tar), 'dist/inlets.mjs')).toThrow(expect.objectContaining({ code: 'DOWNLOAD_BAD_TARBALL' }));
    expect(() => readFileFromTarball(Buffer.from('not gzip at all'), 'dist/inlets.mjs')).toThrow(expect.objectContaining({ code: 'DOWNLOAD_BAD_TARBALL' }));
  });

  it('refuses a truncated archive', async () => {
    const tgz = await makeTgz('ustar');
    const { gunzipSync } = await import('node:zlib');
    const tar = gunzipSync(tgz);
    // Cut inside the data of the entries, before dist/inlets.mjs can be complete.
    const cut = tar.indexOf(Buffer.from('#!/usr/bin/env node')) + 600;
    expect(() => readFileFromTarball(gzipSync(tar.subarray(0, cut)), 'dist/inlets.mjs')).toThrow(expect.objectContaining({ code: 'DOWNLOAD_BAD_TARBALL' }));
  });
});
