import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { batchSize, namespaceList, parseFlags, port } from '../../src/cli/args.js';
import { cli } from './helpers.js';

// How every command reads its flags: the version, synopses that list every flag, negative numbers, and a
// flag given twice.
const version = (
  JSON.parse(readFileSync(join(import.meta.dirname, '../../package.json'), 'utf8')) as {
    version: string;
  }
).version;

describe('engram flags', () => {
  it('engram --version, -v and version print the package version', async () => {
    for (const argv of [['--version'], ['-v'], ['version']]) {
      const run = cli(argv);
      expect(await run.exit, argv.join(' ')).toBe(0);
      expect(run.out, argv.join(' ')).toEqual([version]);
      expect(run.err).toEqual([]);
    }
    const help = cli(['--help']);
    expect(await help.exit).toBe(0);
    expect(help.out.join('\n')).toMatch(/engram --version/);
  });

  it.each(['serve', 'token', 'doctor', 'export', 'import', 'migrate', 'reembed', 'mcp'])(
    '%s --help: the Usage line lists every flag the help describes',
    async (command) => {
      const run = cli([command, '--help']);
      expect(await run.exit).toBe(0);
      const text = run.out.join('\n');
      const usage = text.slice(0, text.indexOf('\n\n'));
      expect(usage).toMatch(/^Usage: engram /);
      const described = [...text.matchAll(/^ {2}(--[a-z-]+)/gm)].map((m) => m[1]!);
      expect(described.length).toBeGreaterThan(0);
      const listed = new Set([...usage.matchAll(/--[a-z-]+/g)].map((m) => m[0]));
      expect(described.filter((flag) => !listed.has(flag))).toEqual([]);
    },
  );

  it('a negative number says what was expected, exit 2', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['serve', '--port', '-1'], /^engram serve: --port: expected 0-65535, got "-1"/],
      [['serve', '--rate-limit', '-5'], /^engram serve: --rate-limit: expected a whole number .*got "-5"/],
      [['token', '--secret', 's', '--ns', 'a', '--ttl', '-5'], /^engram token: --ttl: expected .*got "-5"/],
      [
        ['doctor', '--url', 'http://x', '--token', 't', '--ns', 'a', '--count', '-3'],
        /--count: expected 1-1000, got "-3"/,
      ],
      [['export', '--from', 'sqlite:x.db', '--batch', '-1'], /--batch: expected 1-1000, got "-1"/],
      [
        ['reembed', '--store', 'sqlite:x.db', '--embedder', 'openai:m', '--dims', '-8'],
        /--dims: expected a positive integer, got "-8"/,
      ],
      [['export', '--from', '-x'], /^engram export: --from: expected a value, got "-x"/],
    ];
    for (const [argv, message] of cases) {
      const run = cli(argv);
      expect(await run.exit, argv.join(' ')).toBe(2);
      expect(run.err, argv.join(' ')).toEqual([expect.stringMatching(message)]);
      expect(run.err[0]).not.toMatch(/ambiguous/);
    }
  });

  it('a flag given twice is refused, naming it, exit 2', async () => {
    const cases: Array<[string[], string]> = [
      [['export', '--from', 'sqlite:a.db', '--from', 'sqlite:b.db'], '--from'],
      [['import', '--to', 'sqlite:a.db', '--to=sqlite:b.db'], '--to'],
      [
        ['migrate', '--from', 'sqlite:a.db', '--to', 'sqlite:b.db', '--batch', '5', '--batch', '6'],
        '--batch',
      ],
      [['serve', '--no-demo', '--no-demo'], '--no-demo'],
      [['token', '--secret', 's', '--ns', 'a', '--ns', 'b'], '--ns'],
    ];
    for (const [argv, flag] of cases) {
      const run = cli(argv);
      expect(await run.exit, argv.join(' ')).toBe(2);
      expect(run.err, argv.join(' ')).toEqual([
        `engram ${argv[0]}: ${flag}: given twice; give it once (see engram ${argv[0]} --help)`,
      ]);
    }
  });

  it('values out of range or of the wrong kind are refused before anything is opened, exit 2', async () => {
    const cases: Array<[string[], RegExp]> = [
      [
        ['reembed', '--store', 'sqlite:x.db', '--embedder', 'openai:m', '--batch', '1001'],
        /--batch: expected 1-1000/,
      ],
      [['reembed', '--store', 'jsonl:x.jsonl', '--embedder', 'openai:m'], /--store: .*not a jsonl: file/],
      [
        ['reembed', '--store', 'sqlite:x.db', '--embedder', 'openai:m', '--dims', '0'],
        /--dims: expected a positive integer, got "0"/,
      ],
      [
        ['reembed', '--store', 'sqlite:x.db', '--embedder', 'openai:m', '--dims', '1.5'],
        /--dims: expected a positive integer, got "1.5"/,
      ],
      [
        ['reembed', '--store', 'sqlite:x.db', '--embedder', 'my-openai:m'],
        /--embedder: expected openai:<model>/,
      ],
      [
        ['doctor', '--url', 'http://x', '--token', 't', '--ns', 'a', '--count', '1001'],
        /--count: expected 1-1000/,
      ],
      [
        ['doctor', '--url', 'http://x', '--token', 't', '--ns', 'a', '--timeout', '0'],
        /--timeout: expected a duration/,
      ],
      [
        ['doctor', '--url', 'http://x', '--token', 't', '--ns', 'a', '--timeout', '0ms'],
        /--timeout: expected a duration/,
      ],
    ];
    for (const [argv, message] of cases) {
      const run = cli(argv, {}, '/nonexistent');
      expect(await run.exit, argv.join(' ')).toBe(2);
      expect(run.err, argv.join(' ')).toEqual([expect.stringMatching(message)]);
    }
  });

  it('--batch takes 1 to the store batch limit (1000), no more', () => {
    expect(batchSize('1')).toBe(1);
    expect(batchSize('1000')).toBe(1000);
    expect(() => batchSize('1001')).toThrow('--batch: expected 1-1000, got "1001"');
    expect(() => batchSize('0')).toThrow('--batch: expected 1-1000');
    // Whole numbers written out only: what Number() also reads is no batch size.
    for (const value of ['1.5', '1e2', ' 5', '0x10', '']) {
      expect(() => batchSize(value), JSON.stringify(value)).toThrow('--batch: expected 1-1000');
    }
  });

  it('--port takes 0 to 65535, no more', () => {
    expect(port('0')).toBe(0);
    expect(port('65535')).toBe(65_535);
    expect(() => port('65536')).toThrow('--port: expected 0-65535, got "65536"');
    // An empty value is no port 0 (any free port), nor are the other forms Number() reads.
    for (const value of ['', ' 80', '0x50', '8e3', '80.0']) {
      expect(() => port(value), JSON.stringify(value)).toThrow(
        `--port: expected 0-65535, got ${JSON.stringify(value)}`,
      );
    }
  });

  it('-h and --help together ask for help once, not a flag given twice', () => {
    expect(parseFlags(['-h', '--help'], {})).toMatchObject({ help: true });
  });

  it('--ns of commas and spaces alone names no namespace and is refused; names are trimmed', () => {
    expect(namespaceList(' a , b,')).toEqual(['a', 'b']);
    expect(namespaceList(undefined)).toBeUndefined();
    for (const value of [',', ' , ', '']) {
      expect(() => namespaceList(value), JSON.stringify(value)).toThrow(
        '--ns: expected one or more namespaces, comma-separated',
      );
    }
  });

  it('--ns checks each name as a namespace, naming its place in the list', () => {
    for (const [value, field] of [
      ['a,b c', '--ns.1'],
      ['ü', '--ns.0'],
      [`a,${'n'.repeat(129)}`, '--ns.1'],
    ] as const) {
      expect(() => namespaceList(value), value).toThrow(
        expect.objectContaining({ code: 'VALIDATION', field }),
      );
    }
  });
});
