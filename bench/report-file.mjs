// Where `npm run bench` writes its report, and what of the old one it keeps.

/**
 * BENCHMARKS.md's generated part (the run's header, tables and settings) ends here; what follows is
 * written by hand, session by session (measurements outside a full run, causes of misses), and every run
 * keeps it.
 */
export const NOTES_MARKER =
  '<!-- Hand-written notes follow: `npm run bench` keeps everything below this line. -->';

/** A file written before the marker existed: its notes start at the first heading naming itself hand-written. */
const NOTES_HEADING = /^## .*\(hand-written\b/m;

/** The hand-written notes of a report (`previous`, the file's text; undefined: no file), marker included. */
export function notesOf(previous) {
  if (previous === undefined) return undefined;
  const at = previous.indexOf(NOTES_MARKER);
  if (at >= 0) return previous.slice(at);
  const heading = NOTES_HEADING.exec(previous);
  return heading ? `${NOTES_MARKER}\n\n${previous.slice(heading.index)}` : undefined;
}

/** The generated report followed by the notes of the previous one, so that a run never loses them. */
export function withNotes(generated, previous) {
  const notes = notesOf(previous);
  return notes === undefined ? generated : `${generated.trimEnd()}\n\n${notes}`;
}

/**
 * Where a run's report and chart go: BENCHMARKS.md and bench/ratios.png for a full run; a subset
 * (BENCH_ONLY) would replace the full table with a few rows, so it writes bench/subset.md and
 * bench/subset.png (not kept in git) and leaves the committed report alone.
 */
export function reportPaths(subset) {
  return subset
    ? { markdown: new URL('./subset.md', import.meta.url), chart: new URL('./subset.png', import.meta.url) }
    : {
        markdown: new URL('../BENCHMARKS.md', import.meta.url),
        chart: new URL('./ratios.png', import.meta.url),
      };
}
