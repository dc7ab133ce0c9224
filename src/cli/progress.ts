import type { Terminal } from './io.js';

const REDRAW_MS = 100;
const BAR_WIDTH = 24;
const CLEAR_LINE = '\r\x1b[2K';

export interface Progress {
  /** Entries done so far (a running total), and the namespace being worked on. */
  update(done: number, namespace?: string): void;
  /** Bytes of input consumed, when the input's size is known. */
  read(bytes: number): void;
  /** Clears the bar; with `summary`, leaves one line saying what was done. */
  end(summary: boolean): void;
}

const formatCount = (n: number) => Math.round(n).toLocaleString('en-US');
const entries = (n: number) => `${formatCount(n)} ${n === 1 ? 'entry' : 'entries'}`;

/**
 * A progress line on a terminal's stderr, redrawn in place at most every 100 ms: a bar and a
 * percentage when the input's size is known (a file), else a running count and rate. Without a
 * terminal (stderr piped or redirected) it draws nothing at all.
 */
export function progressLine(terminal: Terminal | undefined, verb: string, totalBytes?: number): Progress {
  if (!terminal) return { update() {}, read() {}, end() {} };
  const started = Date.now();
  let done = 0;
  let bytes = 0;
  let namespace = '';
  let drawn = 0;
  const rate = () => done / Math.max((Date.now() - started) / 1000, 0.001);
  const draw = (force = false) => {
    const now = Date.now();
    if (!force && now - drawn < REDRAW_MS) return;
    drawn = now;
    const parts = [verb];
    if (totalBytes) {
      const share = Math.min(bytes / totalBytes, 1);
      const filled = Math.round(share * BAR_WIDTH);
      parts.push(`${'█'.repeat(filled)}${'░'.repeat(BAR_WIDTH - filled)} ${Math.floor(share * 100)}%`);
    }
    parts.push(entries(done), `${formatCount(rate())}/s`);
    if (namespace) parts.push(`ns ${namespace}`);
    terminal.write(`${CLEAR_LINE}${parts.join('  ').slice(0, Math.max(terminal.columns - 1, 20))}`);
  };
  return {
    update(count, ns) {
      done = count;
      if (ns !== undefined) namespace = ns;
      draw();
    },
    read(n) {
      bytes += n;
    },
    end(summary) {
      terminal.write(CLEAR_LINE);
      if (!summary) return;
      const seconds = (Date.now() - started) / 1000;
      terminal.write(
        `engram ${verb}: ${entries(done)} in ${seconds.toFixed(1)} s (${formatCount(rate())}/s)\n`,
      );
    },
  };
}
