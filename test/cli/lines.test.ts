import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { MAX_LINE, openJsonlFile, readLines, writeLines } from '../../src/cli/lines.js';

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

/** The lines as the async source an export hands over. */
async function* source(...lines: string[]): AsyncGenerator<string> {
  yield* lines;
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

describe('readLines at the end of its input', () => {
  it('ends a truncated last character as U+FFFD, so a cut file is a bad line, not a silently shorter one', async () => {
    const bytes = new TextEncoder().encode('{"a":1}\n{"b":"é"}');
    expect(await all([bytes.subarray(0, bytes.length - 3)])).toEqual(['{"a":1}', '{"b":"\ufffd']);
    expect(await all([new TextEncoder().encode('a\n'), new Uint8Array([0xc3])])).toEqual(['a', '\ufffd']);
  });
});

describe('writeLines', () => {
  it('tells a reader that went away (EPIPE) as such, and passes other write errors on unchanged', async () => {
    const failing = (code: string) =>
      new Writable({
        write(_chunk, _encoding, done) {
          done(Object.assign(new Error(`write ${code}`), { code }));
        },
      });
    const signal = new AbortController().signal;
    await expect(writeLines(failing('EPIPE'), source('a'), signal)).rejects.toThrow(
      'stdout was closed before the export finished (EPIPE)',
    );
    await expect(writeLines(failing('ENOSPC'), source('b'), signal)).rejects.toThrow('write ENOSPC');
  });
});

describe('openJsonlFile', () => {
  it('leaves the previous file as it was and no temporary file behind when the lines fail midway', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'engram-lines-'));
    try {
      const target = join(dir, 'dump.jsonl');
      await writeFile(target, 'before\n');
      const file = await openJsonlFile(target);
      const failing = (async function* () {
        yield 'one';
        throw new Error('the source failed');
      })();
      await expect(file.write(failing, new AbortController().signal)).rejects.toThrow('the source failed');
      expect(await readdir(dir)).toEqual(['dump.jsonl']);
      expect(await readFile(target, 'utf8')).toBe('before\n');

      const again = await openJsonlFile(target);
      await again.write(source('after'), new AbortController().signal);
      expect(await readdir(dir)).toEqual(['dump.jsonl']);
      expect(await readFile(target, 'utf8')).toBe('after\n');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('makes the directories the path names that are not there yet', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'engram-lines-'));
    try {
      const target = join(dir, 'backups', 'daily', 'dump.jsonl');
      const file = await openJsonlFile(target);
      await file.write(source('one', 'two'), new AbortController().signal);
      expect(await readFile(target, 'utf8')).toBe('one\ntwo\n');
      expect(await readdir(join(dir, 'backups', 'daily'))).toEqual(['dump.jsonl']);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
