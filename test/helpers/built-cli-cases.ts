/**
 * Provider cases through the real, built CLI (a copy of `npm run build`, see build-snapshot.ts),
 * one fake cloud per case. Registers the hooks each such file needs: the build snapshot for the
 * file, and after each case the checks that the fake saw only requests its API description allows
 * and found nothing wrong, then the sandbox and the fake are removed.
 */
import { afterAll, afterEach, beforeAll, expect } from 'vitest';
import type { ProviderDescription } from '../../src/core/provider.js';
import type { FakeCloudServer } from '../fakes/fake-cloud-server.js';
import { snapshotBuild, type BuildSnapshot } from '../providers/build-snapshot.js';
import { cliUser, type CliUser } from '../providers/contract-helpers.js';

export interface BuiltCliCases {
  /** Starts `fake` and a CLI sandbox pointed at it (`env` added to the CLI's environment). */
  start(fake: FakeCloudServer, description: ProviderDescription, env?: Record<string, string>): Promise<CliUser>;
}

/**
 * @param beforeChecks run after each case before the fake's checks, e.g. to delete what the case
 *   left (its requests are checked too)
 */
export function builtCliCases(beforeChecks?: (user: CliUser) => Promise<void>): BuiltCliCases {
  let build: BuildSnapshot | undefined;
  let current: { fake: FakeCloudServer; user: CliUser } | undefined;
  beforeAll(async () => {
    build = await snapshotBuild();
  });
  afterAll(async () => {
    await build?.cleanup();
  });
  afterEach(async () => {
    if (!current) return;
    const { fake, user } = current;
    current = undefined;
    try {
      await beforeChecks?.(user);
      expect(fake.mismatches).toEqual([]);
      expect(fake.problems).toEqual([]);
    } finally {
      await user.cleanup();
      await fake.close();
    }
  });
  return {
    async start(fake, description, env) {
      if (!build) throw new Error('builtCliCases: start() runs inside a case');
      await fake.start();
      const user = await cliUser(build, description, fake, env);
      current = { fake, user };
      return user;
    },
  };
}
