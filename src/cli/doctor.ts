import { RemoteStore } from '../backends/remote/index.js';
import { grantedNamespaces } from '../backends/remote/token-claims.js';
import type { Engram } from '../core/engram.js';
import { namespaceSchema, parse } from '../core/validate.js';
import { parseFlags, required } from './args.js';
import { probeRecords, timed } from './doctor-probe.js';
import { newStep, type StepResult, table, verdict } from './doctor-report.js';
import { type Command, SetupError, UsageError } from './io.js';
import { openNamespace } from './namespace-memory.js';
import { edgeUrlFlag } from './store-url.js';

export const doctorCommand: Command = {
  name: 'doctor',
  summary: 'check a live edge: write, read, search and delete test records, with latencies',
  help: `Usage: engram doctor --url U --token T [--ns N] [--count 20] [--timeout 10s]

Checks an Engram edge end to end: /health, then writes --count records one request at a time, reads
them back, lists them, finds each by search, deletes them and checks they are gone. Prints a table of
latencies (p50 and max per step) and a one-line verdict. The records go to --ns (default: the first
namespace the token grants) under unique ids, and are deleted even when a step fails; what stays
behind is their tombstones, as for any delete.

  --url U         the edge's base URL, e.g. https://memory.example.com
  --token T       a token for the namespace (default: $ENGRAM_TOKEN)
  --ns N          namespace to write the test records in
  --count 20      records to write (1-1000)
  --timeout 10s   give up on a request after this long (ms or s)

Exit codes: 0 healthy; 1 partly (a step failed or data came back wrong); 2 misconfigured or unreachable
(bad flags, no server at --url, a refused token).

Example:
  engram doctor --url http://127.0.0.1:8787 --token "$(engram token --ns default)"`,

  async run(argv, io) {
    const flags = parseFlags(argv, {
      url: { type: 'string' },
      token: { type: 'string' },
      ns: { type: 'string' },
      count: { type: 'string', default: '20' },
      timeout: { type: 'string', default: '10s' },
    });
    if (flags.help) {
      io.out(this.help);
      return 0;
    }
    const base = edgeUrl(required(flags.url, '--url'));
    const token = required(flags.token ?? io.env.ENGRAM_TOKEN, '--token (or ENGRAM_TOKEN)');
    const ns = flags.ns ?? grantedNamespaces(token)[0];
    if (ns === undefined) throw new UsageError('--ns: the token names no namespaces, so say which to use');
    const namespace = parse(namespaceSchema, ns, '--ns');
    const count = integer(flags.count, '--count', 1, 1000);
    const timeoutMs = duration(flags.timeout);

    const health = await checkHealth(base, timeoutMs);
    // Opening asks the edge the namespace's index language and records it there: the first write, timed
    // as one. A database that is down fails it; a refused token ends the run (timed makes it a SetupError).
    const store = new RemoteStore({ url: base, token, timeoutMs });
    const opening = newStep('write');
    let mem: Engram | undefined;
    await timed(opening, async () => {
      mem = await openNamespace(store, namespace);
    });
    let steps: StepResult[];
    if (!mem) {
      await store.close();
      steps = [health, opening, ...['read', 'list', 'search', 'delete', 'gone'].map(newStep)];
    } else {
      try {
        steps = [health, ...(await probeRecords(mem, count, io.stop))];
      } finally {
        await mem.close();
      }
    }
    for (const line of table(steps)) io.out(line);
    const { line, code } = verdict(steps, `ns ${JSON.stringify(namespace)} at ${base}`, count);
    io.out(line);
    return code;
  },
};

function edgeUrl(value: string): string {
  return edgeUrlFlag(value, '--url').replace(/\/+$/, '');
}

function integer(value: string, flag: string, min: number, max: number): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < min || n > max) {
    throw new UsageError(`${flag}: expected ${min}-${max}, got ${JSON.stringify(value)}`);
  }
  return n;
}

function duration(value: string): number {
  const match = /^(\d+)(ms|s)?$/.exec(value);
  if (!match || Number(match[1]) === 0) {
    throw new UsageError(`--timeout: expected a duration like 500ms or 10s, got ${JSON.stringify(value)}`);
  }
  return Number(match[1]) * (match[2] === 'ms' ? 1 : 1000);
}

/**
 * `GET /health`, unauthenticated. No answer is "unreachable" and an answer that is not Engram's is
 * "misconfigured" (both exit 2); a 503 from the edge (its database is down) is a failed step.
 */
async function checkHealth(base: string, timeoutMs: number): Promise<StepResult> {
  const step = newStep('health');
  step.total = 1;
  const started = performance.now();
  let response: Response;
  try {
    response = await fetch(`${base}/health`, { signal: AbortSignal.timeout(timeoutMs) });
  } catch (error) {
    throw new SetupError(`unreachable: no answer from ${base}: ${reason(error, timeoutMs)}`);
  }
  const body = (await response.json().catch(() => null)) as {
    ok?: unknown;
    error?: { message?: unknown };
  } | null;
  step.samples.push(performance.now() - started);
  if (typeof body?.ok !== 'boolean') {
    throw new SetupError(
      `misconfigured: ${base}/health answered HTTP ${response.status}, not Engram's health check (is --url an Engram edge?)`,
    );
  }
  if (body.ok && response.ok) step.ok = 1;
  else step.problems.push(`HTTP ${response.status}: ${String(body.error?.message ?? 'not ok')}`);
  return step;
}

function reason(error: unknown, timeoutMs: number): string {
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) {
    return `no answer within ${timeoutMs} ms`;
  }
  const cause =
    error instanceof Error ? (error.cause as { code?: unknown; message?: unknown } | undefined) : undefined;
  return String(cause?.code ?? cause?.message ?? (error instanceof Error ? error.message : error));
}
