import { batchSize, namespaceList, parseFlags, required } from './args.js';
import type { Command } from './io.js';
import { parseStoreUrl } from './store-url.js';
import { runTransfer } from './transfer.js';

export const exportCommand: Command = {
  name: 'export',
  summary: 'write a store to stdout as JSON Lines (streamed, lossless)',
  help: `Usage: engram export --from <store> [--ns a,b] [--token T] [--batch 500] > dump.jsonl

Writes every memory, link and tombstone of a store to stdout, one JSON line each, in change order, with
ids, timestamps, clocks and embeddings: \`engram import\` rebuilds the same data anywhere. Streamed in
batches, so memory stays flat however large the store. Progress goes to stderr on a terminal only.

  --from <store>  postgres://user@host/db, sqlite:./file.db, pglite:./dir or http(s)://edge
  --ns a,b        only these namespaces (default: all; for http(s), those the token grants)
  --token T       token for an http(s) store (default: $ENGRAM_TOKEN)
  --batch 500     entries read per store call (1-1000)

Example:
  engram export --from postgres://postgres@127.0.0.1/engram --ns user-42 > user-42.jsonl`,

  async run(argv, io) {
    const flags = parseFlags(argv, {
      from: { type: 'string' },
      ns: { type: 'string' },
      token: { type: 'string' },
      batch: { type: 'string', default: '500' },
    });
    if (flags.help) {
      io.out(this.help);
      return 0;
    }
    return runTransfer(
      {
        verb: 'export',
        from: parseStoreUrl(required(flags.from, '--from'), '--from', io.cwd),
        to: 'stdout',
        namespaces: namespaceList(flags.ns),
        batchSize: batchSize(flags.batch),
        fromToken: flags.token ?? io.env.ENGRAM_TOKEN,
        toToken: undefined,
      },
      io,
    );
  },
};
