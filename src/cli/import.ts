import { batchSize, namespaceList, parseFlags, required } from './args.js';
import type { Command } from './io.js';
import { parseStoreUrl } from './store-url.js';
import { runTransfer } from './transfer.js';

export const importCommand: Command = {
  name: 'import',
  summary: 'read JSON Lines from stdin into a store (idempotent: safe to re-run)',
  help: `Usage: engram import --to <store> [--restore] [--ns a,b] [--token T] [--batch 500] < dump.jsonl

Reads what \`engram export\` wrote from stdin and merges it into a store, batch by batch. Every line is
checked like any write. Records merge by their clocks, so re-running an import (after a failure,
say) changes nothing already there. A sqlite: file is created if missing and saved when the import
ends. Progress goes to stderr on a terminal only.

  --to <store>    postgres://user@host/db, sqlite:./file.db or http(s)://edge
  --restore       make each namespace of the dump equal to it: later edits are overwritten, later
                  additions removed, deleted records brought back (under <id>.r1: see docs/lifecycle.md);
                  the whole dump is checked before anything is written
  --ns a,b        only lines of these namespaces (default: all)
  --token T       token for an http(s) store (default: $ENGRAM_TOKEN)
  --batch 500     entries written per store call (1-1000)

Example:
  engram import --to sqlite:./memory.db < user-42.jsonl`,

  async run(argv, io) {
    const flags = parseFlags(argv, {
      to: { type: 'string' },
      ns: { type: 'string' },
      token: { type: 'string' },
      batch: { type: 'string', default: '500' },
      restore: { type: 'boolean', default: false },
    });
    if (flags.help) {
      io.out(this.help);
      return 0;
    }
    return runTransfer(
      {
        verb: 'import',
        from: 'stdin',
        to: parseStoreUrl(required(flags.to, '--to'), '--to', io.cwd),
        namespaces: namespaceList(flags.ns),
        batchSize: batchSize(flags.batch),
        fromToken: undefined,
        toToken: flags.token ?? io.env.ENGRAM_TOKEN,
        restore: flags.restore === true,
      },
      io,
    );
  },
};
