/**
 * Vitest global setup: the real-Postgres suites run only with DATABASE_URL. Skipping them must never look
 * like a green run: in CI (CI=true) a missing DATABASE_URL fails the whole run before any test starts;
 * locally it is a warning that says how many suites are left out and how to include them.
 */
export function realPostgresGate(env: Record<string, string | undefined>): { fail?: string; warn?: string } {
  if (env.DATABASE_URL) return {};
  const what =
    'DATABASE_URL is not set, so the real-Postgres suites (test/backends/postgres, test/sync/concurrent-postgres, the postgres:// CLI cases) would be skipped';
  const how = 'set DATABASE_URL=postgres://postgres:dev@127.0.0.1:5432/test (.ci/run does)';
  if (isCi(env.CI)) return { fail: `${what}; CI must run them: ${how}` };
  return { warn: `warning: ${what}. To include them, ${how}.` };
}

function isCi(value: string | undefined): boolean {
  return value !== undefined && value !== '' && value !== '0' && value.toLowerCase() !== 'false';
}

export default function setup(): void {
  const { fail, warn } = realPostgresGate(process.env);
  if (fail) throw new Error(fail);
  if (warn) console.warn(`\n${warn}\n`);
}
