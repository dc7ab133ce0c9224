import type { CliIo } from '../../src/cli/io.js';
import { runCli } from '../../src/cli/run.js';

/** Runs the CLI in-process with captured output; `stop()` plays the part of SIGTERM. */
export function cli(argv: string[], env: Record<string, string | undefined> = {}, cwd = process.cwd()) {
  const out: string[] = [];
  const err: string[] = [];
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
  };
  const exit = runCli(argv, io);
  return {
    out,
    err,
    exit,
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
