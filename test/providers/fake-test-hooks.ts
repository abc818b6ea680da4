/**
 * The vitest hooks every provider test against a fake repeats: a state directory for the
 * provider, a short per-request API timeout (so a hung call fails in the test's time), and after
 * each test, a fake with no spec mismatch and no problem, closed.
 */
import { afterAll, afterEach, beforeAll, expect } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { API_TIMEOUT_ENV } from '../../providers/shared/rest-client.js';
import type { FakeCloudServer } from '../fakes/fake-cloud-server.js';

/**
 * Registers the hooks. `currentFake` gives the fake the test started (or undefined).
 * @param apiTimeoutMs the per-request timeout during the file's tests, in milliseconds (default 1500)
 * @returns the state directory's path, once the file's tests run
 */
export function useFakeTestHooks(prefix: string, currentFake: () => FakeCloudServer | undefined, apiTimeoutMs = 1500): () => string {
  let stateDir = '';
  const previousTimeout = process.env[API_TIMEOUT_ENV];
  beforeAll(() => {
    stateDir = mkdtempSync(join(tmpdir(), `${prefix}-`));
    process.env[API_TIMEOUT_ENV] = String(apiTimeoutMs);
  });
  afterAll(() => {
    rmSync(stateDir, { recursive: true, force: true });
    if (previousTimeout === undefined) delete process.env[API_TIMEOUT_ENV];
    else process.env[API_TIMEOUT_ENV] = previousTimeout;
  });
  afterEach(async () => {
    const fake = currentFake();
    if (!fake) return;
    expect(fake.mismatches).toEqual([]);
    expect(fake.problems).toEqual([]);
    await fake.close();
  });
  return () => stateDir;
}
