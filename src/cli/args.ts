import { type ParseArgsConfig, parseArgs } from 'node:util';
import { errorMessage } from '../core/errors.js';
import { LIMITS, namespaceSchema, parse } from '../core/validate.js';
import { UsageError } from './io.js';

type Options = NonNullable<ParseArgsConfig['options']>;

/**
 * `parseArgs`, strict, with `--help` on every command and its errors cut to one line. Node's messages
 * run on with advice about `--`; the first sentence is what a user needs. A negative number after a flag
 * is its value (`--port -1`), for the flag's own check to refuse with what it expects; any other value
 * starting with a dash is refused as one, and a flag given twice is refused unless declared `multiple`.
 */
export function parseFlags<O extends Options>(argv: string[], options: O) {
  const help = { help: { type: 'boolean', short: 'h' } } as const;
  const all: Options = { ...options, ...help };
  const args = negativeValuesJoined(argv, all);
  const parse = () =>
    parseArgs({
      args,
      options: { ...options, ...help },
      strict: true,
      allowPositionals: false,
      tokens: true,
    });
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse();
  } catch (error) {
    const message = errorMessage(error);
    const ambiguous = /^Option '(--[^' ]+)' argument is ambiguous/.exec(message)?.[1];
    if (ambiguous) {
      const value = args[args.indexOf(ambiguous) + 1];
      throw new UsageError(
        `${ambiguous}: expected a value, got ${JSON.stringify(value)}, which reads as a flag (write ${ambiguous}=${value} if it is the value)`,
      );
    }
    throw new UsageError(message.split(/\.\s/)[0]!.replace(/\.$/, ''));
  }
  const seen = new Set<string>();
  for (const token of parsed.tokens) {
    if (token.kind !== 'option' || token.name === 'help' || all[token.name]?.multiple) continue;
    if (seen.has(token.name)) throw new UsageError(`--${token.name}: given twice; give it once`);
    seen.add(token.name);
  }
  return parsed.values;
}

/** `--flag -5` as `--flag=-5` for a flag taking a value: parseArgs would take -5 for a flag of its own. */
function negativeValuesJoined(argv: string[], options: Options): string[] {
  const args: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const next = argv[i + 1];
    const takesValue = arg.startsWith('--') && options[arg.slice(2)]?.type === 'string';
    if (takesValue && next !== undefined && /^-\d/.test(next)) {
      args.push(`${arg}=${next}`);
      i++;
    } else {
      args.push(arg);
    }
  }
  return args;
}

/** A flag that must be present, from the flag itself or an environment fallback. */
export function required(value: string | undefined, flag: string): string {
  if (value === undefined || value === '') throw new UsageError(`missing ${flag}`);
  return value;
}

export function port(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n > 65_535)
    throw new UsageError(`--port: expected 0-65535, got ${JSON.stringify(value)}`);
  return n;
}

/** `--ns a,b`: each name checked like any namespace; undefined when the flag is absent. */
export function namespaceList(value: string | undefined): string[] | undefined {
  if (value === undefined) return undefined;
  const names = value
    .split(',')
    .map((n) => n.trim())
    .filter(Boolean);
  if (names.length === 0) throw new UsageError('--ns: expected one or more namespaces, comma-separated');
  return names.map((name, i) => parse(namespaceSchema, name, `--ns.${i}`));
}

/** `--batch N`: entries per store call, 1 to LIMITS.batch. */
export function batchSize(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1 || n > LIMITS.batch)
    throw new UsageError(`--batch: expected 1-${LIMITS.batch}, got ${JSON.stringify(value)}`);
  return n;
}
