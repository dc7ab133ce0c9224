import { env, exports } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { mintToken } from '../../src/edge/token.js';

// Live sync in workerd: the Worker's events route, held by the EngramHub Durable Object of the namespace.
const worker = exports.default;
const ns = `live-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;

async function readUntil(
  reader: ReadableStreamDefaultReader<Uint8Array>,
  predicate: (text: string) => boolean,
  sofar = '',
): Promise<string> {
  const decoder = new TextDecoder();
  let text = sofar;
  while (!predicate(text)) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`stream ended before the expected event; got ${JSON.stringify(text)}`);
    text += decoder.decode(value, { stream: true });
  }
  return text;
}

describe('GET /v1/ns/:ns/events on Workers (Durable Object hub)', () => {
  it('needs a token for the namespace', async () => {
    expect((await worker.fetch(`https://engram.test/v1/ns/${ns}/events`)).status).toBe(401);
  });

  it('tells an open stream about a write made through another request, with the feed seq', async () => {
    const token = await mintToken({ secret: env.ENGRAM_SECRET, ns: [ns] });
    const auth = { authorization: `Bearer ${token}` };
    const stream = await worker.fetch(`https://engram.test/v1/ns/${ns}/events`, { headers: auth });
    expect(stream.status).toBe(200);
    expect(stream.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const reader = stream.body!.getReader();
    const opened = await readUntil(reader, (t) => t.includes('event: ready'));
    const write = await worker.fetch(`https://engram.test/v1/ns/${ns}/memories`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ content: 'pushed through a Worker' }),
    });
    expect(write.status).toBe(201);
    const text = await readUntil(reader, (t) => t.includes('event: change'), opened);
    expect(text).toMatch(/id: \d+\nevent: change\ndata: \{"seq":\d+\}/);
    await reader.cancel();

    // Reconnecting behind the feed (Last-Event-ID 0) gets a change at once.
    const again = await worker.fetch(`https://engram.test/v1/ns/${ns}/events`, {
      headers: { ...auth, 'last-event-id': '0' },
    });
    const reader2 = again.body!.getReader();
    expect(await readUntil(reader2, (t) => t.includes('event: change'))).toContain('event: ready');
    await reader2.cancel();
  });

  it('ends the stream with an expired event when the token expires (the Durable Object holds the timer)', async () => {
    // ttl 4: exp lands 3 to 4 s from now (1 s resolution), room to open the stream on a loaded machine.
    const token = await mintToken({ secret: env.ENGRAM_SECRET, ns: [ns], ttl: 4 });
    const stream = await worker.fetch(`https://engram.test/v1/ns/${ns}/events`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(stream.status).toBe(200);
    const reader = stream.body!.getReader();
    const decoder = new TextDecoder();
    let text = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
    }
    expect(text).toMatch(/event: expired\ndata: \{"error":\{"code":"UNAUTHORIZED"/);
    const again = await worker.fetch(`https://engram.test/v1/ns/${ns}/events`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(again.status).toBe(401);
  });
});
