import { describe, expect, it } from 'vitest';
import { MAX_LINE, readLines } from '../../src/cli/lines.js';

async function all(chunks: Array<string | Uint8Array>): Promise<string[]> {
  const out: string[] = [];
  for await (const line of readLines(
    (async function* () {
      yield* chunks;
    })(),
  ))
    out.push(line);
  return out;
}

describe('readLines', () => {
  it('joins lines across chunks, drops CR and a BOM, keeps a last line without newline', async () => {
    const bytes = new TextEncoder().encode('\ufeff{"a":1}\r\n{"b":"é"}\n\n{"c"');
    const chunks = [bytes.subarray(0, 5), bytes.subarray(5, 13), bytes.subarray(13, 20), bytes.subarray(20)];
    expect(await all(chunks)).toEqual(['{"a":1}', '{"b":"é"}', '', '{"c"']);
    expect(await all(['a\nb', 'c\n', 'd'])).toEqual(['a', 'bc', 'd']);
    expect(await all([])).toEqual([]);
  });

  it('decodes a character whose UTF-8 bytes are split between chunks', async () => {
    const bytes = new TextEncoder().encode('{"c":"é€😀"}\n');
    // Cut inside é (2 bytes), € (3 bytes) and 😀 (4 bytes).
    const cuts = [0, 7, 10, 14, bytes.length];
    const chunks = cuts.slice(1).map((end, i) => bytes.subarray(cuts[i], end));
    expect(await all(chunks)).toEqual(['{"c":"é€😀"}']);
  });

  it('refuses a line longer than MAX_LINE, naming it, without gathering it whole', async () => {
    const piece = 'x'.repeat(1024 * 1024);
    const lines = readLines(
      (async function* () {
        yield 'first\n';
        for (let i = 0; i < 64; i++) yield piece;
      })(),
    );
    const seen: string[] = [];
    const error = await (async () => {
      for await (const line of lines) seen.push(line);
    })().catch((e: unknown) => e);
    expect(seen).toEqual(['first']);
    expect(error).toMatchObject({ code: 'VALIDATION', field: 'line.2' });
    expect(MAX_LINE).toBeLessThan(64 * piece.length);
  });

  it('refuses a line that passes MAX_LINE only in the chunk where it ends', async () => {
    const lines = readLines(
      (async function* () {
        yield 'x'.repeat(MAX_LINE);
        yield 'y\nnext\n';
      })(),
    );
    const error = await (async () => {
      for await (const _ of lines);
    })().catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'VALIDATION', field: 'line.1' });
    expect(await all(['x'.repeat(MAX_LINE - 1), 'y\n'])).toEqual([`${'x'.repeat(MAX_LINE - 1)}y`]);
  });
});
