import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ISSUE_15, renderIssueTargets } from '../../bench/issue-targets.mjs';

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

describe("issue 15's targets in BENCHMARKS.md", () => {
  it('names rows the bench records: every check finds its row in the last generated table or in bench/large.json', () => {
    const rows = tableRows();
    expect(rows.length).toBeGreaterThan(50);
    for (const entry of ISSUE_15) {
      for (const spec of entry.checks) {
        const source: Row[] = spec.suite === 'large' ? large.rows : rows;
        const found = source.some(
          (r) =>
            (spec.suite === 'large' || r.suite === spec.suite) &&
            r.metric === spec.metric &&
            (spec.refName === undefined || r.refName === spec.refName),
        );
        expect(found, `${entry.row}: ${spec.suite} ${spec.metric} ${spec.refName ?? ''}`).toBe(true);
      }
    }
  });

  it('says met at the bound, missed above it, and not run when a row is absent', () => {
    const row = (ours: number, ref: number): Row => ({
      suite: 'sqljs',
      metric: 'file size at 100K',
      ours,
      ref,
      refName: 'raw sql.js FTS4',
      unit: 'MiB',
    });
    const line = (rows: Row[]) =>
      renderIssueTargets(rows, undefined)
        .split('\n')
        .find((l) => l.startsWith('| sql.js file size'));
    expect(line([row(75, 50)])).toContain('| 1.50× | ≤ 1.5× | **met** |');
    expect(line([row(76, 50)])).toContain('| 1.52× | ≤ 1.5× | **missed** |');
    expect(line([])).toContain('| not in this run | ≤ 1.5× | **not run** |');
  });

  it('checks both bounds of a row with two (IndexedDB: ≤ 1× Dexie and ≤ 10 ms) and reads the 1M rows from bench:large', () => {
    const idb = (ours: number, ref: number): Row => ({
      suite: 'indexeddb',
      metric: 'text search p50 at 100K',
      ours,
      ref,
      refName: 'Dexie *words, OR, ranked by terms matched',
      unit: 'ms',
    });
    const line = (rows: Row[]) =>
      renderIssueTargets(rows, large)
        .split('\n')
        .find((l) => l.startsWith('| IndexedDB text search p50'));
    expect(line([idb(9, 40)])).toContain('**met**');
    expect(line([idb(11, 40)])).toContain('**met / missed**');
    expect(line([idb(9, 8)])).toContain('**missed / met**');
    const section = renderIssueTargets([], large);
    expect(section).toContain(`on ${large.date} for commit ${large.commit}`);
    const p50 = large.rows.find((r: Row) => r.metric === 'text search p50 at 1M');
    expect(section).toContain(`${p50.ours >= 10 ? p50.ours.toFixed(1) : p50.ours.toFixed(2)} ms`);
  });
});
