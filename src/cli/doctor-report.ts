/** What one step of `engram doctor` measured: a latency per request and what went wrong. */
export interface StepResult {
  name: string;
  /** Requests attempted. */
  total: number;
  /** Requests that succeeded and returned what was expected. */
  ok: number;
  /** Milliseconds per request, successful or not. */
  samples: number[];
  /** The first few problems, one line each. */
  problems: string[];
}

const MAX_PROBLEMS = 3;

export function newStep(name: string): StepResult {
  return { name, total: 0, ok: 0, samples: [], problems: [] };
}

export function problem(step: StepResult, text: string): void {
  if (step.problems.length < MAX_PROBLEMS) step.problems.push(text);
}

/** Nearest-rank percentile of the samples. */
function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.max(Math.ceil((p / 100) * sorted.length) - 1, 0)]!;
}

function ms(value: number): string {
  if (Number.isNaN(value)) return '-';
  return value < 10 ? `${value.toFixed(1)} ms` : `${Math.round(value)} ms`;
}

/** The latency table, one row per step: requests ok / attempted, p50 and max, and its first problem. */
export function table(steps: readonly StepResult[]): string[] {
  const rows = [
    ['step', 'ok', 'p50', 'max', ''],
    ...steps.map((s) => [
      s.name,
      `${s.ok}/${s.total}`,
      ms(percentile(s.samples, 50)),
      ms(s.samples.length > 0 ? Math.max(...s.samples) : Number.NaN),
      s.problems[0] ?? (s.total === 0 ? 'not run' : ''),
    ]),
  ];
  const widths = [0, 1, 2, 3].map((i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((row) =>
    row
      .map((cell, i) => (i < 4 ? (i >= 2 ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!)) : cell))
      .join('  ')
      .trimEnd(),
  );
}

/** The one-line verdict and the exit code: 0 when every request of every step was ok, else 1. */
export function verdict(
  steps: readonly StepResult[],
  where: string,
  count: number,
): { line: string; code: 0 | 1 } {
  const failing = steps.filter((s) => s.ok < s.total);
  if (failing.length === 0) {
    return {
      line: `healthy: ${count} records written, read back, listed, searched and deleted in ${where}`,
      code: 0,
    };
  }
  const working = steps.filter((s) => s.name !== 'health' && s.ok > 0);
  const what = failing.map(
    (s) => `${s.name} ${s.ok}/${s.total}${s.problems[0] ? ` (${s.problems[0]})` : ''}`,
  );
  return { line: `${working.length > 0 ? 'partly healthy' : 'unhealthy'}: ${what.join('; ')}`, code: 1 };
}
