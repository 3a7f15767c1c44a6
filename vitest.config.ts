import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Each file starts its own servers (Temporal test server, Postgres): give them time.
    testTimeout: 120_000,
    hookTimeout: 180_000,
    setupFiles: ['test/setup.ts'],
    // Files run one after another: each starts real servers (Temporal, Postgres,
    // a JVM) and the machine has two cores; in parallel they starve each other.
    pool: 'forks',
    fileParallelism: false,
    reporters: ['default'],
  },
});
