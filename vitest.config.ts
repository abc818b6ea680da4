import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Fails the run at once, with one message, when ../shared/cloud-specs is missing.
    globalSetup: ['test/helpers/global-setup.ts'],
    // End-to-end tests start real servers and subprocesses; a 2-core CI machine needs the headroom.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    maxWorkers: 2,
    reporters: ['default'],
  },
});
