import { batchSize, namespaceList, parseFlags, required } from './args.js';
import type { Command } from './io.js';
import { parseStoreUrl } from './store-url.js';
import { runTransfer } from './transfer.js';

export const migrateCommand: Command = {
  name: 'migrate',
  summary: 'copy everything from one store to another (streamed, idempotent)',
  help: `Usage: engram migrate --from <store> --to <store> [--ns a,b] [--token T] [--from-token T] [--to-token T] [--batch 500]

Copies every memory, link and tombstone from one store to another, batch by batch, keeping ids,
timestamps, clocks and embeddings. Records merge by their clocks, so re-running it is safe and
copies only what changed. Either end may be a jsonl: file (not both). A progress line is drawn on
stderr when it is a terminal.

  --from <store>    postgres://user@host/db, sqlite:./file.db, pglite:./dir, http(s)://edge, jsonl:./file
  --to <store>      the same kinds; a sqlite:, pglite: or jsonl: target is created if missing
  --ns a,b          only these namespaces (default: all; for an http(s) source, those the token grants)
  --token T         token for http(s) stores (default: $ENGRAM_TOKEN)
  --from-token T    token for an http(s) source, when the two ends need different ones
  --to-token T      token for an http(s) target
  --batch 500       entries per store call (1-1000)

Example:
  engram migrate --from sqlite:./memory.db --to https://memory.example.com --token "$TOKEN"`,

  async run(argv, io) {
    const flags = parseFlags(argv, {
      from: { type: 'string' },
      to: { type: 'string' },
      ns: { type: 'string' },
      token: { type: 'string' },
      'from-token': { type: 'string' },
      'to-token': { type: 'string' },
      batch: { type: 'string', default: '500' },
    });
    if (flags.help) {
      io.out(this.help);
      return 0;
    }
    const token = flags.token ?? io.env.ENGRAM_TOKEN;
    return runTransfer(
      {
        verb: 'migrate',
        from: parseStoreUrl(required(flags.from, '--from'), '--from', io.cwd),
        to: parseStoreUrl(required(flags.to, '--to'), '--to', io.cwd),
        namespaces: namespaceList(flags.ns),
        batchSize: batchSize(flags.batch),
        fromToken: flags['from-token'] ?? token,
        toToken: flags['to-token'] ?? token,
      },
      io,
    );
  },
};
