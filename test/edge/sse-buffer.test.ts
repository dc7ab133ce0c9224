import { getEventListeners } from 'node:events';
import { describe, expect, it, vi } from 'vitest';
import { MAX_TIMER_MS } from '../../src/core/validate.js';
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

describe('SSE stream end', () => {
  const quiet = { subscribe: () => () => {}, heartbeatMs: 60_000 };

  it('leaves no timer and no abort listener behind once it ended', () => {
    vi.useFakeTimers();
    try {
      const client = new AbortController();
      sseStream({ ...quiet, expiresAt: Date.now() + 3_600_000, signal: client.signal });
      expect(vi.getTimerCount()).toBe(2);
      expect(getEventListeners(client.signal, 'abort')).toHaveLength(1);
      client.abort();
      expect(vi.getTimerCount()).toBe(0);
      expect(getEventListeners(client.signal, 'abort')).toHaveLength(0);
    } finally {
      vi.useRealTimers();
    }
  });

  it('ends once, though the client cancels a stream that ended with events still unread', async () => {
    let unsubscribed = 0;
    let closed = 0;
    const client = new AbortController();
    const stream = sseStream({
      ...quiet,
      subscribe: () => () => unsubscribed++,
      signal: client.signal,
      onClose: () => closed++,
    });
    // The ready event is still queued: the stream is closing, not closed, and a cancel reaches it.
    client.abort();
    await stream.cancel();
    expect([unsubscribed, closed]).toEqual([1, 1]);
  });

  it('a token valid for longer than one timer can wait expires on time, not when the first timer fires', () => {
    vi.useFakeTimers();
    try {
      let closed = 0;
      sseStream({
        ...quiet,
        heartbeatMs: MAX_TIMER_MS,
        expiresAt: Date.now() + MAX_TIMER_MS + 1000,
        onClose: () => closed++,
      });
      vi.advanceTimersByTime(MAX_TIMER_MS);
      expect(closed).toBe(0);
      vi.advanceTimersByTime(1000);
      expect(closed).toBe(1);
    } finally {
      vi.useRealTimers();
    }
  });

  it('keeps a client that left exactly maxBufferedBytes unread, and ends it at one byte more', () => {
    let listener: ((seq?: number) => void) | undefined;
    let closed = 0;
    const ready = 'retry: 2000\nevent: ready\ndata: {}\n\n';
    sseStream({
      ...quiet,
      subscribe: (l) => {
        listener = l;
        return () => {};
      },
      maxBufferedBytes: ready.length,
      onClose: () => closed++,
    });
    expect(closed).toBe(0);
    listener!(1);
    expect(closed).toBe(1);
  });
});
