import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Each file starts its own servers (Temporal test server, Postgres): give them time.
    testTimeout: 120_000,
    hookTimeout: 180_000,
    // Two cores: one file per core.
    pool: 'forks',
    maxWorkers: 2,
    reporters: ['default'],
  },
});
