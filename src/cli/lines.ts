import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { followLinks, keepOwnerAndMode } from '../backends/sqljs/file-persistence.js';
import { untilAborted } from '../core/abort.js';
import { EngramError } from '../core/errors.js';

/** Lines are written to the output in chunks of about this size: one write per line would crawl. */
const CHUNK = 64 * 1024;

/**
 * The longest line read, in UTF-16 units: an export line holds one record (64 KiB of content, 64 KiB of
 * metadata, an embedding, clocks), far below it. Past it the input is no Engram dump.
 */
export const MAX_LINE = 16 * 1024 * 1024;

/**
 * The lines of a byte stream, pulled as the consumer asks for them: while an import batch is being
 * written, nothing more is read, so memory holds one chunk and one batch whatever the input's size.
 * A UTF-8 byte order mark and CRLF endings are accepted. Each chunk is searched for line ends once (a
 * line spanning many chunks is joined once, not rescanned per chunk), and a line longer than
 * `MAX_LINE` is refused, naming it, instead of being gathered whole.
 */
export async function* readLines(
  input: AsyncIterable<Uint8Array | string>,
  onBytes?: (bytes: number) => void,
): AsyncGenerator<string> {
  const decoder = new TextDecoder('utf-8');
  let parts: string[] = [];
  let partLength = 0;
  let number = 0;
  const tooLong = () =>
    new EngramError(
      'VALIDATION',
      `line ${number + 1}: longer than ${MAX_LINE / 1024 / 1024} Mi characters, which no Engram export line is`,
      { field: `line.${number + 1}` },
    );
  function* take(text: string): Generator<string> {
    let start = 0;
    for (let end = text.indexOf('\n'); end !== -1; end = text.indexOf('\n', start)) {
      if (partLength + end - start > MAX_LINE) throw tooLong();
      parts.push(text.slice(start, end));
      const line = parts.length === 1 ? parts[0]! : parts.join('');
      parts = [];
      partLength = 0;
      number++;
      yield withoutCr(line);
      start = end + 1;
    }
    if (start < text.length) {
      partLength += text.length - start;
      if (partLength > MAX_LINE) throw tooLong();
      parts.push(text.slice(start));
    }
  }
  for await (const chunk of input) {
    onBytes?.(chunk.length);
    yield* take(typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true }));
  }
  yield* take(decoder.decode());
  if (parts.length > 0) yield withoutCr(parts.join(''));
}

function withoutCr(line: string): string {
  return line.endsWith('\r') ? line.slice(0, -1) : line;
}

/** Lines joined into chunks, each line ending in a newline. */
async function* chunked(lines: AsyncIterable<string>): AsyncGenerator<string> {
  let buffer = '';
  for await (const line of lines) {
    buffer += `${line}\n`;
    if (buffer.length >= CHUNK) {
      yield buffer;
      buffer = '';
    }
  }
  if (buffer !== '') yield buffer;
}

/**
 * Writes lines to a stream through `pipeline`, which waits for 'drain' whenever the stream's buffer is
 * full: a slow reader on the other end of a pipe slows the export instead of filling memory. The
 * stream is left open (it is stdout). The wait also ends when `signal` aborts: a pipeline that leaves
 * its output open never settles on abort while that output waits for a reader that stopped reading
 * (a stalled pipe), which would leave SIGTERM unanswered.
 */
export async function writeLines(
  output: Writable,
  lines: AsyncIterable<string>,
  signal: AbortSignal,
): Promise<void> {
  try {
    await untilAborted(pipeline(chunked(lines), output, { end: false, signal }), signal);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPIPE') throw error;
    throw new Error('stdout was closed before the export finished (EPIPE)', { cause: error });
  }
}

/** A JSON Lines file being written whole or not at all. */
export interface JsonlFile {
  /**
   * Writes every line into the temporary file beside the target, flushed to disk, and renames it over
   * the target. A failed or interrupted run removes it and leaves the previous file as it was.
   */
  write(lines: AsyncIterable<string>, signal: AbortSignal): Promise<void>;
  /** Removes the temporary file if it is still there (nothing was written, or the write failed). */
  discard(): Promise<void>;
}

/**
 * Opens a JSON Lines file for writing, before anything is read: a path that is a directory, or one whose
 * directory no file can be made in, fails here (the temporary file is made now). A symbolic link is
 * followed, so the file it points to is replaced, keeping its mode (and owner, where allowed).
 */
export async function openJsonlFile(path: string): Promise<JsonlFile> {
  const target = await followLinks(path);
  const before = await stat(target).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    throw error;
  });
  if (before && !before.isFile()) throw new Error(before.isDirectory() ? 'is a directory' : 'not a file');
  await mkdir(dirname(target), { recursive: true });
  const temp = join(dirname(target), `.${basename(target)}.${crypto.randomUUID()}.tmp`);
  await writeFile(temp, '', { flag: 'wx' });
  const discard = () => rm(temp, { force: true });
  return {
    async write(lines, signal) {
      try {
        await pipeline(chunked(lines), createWriteStream(temp, { flush: true }), { signal });
        if (before) await keepOwnerAndMode(temp, before);
        await rename(temp, target);
      } catch (error) {
        await discard();
        throw error;
      }
    },
    discard,
  };
}
