import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/setup/real-postgres.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Vitest's default (one worker fewer than the cores) runs one file at a time on a 2-core machine such
    // as CI's, where much of a file's time is waiting (imports, child processes, Postgres, PGlite's start):
    // two files at a time take the suite from ~15 to ~12 minutes there.
    maxWorkers: Math.max(2, availableParallelism() - 1),
  },
});
