// Issue 15's table of targets ("Storage that stays small and fast at a million memories"), checked
// against the rows of a run: the main table's target column keeps issue 7's, which differ. `filed` is
// the issue's own "today" column; the "no worse" rows compare with the run it was filed from (aa019f1).

import { withUnit } from './format.mjs';

const SQLJS_FTS = 'raw sql.js FTS4';
const DEXIE_WORDS = 'Dexie *words, OR, ranked by terms matched';

/**
 * Each check names a row of the run (suite 'large': of bench/large.json) and holds `{ ratio }` or `{ max }` (a
 * ceiling in ms: the issue's only absolute targets are latencies) for it; a check with neither only shows the row.
 */
export const ISSUE_15 = [
  {
    row: 'sql.js file size at 100K vs raw FTS4',
    filed: '7.0×',
    checks: [{ suite: 'sqljs', metric: 'file size at 100K', refName: SQLJS_FTS, ratio: 1.5 }],
  },
  {
    row: 'sql.js bulk add 100K vs raw FTS4 insert',
    filed: '10.5×',
    checks: [{ suite: 'sqljs', metric: 'bulk add 100K', refName: `${SQLJS_FTS} INSERT`, ratio: 2.0 }],
  },
  {
    row: 'sql.js open saved file + first search at 100K vs raw',
    filed: '8–14×',
    checks: [
      {
        suite: 'sqljs',
        metric: 'open saved file + first search at 100K',
        refName: `${SQLJS_FTS} open + ranked MATCH`,
        ratio: 3.0,
      },
    ],
  },
  {
    row: 'sql.js save (export) at 100K vs raw',
    filed: '4.2×',
    checks: [{ suite: 'sqljs', metric: 'save (export) at 100K', refName: SQLJS_FTS, ratio: 1.5 }],
  },
  {
    row: 'IndexedDB text search p50 at 100K vs Dexie multiEntry words',
    filed: '1.9× (36 ms)',
    checks: [
      { suite: 'indexeddb', metric: 'text search p50 at 100K', refName: DEXIE_WORDS, ratio: 1.0 },
      { suite: 'indexeddb', metric: 'text search p50 at 100K', refName: DEXIE_WORDS, max: 10 },
    ],
  },
  {
    row: 'IndexedDB bulk add 10K vs Dexie bulkPut (id, kind, *tags)',
    filed: '2.8×',
    checks: [
      {
        suite: 'indexeddb',
        metric: 'bulk add 10K (addMany × 10)',
        refName: 'Dexie bulkPut (id, kind, *tags)',
        ratio: 1.5,
      },
    ],
  },
  {
    row: 'Postgres sync push 10K through the edge vs raw insert into a GIN-indexed table',
    filed: '9.1×',
    checks: [
      {
        suite: 'postgres',
        metric: 'sync push 10K changes through the edge',
        refName: 'raw INSERT ×500, GIN-indexed table',
        ratio: 2.0,
      },
    ],
  },
  {
    row: 'Postgres text search p50 / p99 at 1M (real server)',
    filed: '53 / 257 ms',
    checks: [
      { suite: 'large', metric: 'text search p50 at 1M', max: 10 },
      { suite: 'large', metric: 'text search p99 at 1M', max: 50 },
    ],
  },
  {
    row: 'Postgres table size at 1M vs a raw table with a GIN-indexed tsvector',
    filed: '7.9×',
    checks: [{ suite: 'large', metric: 'table size at 1M', ratio: 2.0 }],
  },
  {
    row: 'Postgres at 1M: fill, push of 10K into it, pull of all (rows the issue asks for, without targets)',
    filed: '—',
    checks: [
      { suite: 'large', metric: 'fill 1M (addMany ×1000)' },
      { suite: 'large', metric: 'sync push 10K into 1M through the edge' },
      { suite: 'large', metric: 'sync pull 1.01M through the edge' },
    ],
  },
  {
    row: 'sql.js search p50 at 100K: no worse (aa019f1: 0.35× FTS4 + BM25)',
    filed: '0.35×',
    checks: [
      {
        suite: 'sqljs',
        metric: 'text search p50 at 100K',
        refName: 'FTS4 MATCH + BM25 (matchinfo)',
        ratio: 0.35,
      },
    ],
  },
  {
    row: 'IndexedDB search p50 at 100K: no worse (aa019f1: 1.80× Dexie words)',
    filed: '1.80×',
    checks: [{ suite: 'indexeddb', metric: 'text search p50 at 100K', refName: DEXIE_WORDS, ratio: 1.8 }],
  },
  {
    row: 'Postgres search p50 at 100K: no worse (aa019f1: 4.62× the GIN AND query)',
    filed: '4.62×',
    checks: [
      {
        suite: 'postgres',
        metric: 'text search p50 at 100K',
        refName: 'tsvector/GIN, plainto_tsquery (AND) + ts_rank',
        ratio: 4.62,
      },
    ],
  },
];

/** The row a check is about: of the run, or of bench/large.json for suite 'large'. */
export function rowOf(spec, rows, large) {
  const source = spec.suite === 'large' ? (large?.rows ?? []) : rows;
  return source.find(
    (r) =>
      (spec.suite === 'large' || r.suite === spec.suite) &&
      r.metric === spec.metric &&
      (spec.refName === undefined || r.refName === spec.refName),
  );
}

/** One check against the rows: its target, the measured figure, whether it holds (undefined: not run; null: no target). */
function check(spec, rows, large) {
  const row = rowOf(spec, rows, large);
  const target =
    spec.ratio !== undefined ? `≤ ${spec.ratio}×` : spec.max !== undefined ? `≤ ${spec.max} ms` : '—';
  if (!row) return { target, measured: 'not in this run', met: undefined };
  const ratio = row.ours / row.ref;
  if (spec.ratio !== undefined) {
    return { target, measured: `${ratio.toFixed(2)}×`, met: ratio <= spec.ratio };
  }
  if (spec.max !== undefined) {
    return { target, measured: withUnit(row.ours, row.unit), met: row.ours <= spec.max };
  }
  return {
    target,
    measured: `${withUnit(row.ours, row.unit)} (${ratio.toFixed(2)}× ${row.refName})`,
    met: null,
  };
}

/** The section: each issue row, its figure when filed, this run's, the target and the verdict. */
export function renderIssueTargets(rows, large) {
  const lines = ISSUE_15.map((entry) => {
    const results = entry.checks.map((spec) => check(spec, rows, large));
    const same = (texts) => (texts.every((t) => t === texts[0]) ? texts[0] : texts.join(' / '));
    const verdict = same(
      results.map(({ met }) => (met === undefined ? 'not run' : met === null ? '—' : met ? 'met' : 'missed')),
    );
    const targets = same(results.map((r) => r.target));
    return `| ${entry.row} | ${entry.filed} | ${same(results.map((r) => r.measured))} | ${targets} | ${verdict === '—' ? verdict : `**${verdict}**`} |`;
  });
  const from = large
    ? `The 1M rows are from \`npm run bench:large\` (bench/large.json) on ${large.date} for commit ${large.commit}; the others from this run.`
    : 'The 1M rows come from `npm run bench:large` (bench/large.json), absent here.';
  return `## Issue 15 targets

Issue 15 set targets of its own for the storage rows (the table above keeps issue 7's). ${from}
Each miss's measured cause and fix is in the hand-written notes below.

| issue 15 row | when filed | this run | target | verdict |
| --- | --- | --- | --- | --- |
${lines.join('\n')}
`;
}
