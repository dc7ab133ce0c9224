import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/setup/real-postgres.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
