import { describe, expect, it } from 'vitest';
import { realPostgresGate } from './real-postgres.js';

describe('the real-Postgres gate', () => {
  it('fails in CI when DATABASE_URL is missing', () => {
    expect(realPostgresGate({ CI: 'true' }).fail).toMatch(/DATABASE_URL is not set.*CI must run them/);
    expect(realPostgresGate({ CI: '1', DATABASE_URL: '' }).fail).toBeDefined();
  });

  it('only warns locally, and says how to include the suites', () => {
    const gate = realPostgresGate({});
    expect(gate.fail).toBeUndefined();
    expect(gate.warn).toMatch(/^warning: .*set DATABASE_URL=postgres:/);
    expect(realPostgresGate({ CI: 'false' }).fail).toBeUndefined();
  });

  it('is silent when DATABASE_URL is set', () => {
    expect(realPostgresGate({ CI: 'true', DATABASE_URL: 'postgres://x@h/db' })).toEqual({});
  });
});
