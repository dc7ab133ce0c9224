import { mintToken, parseTtl } from '../edge/token.js';
import { parseFlags, required } from './args.js';
import { type Command, UsageError } from './io.js';
import { warnIfShortSecret } from './short-secret.js';

export const tokenCommand: Command = {
  name: 'token',
  summary: 'mint a token for namespaces (prints only the token)',
  help: `Usage: engram token --secret S --ns a,b [--ttl 1h]

Mints an HS256 token granting exactly the listed namespaces, and prints only the token.

  --secret S   the server secret (default: $ENGRAM_SECRET); under 32 characters, a warning on stderr
  --ns a,b     namespaces the token may touch, comma-separated
  --ttl 1h     lifetime: seconds or 30s, 15m, 1h, 7d, 2w (default 1h)

Example:
  TOKEN=$(engram token --secret "$ENGRAM_SECRET" --ns user-42 --ttl 7d)
  curl -H "Authorization: Bearer $TOKEN" http://127.0.0.1:8787/v1/ns/user-42/memories`,

  async run(argv, io) {
    const flags = parseFlags(argv, {
      secret: { type: 'string' },
      ns: { type: 'string' },
      ttl: { type: 'string' },
    });
    if (flags.help) {
      io.out(this.help);
      return 0;
    }
    const secret = required(flags.secret ?? io.env.ENGRAM_SECRET, '--secret (or ENGRAM_SECRET)');
    const ns = required(flags.ns, '--ns')
      .split(',')
      .map((n) => n.trim())
      .filter(Boolean);
    const ttl = flags.ttl ?? '1h';
    try {
      parseTtl(ttl);
    } catch {
      throw new UsageError(
        `--ttl: expected seconds or a duration like 30s, 15m, 1h, 7d, 2w, got ${JSON.stringify(ttl)}`,
      );
    }
    const token = await mintToken({ secret, ns, ttl });
    warnIfShortSecret(io, secret);
    io.out(token);
    return 0;
  },
};
