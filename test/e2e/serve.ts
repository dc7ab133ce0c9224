import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, expect } from 'vitest';
import { serveCommand } from '../../src/cli/serve.js';
import { CHROMIUM_ARGS, requireChromium } from '../browser/chromium.js';

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

/**
 * The demo as a person meets it: the page built, `engram serve` on PGlite, and headless Chromium, all
 * started before the file's tests and stopped after them (the server must stop cleanly, exit 0).
 */
export function startDemoInChromium(): { server: () => RunningServer; browser: () => Browser } {
  let server: RunningServer | undefined;
  let browser: Browser | undefined;
  beforeAll(async () => {
    const executablePath = requireChromium();
    execFileSync(process.execPath, [join(import.meta.dirname, '../../scripts/build-demo.mjs')], {
      stdio: 'inherit',
    });
    server = await startServe();
    browser = await chromium.launch({ executablePath, args: CHROMIUM_ARGS });
  });
  afterAll(async () => {
    await browser?.close();
    if (server) expect(await server.stop()).toBe(0);
  });
  return { server: () => server!, browser: () => browser! };
}
