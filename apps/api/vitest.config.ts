import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Races are raced for real; two files at a time keeps a 2-core machine honest.
    maxWorkers: 2,
    pool: 'forks',
  },
});
