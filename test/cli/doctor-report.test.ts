import { describe, expect, it } from 'vitest';
import { newStep, problem, type StepResult, table, verdict } from '../../src/cli/doctor-report.js';

function step(name: string, ok: number, total: number, samples: number[] = []): StepResult {
  return { ...newStep(name), ok, total, samples };
}

describe("engram doctor's report", () => {
  it('gives the nearest-rank median and the maximum of each step', () => {
    const [, row] = table([step('write', 4, 4, [4, 1, 3, 2])]);
    expect(row).toMatch(/^write\s+4\/4\s+2\.0 ms\s+4\.0 ms$/);
  });

  it('takes the middle sample as the median of an odd count', () => {
    const [, row] = table([step('read', 3, 3, [5, 1, 3])]);
    expect(row).toMatch(/^read\s+3\/3\s+3\.0 ms\s+5\.0 ms$/);
  });

  it('shows a tenth of a millisecond below 10 ms, whole milliseconds from there', () => {
    const [, row] = table([step('list', 2, 2, [9.87, 12.4])]);
    expect(row).toMatch(/^list\s+2\/2\s+9\.9 ms\s+12 ms$/);
    const [, exact] = table([step('list', 1, 1, [10])]);
    expect(exact).toMatch(/^list\s+1\/1\s+10 ms\s+10 ms$/);
  });

  it('keeps the first three problems of a step', () => {
    const failing = step('read', 0, 5);
    for (let i = 0; i < 5; i++) problem(failing, `problem ${i}`);
    expect(failing.problems).toEqual(['problem 0', 'problem 1', 'problem 2']);
  });

  it('calls a server unhealthy when only its health check works, partly healthy when a request step does', () => {
    const health = step('health', 1, 1);
    const down = step('write', 0, 3);
    expect(verdict([health, down], 'ns "ops"', 3)).toEqual({ line: 'unhealthy: write 0/3', code: 1 });
    expect(verdict([health, down, step('read', 1, 1)], 'ns "ops"', 3)).toEqual({
      line: 'partly healthy: write 0/3',
      code: 1,
    });
  });
});
