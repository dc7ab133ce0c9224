import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

/** Lines are written to the output in chunks of about this size: one write per line would crawl. */
const CHUNK = 64 * 1024;

/**
 * The lines of a byte stream, pulled as the consumer asks for them: while an import batch is being
 * written, nothing more is read, so memory holds one chunk and one batch whatever the input's size.
 * A UTF-8 byte order mark and CRLF endings are accepted.
 */
export async function* readLines(
  input: AsyncIterable<Uint8Array | string>,
  onBytes?: (bytes: number) => void,
): AsyncGenerator<string> {
  const decoder = new TextDecoder('utf-8');
  let rest = '';
  for await (const chunk of input) {
    onBytes?.(chunk.length);
    rest += typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true });
    let start = 0;
    for (let end = rest.indexOf('\n'); end !== -1; end = rest.indexOf('\n', start)) {
      yield withoutCr(rest.slice(start, end));
      start = end + 1;
    }
    rest = rest.slice(start);
  }
  rest += decoder.decode();
  if (rest !== '') yield withoutCr(rest);
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
 * stream is left open (it is stdout).
 */
export async function writeLines(
  output: Writable,
  lines: AsyncIterable<string>,
  signal: AbortSignal,
): Promise<void> {
  try {
    await pipeline(chunked(lines), output, { end: false, signal });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPIPE') throw error;
    throw new Error('stdout was closed before the export finished (EPIPE)', { cause: error });
  }
}

/**
 * Writes a JSON Lines file whole or not at all: into a temporary file beside it, flushed to disk and
 * renamed over the old one only once every line is written. A failed or interrupted run leaves the
 * previous file as it was.
 */
export async function writeJsonlFile(
  path: string,
  lines: AsyncIterable<string>,
  signal: AbortSignal,
): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const temp = join(dirname(path), `.${basename(path)}.${crypto.randomUUID()}.tmp`);
  try {
    await pipeline(chunked(lines), createWriteStream(temp, { flush: true }), { signal });
    await rename(temp, path);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}
