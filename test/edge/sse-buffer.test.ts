import { describe, expect, it } from 'vitest';
import { sseStream } from '../../src/edge/live/sse.js';

async function readAll(stream: ReadableStream<Uint8Array>): Promise<string> {
  const decoder = new TextDecoder();
  let text = '';
  for await (const chunk of stream as unknown as AsyncIterable<Uint8Array>) text += decoder.decode(chunk);
  return text;
}

describe('SSE stream buffer', () => {
  it('ends a stream whose client stops reading, instead of holding every event for it', async () => {
    let listener: ((seq?: number) => void) | undefined;
    let subscribed = 0;
    let closed = 0;
    const stream = sseStream({
      subscribe: (l) => {
        listener = l;
        subscribed++;
        return () => {
          listener = undefined;
          subscribed--;
        };
      },
      heartbeatMs: 60_000,
      maxBufferedBytes: 4096,
      onClose: () => closed++,
    });
    // Nobody reads: 1,000 changes (~40 KB) pile up past the 4 KiB allowed.
    for (let seq = 1; seq <= 1000 && listener; seq++) listener(seq);
    expect(subscribed).toBe(0);
    expect(closed).toBe(1);
    // What was buffered still reads, then the stream ends (the client reconnects with Last-Event-ID).
    const text = await readAll(stream);
    const changes = text.match(/event: change/g) ?? [];
    expect(changes.length).toBeGreaterThan(10);
    expect(changes.length).toBeLessThan(200);
  });

  it('keeps a stream whose client reads as events come', async () => {
    let listener: ((seq?: number) => void) | undefined;
    const stream = sseStream({
      subscribe: (l) => {
        listener = l;
        return () => {
          listener = undefined;
        };
      },
      heartbeatMs: 60_000,
      maxBufferedBytes: 4096,
    });
    const reader = stream.getReader();
    const decoder = new TextDecoder();
    let seen = 0;
    for (let seq = 1; seq <= 1000; seq++) {
      listener!(seq);
      const { value } = await reader.read();
      seen += (decoder.decode(value).match(/event: change/g) ?? []).length;
    }
    expect(listener).toBeDefined();
    expect(seen).toBeGreaterThanOrEqual(999);
    await reader.cancel();
    expect(listener).toBeUndefined();
  });
});
