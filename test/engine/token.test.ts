import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearerToken, resolveToken, tokenMatches } from '../../src/engine/token.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'inlets-token-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function tokenFile(name: string, content: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, content, { mode: 0o600 });
  return path;
}

describe('resolveToken', () => {
  it('takes --token first, then --token-file, then --token-env, then INLETS_TOKEN', async () => {
    const file = await tokenFile('a', 'from-file\n');
    const env = { MY_TOKEN: 'from-named-env', INLETS_TOKEN: 'from-default-env' };
    expect(resolveToken({ token: 'from-flag', tokenFile: file, tokenEnv: 'MY_TOKEN' }, env)).toBe('from-flag');
    expect(resolveToken({ tokenFile: file, tokenEnv: 'MY_TOKEN' }, env)).toBe('from-file');
    expect(resolveToken({ tokenEnv: 'MY_TOKEN' }, env)).toBe('from-named-env');
    expect(resolveToken({}, env)).toBe('from-default-env');
  });

  it('drops the trailing newline of a token file but keeps inner spaces', async () => {
    expect(resolveToken({ tokenFile: await tokenFile('crlf', 'abc def\r\n') }, {})).toBe('abc def');
    expect(resolveToken({ tokenFile: await tokenFile('lf2', 'abc\n\n') }, {})).toBe('abc');
    expect(resolveToken({ tokenFile: await tokenFile('none', 'abc') }, {})).toBe('abc');
  });

  it('refuses an empty token from any source with TOKEN_EMPTY', async () => {
    const empty = await tokenFile('empty', '\n');
    for (const [sources, env] of [
      [{ token: '' }, {}],
      [{ tokenFile: empty }, {}],
      [{ tokenEnv: 'X' }, { X: '' }],
      [{}, { INLETS_TOKEN: '' }],
    ] as const) {
      expect(() => resolveToken(sources, env)).toThrow(expect.objectContaining({ code: 'TOKEN_EMPTY', message: expect.stringMatching(/^the token is empty/) }));
    }
  });

  it('reports TOKEN_MISSING when there is no token anywhere', () => {
    expect(() => resolveToken({}, {})).toThrow(expect.objectContaining({ code: 'TOKEN_MISSING' }));
    expect(() => resolveToken({ tokenEnv: 'UNSET_VAR' }, {})).toThrow(expect.objectContaining({ code: 'TOKEN_MISSING', message: expect.stringContaining('UNSET_VAR') }));
  });

  it('reports an unreadable token file by path, not content', () => {
    const missing = join(dir, 'does-not-exist');
    expect(() => resolveToken({ tokenFile: missing }, {})).toThrow(
      expect.objectContaining({ code: 'TOKEN_FILE_UNREADABLE', message: expect.stringContaining('ENOENT') }),
    );
  });
});

describe('tokenMatches', () => {
  it('matches only the exact token', () => {
    expect(tokenMatches('s3cret', 's3cret')).toBe(true);
    expect(tokenMatches('s3cret ', 's3cret')).toBe(false);
    expect(tokenMatches('s3cre', 's3cret')).toBe(false);
    expect(tokenMatches('S3CRET', 's3cret')).toBe(false);
    expect(tokenMatches('a'.repeat(10_000), 's3cret')).toBe(false);
  });

  it('never matches an empty or missing token', () => {
    expect(tokenMatches(undefined, 's3cret')).toBe(false);
    expect(tokenMatches('', 's3cret')).toBe(false);
    expect(tokenMatches('', '')).toBe(false);
  });
});

describe('bearerToken', () => {
  it('reads the token of a Bearer authorization header', () => {
    expect(bearerToken({ headers: { authorization: 'Bearer abc123' } })).toBe('abc123');
    expect(bearerToken({ headers: { authorization: 'bearer   abc123  ' } })).toBe('abc123');
  });

  it('gives undefined without a Bearer header and an empty string for an empty one', () => {
    expect(bearerToken({ headers: {} })).toBeUndefined();
    expect(bearerToken({ headers: { authorization: 'Basic dXNlcjpwYXNz' } })).toBeUndefined();
    expect(bearerToken({ headers: { authorization: 'Bearer' } })).toBe('');
    expect(bearerToken({ headers: { authorization: 'Bearer ' } })).toBe('');
  });
});
