import { decode, verify } from 'hono/jwt';
import { describe, expect, it } from 'vitest';
import { cli } from './helpers.js';

describe('engram token', () => {
  it('prints only the token, granting the namespaces for the ttl', async () => {
    const run = cli(['token', '--secret', 'cli-secret', '--ns', 'a,b', '--ttl', '2h']);
    expect(await run.exit).toBe(0);
    expect(run.out).toHaveLength(1);
    expect(run.err).toEqual([]);
    const token = run.out[0]!;
    expect(token).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
    expect(await verify(token, 'cli-secret', 'HS256')).toMatchObject({ ns: ['a', 'b'] });
    const { payload } = decode(token);
    expect(payload.exp! - payload.iat!).toBe(7200);
  });

  it('takes the secret from ENGRAM_SECRET and defaults the ttl to 1h', async () => {
    const run = cli(['token', '--ns', 'solo'], { ENGRAM_SECRET: 'from-env' });
    expect(await run.exit).toBe(0);
    const { payload } = decode(run.out[0]!);
    expect(payload.exp! - payload.iat!).toBe(3600);
    await expect(verify(run.out[0]!, 'from-env', 'HS256')).resolves.toBeTruthy();
  });

  it('exits 2 with one line on stderr for bad or missing flags', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['token', '--ns', 'a'], /missing --secret/],
      [['token', '--secret', 's'], /missing --ns/],
      [['token', '--secret', 's', '--ns', 'a', '--bogus'], /Unknown option '--bogus'/],
      [['token', '--secret', 's', '--ns', 'a', '--ttl', 'forever'], /ttl/],
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
    const none = cli([]);
    expect(await none.exit).toBe(2);
  });
});
