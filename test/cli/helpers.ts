import { existsSync } from 'node:fs';
import { Readable, Writable } from 'node:stream';
import type { CliIo } from '../../src/cli/io.js';
import { runCli } from '../../src/cli/run.js';

export interface CliOptions {
  /** What the command reads on stdin (default: nothing). */
  stdin?: string | Readable;
  /** Pretend stderr is a terminal: what is drawn there is kept in `terminal`. */
  terminal?: boolean;
}

/** Runs the CLI in-process with captured output; `stop()` plays the part of SIGTERM. */
export function cli(
  argv: string[],
  env: Record<string, string | undefined> = {},
  cwd = process.cwd(),
  options: CliOptions = {},
) {
  const out: string[] = [];
  const err: string[] = [];
  const data: string[] = [];
  const drawn: string[] = [];
  const stopper = new AbortController();
  const waiters: Array<{ pattern: RegExp; resolve: (line: string) => void }> = [];
  const io: CliIo = {
    out: (line) => {
      out.push(line);
      for (const w of waiters.filter((w) => w.pattern.test(line))) w.resolve(line);
    },
    err: (line) => err.push(line),
    env,
    cwd,
    stop: stopper.signal,
    stdin:
      typeof options.stdin === 'string'
        ? Readable.from([Buffer.from(options.stdin)])
        : (options.stdin ?? Readable.from([])),
    stdout: new Writable({
      write(chunk: Buffer | string, _encoding, done) {
        data.push(chunk.toString());
        done();
      },
    }),
    terminal: options.terminal ? { write: (text) => drawn.push(text), columns: 120 } : undefined,
  };
  const exit = runCli(argv, io);
  return {
    out,
    err,
    exit,
    /** Everything written to raw stdout (data, as `export` writes it). */
    stdout: () => data.join(''),
    /** Everything drawn on the pretend terminal. */
    terminal: drawn,
    stop: () => stopper.abort('SIGTERM'),
    /** Resolves with the first stdout line matching, even one already printed. */
    line: (pattern: RegExp) =>
      new Promise<string>((resolve, reject) => {
        const seen = out.find((l) => pattern.test(l));
        if (seen) return resolve(seen);
        waiters.push({ pattern, resolve });
        exit.then((code) => reject(new Error(`exited ${code} first; stderr: ${err.join('\n')}`)));
      }),
  };
}

/**
 * Resolves once `<file>.lock` exists: a CLI process has opened that store (long after its signal handlers
 * were set), however slowly a loaded machine started it. Whether it appeared within a minute is returned.
 */
export async function storeOpened(file: string): Promise<boolean> {
  const lock = `${file}.lock`;
  for (const deadline = Date.now() + 60_000; !existsSync(lock) && Date.now() < deadline; ) {
    await new Promise((r) => setTimeout(r, 50));
  }
  return existsSync(lock);
}
