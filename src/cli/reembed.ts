import type { Embedder } from '../core/embedding/embedder.js';
import { isEngramError } from '../core/errors.js';
import type { MemoryStore } from '../core/store-contract.js';
import { namespaceList, parseFlags, required } from './args.js';
import { embedderFromFlags } from './embedder-flag.js';
import { type CliIo, type Command, Interrupted, UsageError } from './io.js';
import { openNamespace } from './namespace-memory.js';
import { type Progress, progressLine } from './progress.js';
import { openStoreUrl, parseStoreUrl } from './store-url.js';

export const reembedCommand: Command = {
  name: 'reembed',
  summary: 'embed every memory of a store with a new model (resumable, with progress)',
  help: `Usage: engram reembed --store <store> --embedder openai:<model> [--url U] [--api-key K] [--dims N]
                      [--ns a,b] [--token T] [--batch 64]

Embeds every memory whose embedding is missing, stale or of another model with the given embedder,
and records the model on each. Memories already embedded by that model for their current content are
skipped, so an interrupted run continues where it stopped when run again. Vector search compares only
embeddings of one model: until a store is moved, memories of the old model are skipped and reported.
A memory whose text the server refuses (an HTTP 4xx such as 400 for a text too long for the model)
does not stop the run: it is listed on stderr, the others are embedded, and the exit code is 1.

  --store <store>       postgres://user@host/db, sqlite:./file.db, pglite:./dir, http(s)://edge (with --token)
  --embedder openai:M   any OpenAI-compatible /v1/embeddings model (OpenAI, Ollama, vLLM, LM Studio)
  --url U               the API base (default https://api.openai.com/v1; Ollama: http://localhost:11434/v1)
  --api-key K           default: $OPENAI_API_KEY
  --dims N              vector length; asked of the server once when not given for an unknown model
  --ns a,b              only these namespaces (default: all)
  --token T             token for an http(s) store (default: $ENGRAM_TOKEN)
  --batch 64            texts per embedder request (1-1000)

Example:
  engram reembed --store sqlite:./memory.db --embedder openai:nomic-embed-text --url http://localhost:11434/v1`,

  async run(argv, io) {
    const flags = parseFlags(argv, {
      store: { type: 'string' },
      embedder: { type: 'string' },
      url: { type: 'string' },
      'api-key': { type: 'string' },
      dims: { type: 'string' },
      ns: { type: 'string' },
      token: { type: 'string' },
      batch: { type: 'string', default: '64' },
    });
    if (flags.help) {
      io.out(this.help);
      return 0;
    }
    const url = parseStoreUrl(required(flags.store, '--store'), '--store', io.cwd);
    if (url.kind === 'jsonl')
      throw new UsageError('--store: expected a database or an edge, not a jsonl: file');
    const batch = Number(flags.batch);
    if (!Number.isInteger(batch) || batch < 1 || batch > 1000) {
      throw new UsageError(`--batch: expected 1-1000, got ${JSON.stringify(flags.batch)}`);
    }
    const namespaces = namespaceList(flags.ns);
    try {
      const embedder = await embedderFromFlags(
        {
          spec: required(flags.embedder, '--embedder'),
          url: flags.url,
          dims: flags.dims,
          apiKey: flags['api-key'],
        },
        io.env,
        '--url',
        io.stop,
      );
      const store = await openStoreUrl(url, {
        role: 'update',
        token: flags.token ?? io.env.ENGRAM_TOKEN,
        namespaces,
      });
      try {
        return await reembedStore(store, namespaces ?? (await store.namespaces()), embedder, batch, io);
      } finally {
        await store.close();
      }
    } catch (error) {
      // SIGINT aborts the embedder's request under way: whatever it failed with, this is the interrupt.
      if (io.stop.aborted && !(error instanceof Interrupted)) throw interrupted();
      throw error;
    }
  },
};

const interrupted = () => new Interrupted('interrupted; run the same command again to continue');

async function reembedStore(
  store: MemoryStore,
  namespaces: string[],
  embedder: Embedder,
  batchSize: number,
  io: CliIo,
): Promise<number> {
  let refused = 0;
  for (const namespace of namespaces) {
    // No embedder on the memory itself: no background queue competes with this run.
    const mem = await openNamespace(store, namespace);
    let bar: Progress | undefined;
    let last = 0;
    const result = await mem
      .reembed({
        embedder,
        batchSize,
        onProgress: ({ done, total }) => {
          if (io.stop.aborted) throw interrupted();
          bar ??= progressLine(io.terminal, `reembed ${namespace}`, total);
          bar.read(done - last);
          bar.update(done, namespace);
          last = done;
        },
      })
      .catch((error: unknown) => {
        // A reply of the wrong shape (vectors of another length, too few) is the server failing mid-run,
        // exit 1 as an HTTP 500 is; only how the command was called is exit 2.
        if (isEngramError(error, 'VALIDATION')) throw new Error(error.message, { cause: error });
        throw error;
      });
    bar?.end(true);
    const failed = result.failed ?? [];
    io.out(
      `${namespace}: embedded ${result.embedded} with ${embedder.id}, ${result.skipped} already up to date${failed.length > 0 ? `, ${failed.length} refused` : ''}`,
    );
    for (const { id, error } of failed) io.err(`${namespace}: memory ${id} not embedded: ${error}`);
    refused += failed.length;
  }
  // Partly done, like doctor's "partly healthy": the rest is embedded, these need their text shortened.
  return refused > 0 ? 1 : 0;
}
