#!/usr/bin/env node
import { runCli } from './run.js';

/** How long output still queued for stdout may take to drain after a signal stopped the command. */
const STALLED_STDOUT_MS = 1000;

const stop = new AbortController();
for (const signal of ['SIGTERM', 'SIGINT'] as const) process.once(signal, () => stop.abort(signal));

const code = await runCli(process.argv.slice(2), {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
  env: process.env,
  cwd: process.cwd(),
  stop: stop.signal,
  stdin: process.stdin,
  stdout: process.stdout,
  terminal: process.stderr.isTTY
    ? { write: (text) => process.stderr.write(text), columns: process.stderr.columns || 80 }
    : undefined,
});
process.exitCode = code;
// Stopped by a signal while stdout still holds output its reader is not taking (a stalled pipe): that
// output would keep the process alive after its work has stopped. It gets a moment to drain, then the
// process ends (stderr, where the interruption was said, is written synchronously).
if (stop.signal.aborted && process.stdout.writableLength > 0) {
  // An empty write's callback runs once everything queued before it is written.
  const flushed = new Promise((done) => process.stdout.write('', done));
  await Promise.race([flushed, new Promise((done) => setTimeout(done, STALLED_STDOUT_MS).unref())]);
  process.exit(code);
}
