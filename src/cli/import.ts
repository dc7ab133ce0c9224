import { batchSize, namespaceList, parseFlags, required } from './args.js';
import { detectFormat, type ImportFormat, importServerMemory } from './import-graph.js';
import { type Command, UsageError } from './io.js';
import { parseStoreUrl } from './store-url.js';
import { runTransfer } from './transfer.js';

const FORMATS: readonly ImportFormat[] = ['engram', 'server-memory'];

export const importCommand: Command = {
  name: 'import',
  summary: 'read JSON Lines from stdin into a store (idempotent: safe to re-run)',
  help: `Usage: engram import --to <store> [--restore] [--ns a,b] [--token T] [--batch 500] < dump.jsonl
       engram import --to <store> [--ns N] [--token T] [--format server-memory] < memory.jsonl

Reads what \`engram export\` wrote from stdin and merges it into a store, batch by batch. Every line is
checked like any write. Records merge by their clocks, so re-running an import (after a failure,
say) changes nothing already there. A sqlite: file is created if missing and saved when the import
ends. Progress goes to stderr on a terminal only.

The memory.jsonl of the MCP memory server @modelcontextprotocol/server-memory (its MEMORY_FILE_PATH) is
told apart by its first line and imported as \`engram mcp\` keeps a knowledge graph, into one namespace:
every line is checked first, and a bad one writes nothing. Entities and relations already there are
kept as they are, so re-running it changes nothing either.

  --to <store>    postgres://user@host/db, sqlite:./file.db, pglite:./dir or http(s)://edge
  --restore       make each namespace of the dump equal to it: later edits are overwritten, later
                  additions removed, deleted records brought back (under <id>.r1: see docs/lifecycle.md);
                  the whole dump is checked before anything is written
  --ns a,b        only lines of these namespaces (default: all); for a memory.jsonl, the one
                  namespace to import into (default "default", as engram mcp's)
  --token T       token for an http(s) store (default: $ENGRAM_TOKEN)
  --batch 500     entries written per store call (1-1000)
  --format F      engram or server-memory, instead of telling them apart by the first line

Examples:
  engram import --to sqlite:./memory.db < user-42.jsonl
  engram import --to sqlite:./engram-memory.db --ns my-agent < memory.jsonl`,

  async run(argv, io) {
    const flags = parseFlags(argv, {
      to: { type: 'string' },
      ns: { type: 'string' },
      token: { type: 'string' },
      batch: { type: 'string' },
      restore: { type: 'boolean', default: false },
      format: { type: 'string' },
    });
    if (flags.help) {
      io.out(this.help);
      return 0;
    }
    const to = parseStoreUrl(required(flags.to, '--to'), '--to', io.cwd);
    const token = flags.token ?? io.env.ENGRAM_TOKEN;
    const batch = batchSize(flags.batch ?? '500');
    const given = flags.format;
    if (given !== undefined && !FORMATS.includes(given as ImportFormat))
      throw new UsageError(`--format: expected engram or server-memory, got ${JSON.stringify(given)}`);
    // A terminal is refused by the transfer, before anything would wait on it.
    const { format, input } =
      given === 'engram' || io.stdin.isTTY
        ? { format: (given ?? 'engram') as ImportFormat, input: io.stdin }
        : given === 'server-memory'
          ? { format: given, input: io.stdin }
          : await detectFormat(io);
    if (format === 'server-memory') {
      if (io.stdin.isTTY)
        throw new UsageError(
          'expects a memory.jsonl on stdin, e.g. engram import --to sqlite:./memory.db < memory.jsonl',
        );
      if (flags.restore) throw new UsageError('--restore: only for an Engram export, not a memory.jsonl');
      if (flags.batch !== undefined)
        throw new UsageError('--batch: only for an Engram export, not a memory.jsonl');
      const names = namespaceList(flags.ns);
      if (names && names.length > 1)
        throw new UsageError('--ns: a memory.jsonl goes into one namespace; name one');
      return importServerMemory({ to, namespace: names?.[0] ?? 'default', token }, input, io);
    }
    return runTransfer(
      {
        verb: 'import',
        from: 'stdin',
        to,
        namespaces: namespaceList(flags.ns),
        batchSize: batch,
        fromToken: undefined,
        toToken: token,
        restore: flags.restore === true,
      },
      { ...io, stdin: input },
    );
  },
};
