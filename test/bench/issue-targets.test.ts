import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ISSUE_15, renderIssueTargets, rowOf } from '../../bench/issue-targets.mjs';

interface Row {
  suite: string;
  metric: string;
  ours: number;
  ref: number;
  refName: string;
  unit: string;
}

/** The rows of BENCHMARKS.md's generated table, as `npm run bench` last wrote them. */
function tableRows(): Row[] {
  const text = readFileSync(new URL('../../BENCHMARKS.md', import.meta.url), 'utf8');
  const rows: Row[] = [];
  for (const line of text.split('\n')) {
    const cells = line.split(' | ');
    if (cells.length !== 7 || !line.startsWith('| ') || line.startsWith('| suite')) continue;
    const [suite, metric, ours, refName, ref] = cells;
    rows.push({
      suite: suite!.slice(2),
      metric: metric!,
      ours: Number.parseFloat(ours!),
      ref: Number.parseFloat(ref!),
      refName: refName!,
      unit: '',
    });
  }
  return rows;
}

const large = JSON.parse(readFileSync(new URL('../../bench/large.json', import.meta.url), 'utf8'));

const row = (
  suite: string,
  metric: string,
  refName: string,
  unit: string,
  ours: number,
  ref: number,
): Row => ({
  suite,
  metric,
  ours,
  ref,
  refName,
  unit,
});
const sqljsFile = (ours: number) => row('sqljs', 'file size at 100K', 'raw sql.js FTS4', 'MiB', ours, 50);
const idbSearch = (ours: number, ref: number) =>
  row('indexeddb', 'text search p50 at 100K', 'Dexie *words, OR, ranked by terms matched', 'ms', ours, ref);
/** The section's line for the issue row starting with `start`. */
const lineOf = (rows: Row[], start: string, large?: { date: string; commit: string; rows: Row[] }) =>
  renderIssueTargets(rows, large)
    .split('\n')
    .find((l) => l.startsWith(`| ${start}`));

describe("issue 15's targets in BENCHMARKS.md", () => {
  it('names rows the bench records: every check finds its row in the last generated table or in bench/large.json', () => {
    const rows = tableRows();
    expect(rows.length).toBeGreaterThan(50);
    for (const entry of ISSUE_15) {
      for (const spec of entry.checks) {
        expect(
          rowOf(spec, rows, large),
          `${entry.row}: ${spec.suite} ${spec.metric} ${spec.refName ?? ''}`,
        ).toBeDefined();
      }
    }
  });

  it('says met at the bound, missed above it, and not run when a row is absent', () => {
    expect(lineOf([sqljsFile(75)], 'sql.js file size')).toContain('| 1.50× | ≤ 1.5× | **met** |');
    expect(lineOf([sqljsFile(76)], 'sql.js file size')).toContain('| 1.52× | ≤ 1.5× | **missed** |');
    expect(lineOf([], 'sql.js file size')).toContain('| not in this run | ≤ 1.5× | **not run** |');
  });

  it('checks both bounds of a row with two (IndexedDB: ≤ 1× Dexie and ≤ 10 ms) and reads the 1M rows from bench:large', () => {
    expect(lineOf([idbSearch(9, 40)], 'IndexedDB text search p50')).toContain('**met**');
    expect(lineOf([idbSearch(11, 40)], 'IndexedDB text search p50')).toContain('**met / missed**');
    expect(lineOf([idbSearch(9, 8)], 'IndexedDB text search p50')).toContain('**missed / met**');
    const kept = {
      date: '2026-01-02',
      commit: 'abc1234',
      rows: [
        row('large', 'text search p50 at 1M', 'GIN tsvector, OR tsquery + ts_rank', 'ms', 8.333, 125),
        row('large', 'text search p99 at 1M', 'GIN tsvector, OR tsquery + ts_rank', 'ms', 61.25, 400),
      ],
    };
    expect(renderIssueTargets([], kept)).toContain('on 2026-01-02 for commit abc1234');
    expect(lineOf([], 'Postgres text search p50 / p99 at 1M', kept)).toContain(
      '| 8.33 ms / 61.3 ms | ≤ 10 ms / ≤ 50 ms | **met / missed** |',
    );
    expect(lineOf([], 'Postgres table size at 1M', kept)).toContain('**not run**');
  });
});
