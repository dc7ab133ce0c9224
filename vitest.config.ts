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
    // two files at a time took the suite from ~900 s to ~600 s there, and three from 843 s to 727 s on a
    // slower machine of that kind (every case passing, none near its time limit).
    maxWorkers: availableParallelism() + 1,
  },
});
