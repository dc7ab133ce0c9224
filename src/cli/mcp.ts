import { SqlJsStore } from '../backends/sqljs/index.js';
import { errorMessage } from '../core/errors.js';
import type { MemoryStore } from '../core/store-contract.js';
import { LIMITS, namespaceSchema, parse } from '../core/validate.js';
import { SEARCH_EXTRA } from '../mcp/knowledge-graph.js';
import { parseFlags } from './args.js';
import { embedderFromFlags } from './embedder-flag.js';
import { type Command, SetupError, UsageError } from './io.js';
import { openNamespace } from './namespace-memory.js';
import { requirePeers } from './peers.js';
import { edgeUrlFlag, openStoreUrl, parseStoreUrl } from './store-url.js';
import { packageVersion } from './version.js';

const DEFAULT_STORE = 'sqlite:./engram-memory.db';
const FINAL_SYNC_MS = 1500;

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export const mcpCommand: Command = {
  name: 'mcp',
  summary: 'a Model Context Protocol memory server on stdio (for agents)',
  help: `Usage: engram mcp [--store <store>] [--ns N] [--sync-url U] [--token T] [--search-extra 10]
                  [--embedder openai:<model>] [--embedder-url U] [--dims N] [--api-key K]

A Model Context Protocol server on stdin/stdout, a drop-in for @modelcontextprotocol/server-memory:
the same nine tools (create_entities, create_relations, add_observations, delete_entities,
delete_observations, delete_relations, read_graph, search_nodes, open_nodes), with ranked
search_nodes, plus Engram's own tools: remember, recall, forget, link.
Logs go to stderr; stdout carries only the protocol.

  --store S      where the memory lives (default ${DEFAULT_STORE}):
                 sqlite:./file.db, pglite:./dir, postgres://user@host/db, or http(s)://edge (with --token)
                 A sqlite: file is one server's: to share one memory between MCP clients, run
                 engram serve and give each engram mcp --store http://127.0.0.1:8787 --token T
  --ns N         the namespace (default "default")
  --sync-url U   also sync with this edge, so every machine the agent runs on shares the memory;
                 works offline and catches up when the edge is reachable
  --token T      token for an http(s) store or --sync-url (default: $ENGRAM_TOKEN)
  --search-extra N      search_nodes returns every entity that contains the query (the reference's
                 rule) and at most N more that only ranked search finds, best first (default ${SEARCH_EXTRA};
                 0: the reference's rule alone)
  --embedder openai:M   embed memories with any OpenAI-compatible /v1/embeddings model (OpenAI,
                 Ollama, vLLM, LM Studio): search_nodes and recall rank by text and meaning (hybrid)
  --embedder-url U      that API's base (default https://api.openai.com/v1; Ollama: http://localhost:11434/v1)
  --dims N       the model's vector length (default: asked of the API at start)
  --api-key K    the API's key (default: $OPENAI_API_KEY)

Example (an MCP client's configuration):
  { "mcpServers": { "memory": { "command": "npx", "args": ["engram", "mcp", "--store", "sqlite:./memory.db"] } } }`,

  async run(argv, io) {
    const flags = parseFlags(argv, {
      store: { type: 'string' },
      ns: { type: 'string' },
      'sync-url': { type: 'string' },
      token: { type: 'string' },
      embedder: { type: 'string' },
      'embedder-url': { type: 'string' },
      dims: { type: 'string' },
      'api-key': { type: 'string' },
      'search-extra': { type: 'string' },
    });
    if (flags.help) {
      io.out(this.help);
      return 0;
    }
    const namespace = parse(namespaceSchema, flags.ns ?? 'default', '--ns');
    const searchExtra = searchExtraFlag(flags['search-extra']);
    const token = flags.token ?? io.env.ENGRAM_TOKEN;
    const syncUrl = flags['sync-url'];
    if (syncUrl !== undefined) edgeUrlFlag(syncUrl, '--sync-url');
    if (syncUrl !== undefined && !token) throw new UsageError('--sync-url needs --token (or ENGRAM_TOKEN)');
    // Optional peers (they would take a browser app's install past its budget): checked before any work.
    await requirePeers(['@modelcontextprotocol/sdk', 'zod']);
    const embedder =
      flags.embedder === undefined
        ? undefined
        : await embedderFromFlags(
            { spec: flags.embedder, url: flags['embedder-url'], dims: flags.dims, apiKey: flags['api-key'] },
            io.env,
            '--embedder-url',
          );
    const store = await openMcpStore(flags.store ?? DEFAULT_STORE, token, namespace, io.cwd);
    // In the language the namespace is indexed in: one indexed in German refused createMemory's English.
    const mem = await openNamespace(store, namespace, {
      embedder,
      sync: syncUrl === undefined ? undefined : { url: syncUrl, token: token! },
    }).catch(async (error) => {
      // A memory that fails to open leaves its store open (the caller's): this one is ours to close.
      await store.close().catch(() => {});
      throw error;
    });
    // Loaded here, so the other commands do not pay for the MCP SDK at start-up.
    const [{ createMcpServer }, { StdioServerTransport }] = await Promise.all([
      import('../mcp/mcp-server.js'),
      import('@modelcontextprotocol/sdk/server/stdio.js'),
    ]);
    const { server, idle, detach } = createMcpServer(mem, {
      version: packageVersion(),
      hybrid: embedder !== undefined,
      searchExtra,
      // A sql.js file is saved whole: each write is saved before it answers, as the reference writes its
      // file. Postgres and an edge have committed it already.
      save: store instanceof SqlJsStore ? () => store.flush() : undefined,
    });
    const transport = new StdioServerTransport(io.stdin, io.stdout);

    // Clients stop a stdio server by closing its stdin, then SIGTERM: either way, finish the calls
    // under way and close the memory, which saves the SQLite file and stops sync.
    const ended = new Promise<void>((resolve) => {
      io.stdin.once('end', resolve);
      io.stdin.once('close', resolve);
      if (io.stop.aborted) resolve();
      io.stop.addEventListener('abort', () => resolve(), { once: true });
    });
    await server.connect(transport);
    io.err(`engram mcp: serving namespace "${namespace}" on stdio`);
    await ended;
    await idle();
    detach();
    await server.close().catch(() => {});
    // One last push, briefly: clients send SIGKILL a few seconds after closing stdin. What does not
    // get out now stays in the outbox and goes with the next start.
    if (syncUrl !== undefined) await withTimeout(mem.sync(), FINAL_SYNC_MS).catch(() => {});
    await mem.close();
    return 0;
  },
};

async function openMcpStore(
  value: string,
  token: string | undefined,
  namespace: string,
  cwd: string,
): Promise<MemoryStore> {
  const url = parseStoreUrl(value, '--store', cwd);
  if (url.kind === 'jsonl') throw new UsageError('--store: jsonl: files are for export/import; use sqlite:');
  if (url.kind !== 'sqlite') return openStoreUrl(url, { role: 'target', token, namespaces: [namespace] });
  // Each tool call saves what it wrote before answering; the debounced save covers the rest (embeddings
  // written in the background, changes a sync pulls).
  const store = new SqlJsStore({ persist: url.path });
  try {
    await store.open();
    return store;
  } catch (error) {
    const message = errorMessage(error);
    // Seen by the user only in the MCP client's log: the client itself says "Connection closed".
    const share = / is open in (process|another)/.test(message)
      ? '. To share one memory between MCP clients, run `engram serve` and start each with `engram mcp --store http://127.0.0.1:8787 --token T` (docs/agents.md)'
      : '';
    throw new SetupError(`cannot open ${url.shown}: ${message}${share}`);
  }
}

/** `--search-extra N`: 0 to the most one search returns. */
function searchExtraFlag(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!/^\d+$/.test(value) || n > LIMITS.searchLimit)
    throw new UsageError(`--search-extra: expected 0-${LIMITS.searchLimit}, got ${JSON.stringify(value)}`);
  return n;
}
