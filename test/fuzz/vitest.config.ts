import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// `npm run fuzz`: the property-based fuzz tests only, each property running for FUZZ_SECONDS (30 s
// unless set) instead of its few runs of the normal test run; FUZZ_RUNS=n makes n runs instead.
// No global setup: these tests import the sources and need no build.
export default defineConfig({
  root: fileURLToPath(new URL('../..', import.meta.url)),
  test: {
    include: ['test/fuzz/**/*.test.ts'],
    env: { FUZZ_SECONDS: process.env['FUZZ_SECONDS'] ?? '30' },
    maxWorkers: 2,
    pool: 'forks',
  },
});
