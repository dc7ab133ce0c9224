import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { serveCommand } from '../../src/cli/serve.js';

export interface RunningServer {
  base: string;
  out: string[];
  err: string[];
  stop(): Promise<number>;
}

/**
 * `engram serve` in-process on a free port, on PGlite in a temporary data directory (never DATABASE_URL),
 * with the dev secret. `stop()` plays SIGTERM and removes the data.
 */
export async function startServe(args: string[] = []): Promise<RunningServer> {
  const data = mkdtempSync(join(tmpdir(), 'engram-e2e-'));
  const out: string[] = [];
  const err: string[] = [];
  const stopper = new AbortController();
  let announce: (base: string) => void = () => {};
  const announced = new Promise<string>((resolve) => {
    announce = resolve;
  });
  const io = {
    out: (line: string) => {
      out.push(line);
      const base = /^engram: API on (http:\/\/[^/]+)/.exec(line)?.[1];
      if (base) announce(base);
    },
    err: (line: string) => {
      err.push(line);
    },
    env: {},
    cwd: process.cwd(),
    stop: stopper.signal,
    stdin: Readable.from([]),
    stdout: new PassThrough(),
  };
  const exit = serveCommand.run(['--port', '0', '--data', data, ...args], io);
  const base = await Promise.race([
    announced,
    exit.then((code) => {
      throw new Error(`engram serve exited ${code} before listening: ${err.join('\n')}`);
    }),
  ]);
  return {
    base,
    out,
    err,
    async stop() {
      stopper.abort('SIGTERM');
      const code = await exit;
      rmSync(data, { recursive: true, force: true });
      return code;
    },
  };
}
