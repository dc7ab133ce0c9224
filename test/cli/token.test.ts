import { decode, verify } from 'hono/jwt';
import { describe, expect, it } from 'vitest';
import { cli } from './helpers.js';

/** 32 characters: the shortest secret taken without a warning. */
const LONG_SECRET = 'cli-secret-0123456789abcdef01234';
const warning = (length: number) =>
  `engram: warning: the secret is ${length} character${length === 1 ? '' : 's'} long; a secret shorter than 32 characters can be guessed from any token it signed, and whoever guesses it can mint tokens for every namespace (use a random one: openssl rand -hex 32)`;

describe('engram token', () => {
  it('prints only the token, granting the namespaces for the ttl', async () => {
    const run = cli(['token', '--secret', LONG_SECRET, '--ns', 'a,b', '--ttl', '2h']);
    expect(await run.exit).toBe(0);
    expect(run.out).toHaveLength(1);
    expect(run.err).toEqual([]);
    const token = run.out[0]!;
    expect(token).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
    expect(await verify(token, LONG_SECRET, 'HS256')).toMatchObject({ ns: ['a', 'b'] });
    const { payload } = decode(token);
    expect(payload.exp! - payload.iat!).toBe(7200);
  });

  it('warns on stderr when the secret is shorter than 32 characters; stdout still carries only the token', async () => {
    expect(LONG_SECRET).toHaveLength(32);
    const cases: Array<[string[], Record<string, string>, string]> = [
      [['--secret', 'cli-secret'], {}, 'cli-secret'],
      [['--secret', LONG_SECRET.slice(0, 31)], {}, LONG_SECRET.slice(0, 31)],
      [[], { ENGRAM_SECRET: 'from-env' }, 'from-env'],
      [['--secret', 'ä'.repeat(20)], {}, 'ä'.repeat(20)],
      // Counted in characters, not UTF-16 units: 20 emoji are 40 units.
      [['--secret', '🔑'.repeat(20)], {}, '🔑'.repeat(20)],
    ];
    for (const [flags, env, secret] of cases) {
      const run = cli(['token', ...flags, '--ns', 'a'], env);
      expect(await run.exit, secret).toBe(0);
      expect(run.err, secret).toEqual([warning([...secret].length)]);
      expect(run.out, secret).toHaveLength(1);
      expect(await verify(run.out[0]!, secret, 'HS256'), secret).toMatchObject({ ns: ['a'] });
    }
    for (const secret of [LONG_SECRET, 'x'.repeat(64)]) {
      const run = cli(['token', '--secret', secret, '--ns', 'a']);
      expect(await run.exit).toBe(0);
      expect(run.err, secret).toEqual([]);
    }
  });

  it('skips empty names in --ns (a stray comma or space)', async () => {
    const run = cli(['token', '--secret', LONG_SECRET, '--ns', 'a,, b ,']);
    expect(await run.exit).toBe(0);
    expect(decode(run.out[0]!).payload).toMatchObject({ ns: ['a', 'b'] });
  });

  it('takes the secret from ENGRAM_SECRET and defaults the ttl to 1h', async () => {
    const run = cli(['token', '--ns', 'solo'], { ENGRAM_SECRET: 'from-env' });
    expect(await run.exit).toBe(0);
    const { payload } = decode(run.out[0]!);
    expect(payload.exp! - payload.iat!).toBe(3600);
    await expect(verify(run.out[0]!, 'from-env', 'HS256')).resolves.toBeTruthy();
  });

  it('takes an empty ENGRAM_SECRET or --ns for a missing one, exit 2', async () => {
    const cases: Array<[string[], Record<string, string>, string]> = [
      [['token', '--ns', 'a'], { ENGRAM_SECRET: '' }, '--secret (or ENGRAM_SECRET)'],
      [['token', '--secret', LONG_SECRET, '--ns', ''], {}, '--ns'],
    ];
    for (const [argv, env, flag] of cases) {
      const run = cli(argv, env);
      expect(await run.exit, argv.join(' ')).toBe(2);
      expect(run.err).toEqual([`engram token: missing ${flag} (see engram token --help)`]);
      expect(run.out).toEqual([]);
    }
  });

  it('exits 2 with one line on stderr for bad or missing flags', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['token', '--ns', 'a'], /missing --secret/],
      [['token', '--secret', 's'], /missing --ns/],
      [['token', '--secret', 's', '--ns', 'a', '--bogus'], /Unknown option '--bogus'/],
      [
        ['token', '--secret', 's', '--ns', 'a', '--ttl', 'forever'],
        /--ttl: expected seconds or a duration like 30s/,
      ],
      [['token', '--secret', 's', '--ns', 'no spaces'], /ns\.0/],
      [['token', '--secret'], /argument missing/],
      [['token', 'extra'], /Unexpected argument 'extra'/],
      [['frobnicate'], /unknown command "frobnicate"/],
    ];
    for (const [argv, message] of cases) {
      const run = cli(argv);
      expect(await run.exit, argv.join(' ')).toBe(2);
      expect(run.out, argv.join(' ')).toEqual([]);
      expect(run.err, argv.join(' ')).toHaveLength(1);
      expect(run.err[0]).toMatch(message);
    }
  });

  it('explains itself with --help and an example, on every command', async () => {
    const commands = ['serve', 'token', 'doctor', 'export', 'import', 'migrate'];
    for (const name of commands) {
      const run = cli([name, '--help']);
      expect(await run.exit).toBe(0);
      const text = run.out.join('\n');
      expect(text).toContain(`Usage: engram ${name}`);
      expect(text).toMatch(/^Examples?:/m);
    }
    const top = cli(['--help']);
    expect(await top.exit).toBe(0);
    for (const name of commands) expect(top.out.join('\n')).toMatch(new RegExp(`^  ${name} `, 'm'));
    for (const alias of ['-h', 'help']) {
      const same = cli([alias]);
      expect(await same.exit, alias).toBe(0);
      expect(same.out, alias).toEqual(top.out);
    }
    const none = cli([]);
    expect(await none.exit).toBe(2);
  });
});
