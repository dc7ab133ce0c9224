import { Readable } from 'node:stream';
import { untilAborted } from '../core/abort.js';
import type { Engram } from '../core/engram.js';
import { KnowledgeGraph } from '../mcp/knowledge-graph.js';
import { isServerMemoryLine, readServerMemory } from '../mcp/server-memory-file.js';
import { type CliIo, Interrupted, UsageError } from './io.js';
import { MAX_LINE, readLines } from './lines.js';
import { openNamespace } from './namespace-memory.js';
import { openStoreUrl, type StoreUrl } from './store-url.js';

/** What `engram import` reads: Engram's own export, or the reference MCP memory server's memory.jsonl. */
export type ImportFormat = 'engram' | 'server-memory';

/**
 * The format of stdin, told from its first non-blank line (a server-memory entry's `type` is `entity` or
 * `relation`, an export's never is), and stdin itself to read from the start: what was read to tell is
 * replayed first, then the rest as it is asked for: nothing is read past the chunk that ends the first line.
 */
export async function detectFormat(io: CliIo): Promise<{ format: ImportFormat; input: Readable }> {
  const iterator = io.stdin[Symbol.asyncIterator]() as AsyncIterator<Uint8Array | string>;
  const seen: (Uint8Array | string)[] = [];
  const decoder = new TextDecoder('utf-8');
  let text = '';
  let ended = false;
  let first: string | undefined;
  while (first === undefined && !ended && text.length <= MAX_LINE) {
    const next = await untilAborted(iterator.next(), io.stop, () => interrupted(io.stop));
    let chunk = '';
    if (next.done) ended = true;
    else {
      seen.push(next.value);
      chunk = typeof next.value === 'string' ? next.value : decoder.decode(next.value, { stream: true });
      text += chunk;
    }
    if (!ended && !chunk.includes('\n')) continue;
    const lines = text.split('\n');
    first = lines.find((line, i) => line.trim() !== '' && (i < lines.length - 1 || ended));
  }
  let replayed = 0;
  const input = new Readable({
    objectMode: true,
    highWaterMark: 1,
    read() {
      if (replayed < seen.length) return void this.push(seen[replayed++]);
      if (ended) return void this.push(null);
      iterator.next().then(
        (next) => this.push(next.done ? null : next.value),
        (error: unknown) => this.destroy(error as Error),
      );
    },
    // Destroying stdin ends a read waiting on an idle pipe, so an interrupted import can exit.
    destroy(error, callback) {
      io.stdin.destroy();
      callback(error);
    },
  });
  // Its size, when stdin is a file, for the progress bar's percentage.
  Object.assign(input, { fd: (io.stdin as { fd?: unknown }).fd });
  return { format: first !== undefined && isServerMemoryLine(first) ? 'server-memory' : 'engram', input };
}

export interface GraphImport {
  to: StoreUrl;
  namespace: string;
  token: string | undefined;
}

/**
 * Reads a reference memory.jsonl whole, checks every line, then stores the graph as `engram mcp` stores
 * one made with create_entities and create_relations (KnowledgeGraph.createGraph): a bad line or a graph
 * Engram cannot keep writes nothing. The file is held in memory, as the reference server holds it.
 */
export async function importServerMemory(plan: GraphImport, input: Readable, io: CliIo): Promise<number> {
  if (plan.to.kind === 'jsonl')
    throw new UsageError(
      '--to: a memory.jsonl goes into a store: sqlite:, pglite:, postgres:// or http(s)://',
    );
  const store = await openStoreUrl(plan.to, {
    role: 'target',
    token: plan.token,
    namespaces: [plan.namespace],
  });
  let mem: Engram | undefined;
  let failure: unknown;
  try {
    const graph = await readServerMemory(stoppable(readLines(input), io.stop));
    // In the language the namespace is indexed in (a German one refused createMemory's default English).
    mem = await openNamespace(store, plan.namespace);
    const made = await new KnowledgeGraph(mem).createGraph(graph);
    io.terminal?.write(
      `engram import: ${made.entities.length} of ${graph.entities.length} entities and ${made.relations.length} of ${graph.relations.length} relations created in ns "${plan.namespace}" (the others were there already or given twice)\n`,
    );
  } catch (error) {
    failure = io.stop.aborted && !(error instanceof Interrupted) ? interrupted(io.stop) : error;
  }
  input.destroy();
  try {
    await (mem ?? store).close();
  } catch (error) {
    failure ??= error;
  }
  if (failure !== undefined) throw failure;
  return 0;
}

/** Lines until SIGINT/SIGTERM, even while waiting on an idle pipe. */
async function* stoppable(lines: AsyncIterable<string>, stop: AbortSignal): AsyncGenerator<string> {
  const iterator = lines[Symbol.asyncIterator]();
  for (;;) {
    const next = await untilAborted(iterator.next(), stop, () => interrupted(stop));
    if (next.done) return;
    yield next.value;
  }
}

function interrupted(stop: AbortSignal): Interrupted {
  return new Interrupted(`interrupted by ${String(stop.reason ?? 'a signal')}: nothing was imported`);
}
