import type { MiddlewareHandler } from 'hono';
import { bodyCutOff, payloadTooLarge } from './errors.js';

/** Past this many bytes an over-limit body is no longer read to its end: the stream is cancelled. */
const MAX_DRAIN_BYTES = 64 * 1024 * 1024;

/**
 * 413 PAYLOAD_TOO_LARGE past `maxSize` bytes, from the declared `Content-Length` or, for a streamed
 * body, once it has read that many. Unlike Hono's `bodyLimit`, a streamed body found too large is read
 * to its end before the 413: left half read, Node resets the connection under a client still sending
 * and workerd holds back the next request on it, so the client saw a reset or a hang, not the 413.
 */
export function bodyLimit(maxSize: number): MiddlewareHandler {
  return async (c, next) => {
    const request = c.req.raw;
    if (!request.body) return next();
    const declared = request.headers.get('content-length');
    if (declared !== null && !request.headers.has('transfer-encoding')) {
      if (Number.parseInt(declared, 10) > maxSize) throw payloadTooLarge(maxSize);
      return next();
    }
    const reader = request.body.getReader();
    const chunks: Uint8Array[] = [];
    let size = 0;
    for (;;) {
      const { done, value } = await readChunk(reader);
      if (done) break;
      size += value.byteLength;
      if (size > maxSize) {
        await drain(reader, size);
        throw payloadTooLarge(maxSize);
      }
      chunks.push(value);
    }
    const body = new Uint8Array(size);
    let offset = 0;
    for (const chunk of chunks) {
      body.set(chunk, offset);
      offset += chunk.byteLength;
    }
    c.req.raw = new Request(request, { body });
    return next();
  };
}

async function readChunk(reader: ReadableStreamDefaultReader<Uint8Array>) {
  try {
    return await reader.read();
  } catch (error) {
    throw bodyCutOff(error);
  }
}

async function drain(reader: ReadableStreamDefaultReader<Uint8Array>, read: number): Promise<void> {
  try {
    for (let total = read; total <= MAX_DRAIN_BYTES; ) {
      const { done, value } = await reader.read();
      if (done) return;
      total += value.byteLength;
    }
    await reader.cancel();
  } catch {
    // The client went away: nothing left to drain.
  }
}
