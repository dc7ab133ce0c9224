// Starts and stops edge processes (bench/edge-process.mjs) for the live and scale benchmarks.
import { spawn } from 'node:child_process';

export function startEdge(url, schema, secret, heartbeatMs) {
  const child = spawn(
    process.execPath,
    [
      '--expose-gc',
      new URL('./edge-process.mjs', import.meta.url).pathname,
      url,
      schema,
      secret,
      String(heartbeatMs ?? ''),
    ],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  );
  let buffer = '';
  const waiters = [];
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (text) => {
    buffer += text;
    let nl = buffer.indexOf('\n');
    while (nl >= 0) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      nl = buffer.indexOf('\n');
      const [kind, ...rest] = line.split(' ');
      const i = waiters.findIndex((w) => w.kind === kind);
      if (i >= 0) waiters.splice(i, 1)[0].resolve(rest.map(Number));
    }
  });
  const next = (kind) => new Promise((resolve) => waiters.push({ kind, resolve }));
  const ready = next('ready');
  return {
    async base() {
      const [port] = await ready;
      return `http://127.0.0.1:${port}`;
    },
    async stats() {
      const answer = next('stats');
      child.stdin.write('stats\n');
      const [rss, cpuMicros, streams] = await answer;
      return { rss, cpuMicros, streams };
    },
    stop() {
      child.kill('SIGKILL');
      return new Promise((resolve) => child.once('exit', resolve));
    },
  };
}
