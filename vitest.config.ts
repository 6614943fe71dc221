import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    testTimeout: 20_000,
    hookTimeout: 30_000,
    // Two cores: browsers and real peers compete for them, so files run two at a time at most.
    maxWorkers: 2,
    pool: 'forks',
  },
});
