import { cloudflareTest } from '@cloudflare/vitest-pool-workers';
import { defineConfig } from 'vitest/config';

/**
 * The edge Worker in real workerd, against the Postgres that wrangler.toml's Hyperdrive
 * `localConnectionString` names. Run with `vitest run -c vitest.workers.config.ts`.
 * Files are `*.spec.ts` so the Node suite (`test/**\/*.test.ts`) never loads them.
 */
export default defineConfig({
  plugins: [
    cloudflareTest({
      wrangler: { configPath: './wrangler.toml' },
      miniflare: { bindings: { ENGRAM_SECRET: 'workerd-test-secret-0123456789abcdef' } },
    }),
  ],
  test: {
    include: ['test/workers/**/*.spec.ts'],
    testTimeout: 30_000,
  },
});
