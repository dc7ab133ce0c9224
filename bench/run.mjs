// `npm run bench`: runs every benchmark module and writes BENCHMARKS.md (keeping its hand-written notes) and
// bench/ratios.png. Each module records pairs (our figure, a reference measured in the same process,
// alternating) so that ratios are comparable across noisy machines even when absolute times are not.
// BENCH_ONLY=memory,sqljs runs a subset, written to bench/subset.md and bench/subset.png instead.
import { readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { writeChart } from './chart.mjs';
import { renderMarkdown } from './report.mjs';
import { reportPaths, withNotes } from './report-file.mjs';
import { revision } from './revision.mjs';

// indexeddb.mjs (IndexedDBStore on fake-indexeddb in Node, indicative only) runs when BENCH_ONLY names it.
const ALL = [
  'memory',
  'sqljs',
  'indexeddb-chromium',
  'postgres',
  'postgres-vector',
  'encryption',
  'api',
  'bundle',
  'quality',
  'vector',
  'lifecycle',
  'live',
  'scale',
  'watch',
];
const names = process.env.BENCH_ONLY ? process.env.BENCH_ONLY.split(',') : ALL;
/** A subset's few rows must not replace BENCHMARKS.md's full table (reportPaths). */
const subset = Boolean(process.env.BENCH_ONLY);
const paths = reportPaths(subset);
const started = performance.now();
const commit = revision();

/**
 * The million-memory rows `npm run bench:large` kept (bench/large.json), if it ever ran here: read before
 * anything runs, so that a broken file stops the bench at once rather than after its minutes of work.
 */
async function largeRows() {
  const file = new URL('./large.json', import.meta.url);
  let text;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if (error.code === 'ENOENT') return undefined;
    throw error;
  }
  let large;
  try {
    large = JSON.parse(text);
  } catch (error) {
    throw new Error(
      `${file.pathname} is not JSON (${error.message}): run \`npm run bench:large\` again or delete it`,
    );
  }
  if (typeof large?.date !== 'string' || typeof large.commit !== 'string' || !Array.isArray(large.rows)) {
    throw new Error(
      `${file.pathname}: expected { date, commit, rows: [...] } as \`npm run bench:large\` writes it; run it again or delete the file`,
    );
  }
  return large;
}
const large = await largeRows();
const loadAtStart = os.loadavg()[0];
const rows = [];
/** What modules tell the report besides rows: versions, and the sizes and rounds they chose. */
const info = { settings: [] };
if (process.env.BENCH_WORDS) {
  info.settings.push(`corpus: ${process.env.BENCH_WORDS} words a memory (BENCH_WORDS; the default is 10,60)`);
}

function record(row) {
  const ratio = row.ref === 0 ? Number.NaN : row.ours / row.ref;
  rows.push({ ...row, ratio });
  const fmt = (n) => (Math.abs(n) >= 100 ? n.toFixed(0) : n.toFixed(3));
  console.log(
    `${row.suite.padEnd(12)} ${row.metric.padEnd(44)} ours ${fmt(row.ours)}${row.unit}  ${row.refName} ${fmt(row.ref)}${row.unit}  ratio ${ratio.toFixed(2)}`,
  );
}

// Every module is loaded before any runs, so that a rebuild of dist during a long run cannot break a later one.
const modules = [];
for (const name of names) modules.push([name, await import(`./${name}.mjs`)]);
const seconds = (since) => `${((performance.now() - since) / 1000).toFixed(0)} s`;
// Fills that take minutes and measure nothing run first, side by side: each works in its own processes
// (Chromium, Postgres), so together they take about as long as the longer one.
const prepared = await Promise.all(modules.map(([, mod]) => mod.prepare?.(info)));
console.log(`prepared in ${seconds(started)}`);
/** Seconds each part took, for the report: where the run's minutes go (issue 15 wants it under 15). */
const took = [['the fills run first (prepare)', (performance.now() - started) / 1000]];
for (const [i, [name, mod]] of modules.entries()) {
  const start = performance.now();
  await mod.default(record, info, prepared[i]);
  took.push([name, (performance.now() - start) / 1000]);
  console.log(`${name}: ${seconds(start)}`);
}

const cpu = os.cpus();
const markdown = renderMarkdown(rows, {
  date: new Date().toISOString().slice(0, 10),
  commit,
  machine: `${cpu[0]?.model.trim() ?? 'unknown CPU'} (${cpu.length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB), ${os.type()} ${os.release()}`,
  cores: cpu.length,
  node: process.version,
  chromium: info.chromium,
  postgres: info.postgres,
  modules: names,
  seconds: (performance.now() - started) / 1000,
  took,
  load: [loadAtStart, os.loadavg()[0]],
  settings: info.settings,
  large,
  chart: subset ? 'subset.png' : 'bench/ratios.png',
});
// A full run keeps the hand-written notes of the file it replaces; a subset's file has none.
const previous = subset ? undefined : await readFile(paths.markdown, 'utf8').catch(() => undefined);
await writeFile(paths.markdown, withNotes(markdown, previous));
await writeChart(rows, paths.chart.pathname);
const written = [paths.markdown, paths.chart].map((url) => path.relative(process.cwd(), url.pathname));
console.log(`wrote ${written.join(' and ')}; ${seconds(started)} in all`);
