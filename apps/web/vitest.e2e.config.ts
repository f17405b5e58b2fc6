import { defineConfig } from 'vitest/config';

/**
 * End-to-end tests: real Chromium against the real API, PostgreSQL and Redis. The global setup
 * builds the app, creates a throwaway database and starts the API; see e2e/support/global-setup.ts.
 */
export default defineConfig({
  test: {
    name: 'web-e2e',
    environment: 'node',
    include: ['e2e/**/*.e2e.ts'],
    globalSetup: ['./e2e/support/global-setup.ts'],
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // A scenario is one story told in steps; a failed step must not be retried into a pass.
    retry: 0,
  },
});
