export interface BenchRow {
  suite?: string;
  metric: string;
  ours: number;
  ref: number;
  refName: string;
  unit: string;
}
/** One bound on one row of a run (suite 'large': a row of bench/large.json); neither bound: shown only. */
export interface IssueCheck {
  suite: string;
  metric: string;
  refName?: string;
  ratio?: number;
  max?: number;
}
export function rowOf(
  spec: IssueCheck,
  rows: BenchRow[],
  large: { rows: BenchRow[] } | undefined,
): BenchRow | undefined;
export const ISSUE_15: { row: string; filed: string; checks: IssueCheck[] }[];
export function renderIssueTargets(
  rows: BenchRow[],
  large: { date: string; commit: string; rows: BenchRow[] } | undefined,
): string;
