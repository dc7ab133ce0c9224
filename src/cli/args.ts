import { type ParseArgsConfig, parseArgs } from 'node:util';
import { LIMITS, namespaceSchema, parse } from '../core/validate.js';
import { UsageError } from './io.js';

type Options = NonNullable<ParseArgsConfig['options']>;

/**
 * `parseArgs`, strict, with `--help` on every command and its errors cut to one line. Node's messages
 * run on with advice about `--`; the first sentence is what a user needs.
 */
export function parseFlags<O extends Options>(argv: string[], options: O) {
  try {
    return parseArgs({
      args: argv,
      options: { ...options, help: { type: 'boolean', short: 'h' } },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new UsageError(message.split(/\.\s/)[0]!.replace(/\.$/, ''));
  }
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
