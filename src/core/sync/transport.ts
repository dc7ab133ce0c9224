import { EngramError, isEngramError } from '../errors.js';
import {
  assertEdgeParts,
  bearerToken,
  edgeError,
  notAnswered,
  parseEdgeJson,
  requestEdge,
  type TokenSource,
} from '../http-client.js';
import { refusesLoneStamps, unpackAnswer } from './lone-stamps.js';
import { SEALING_VERSION, type SyncRequest, type SyncResponse } from './protocol.js';
import { requestBody } from './push-chunks.js';

/** Moves one sync exchange to the server; the engine does not care how. */
export interface SyncTransport {
  exchange(request: SyncRequest): Promise<SyncResponse>;
}

export interface HttpTransportOptions {
  url: string;
  /** Read before every request: a function may give a renewed token. */
  token: TokenSource;
  namespace: string;
  fetch?: typeof fetch;
  /** A request taking longer than this counts as the edge being unreachable. */
  timeoutMs?: number;
  /**
   * `ids`: a push is answered without the merged records (`push.memories`/`push.links` empty), which a
   * replica never reads; the edge then neither serialises nor sends them back. Default `records`.
   * An edge that predates the option ignores it and answers in full.
   */
  pushAnswer?: 'records' | 'ids';
  /** Aborts the request in flight, if any, and every later one: the replica stopped (its memory closed). */
  signal?: AbortSignal;
}

export function createHttpTransport(options: HttpTransportOptions): SyncTransport {
  const fetchFn = options.fetch ?? globalThis.fetch.bind(globalThis);
  const query = options.pushAnswer === 'ids' ? '?answer=ids' : '';
  const endpoint = `${options.url.replace(/\/+$/, '')}/v1/ns/${encodeURIComponent(options.namespace)}/sync${query}`;
  const timeoutMs = options.timeoutMs ?? 15_000;
  // Whether the edge takes lone stamps, as its last answer said (lone-stamps.ts): an edge of an older
  // release behind the same URL (a deploy rolling) says nothing, and the next request goes in full.
  let loneStamps = false;
  /** One request, in the lone-stamp form or not; a reset connection is retried once. */
  const attempt = async (request: SyncRequest, packed: boolean) => {
    const body = requestBody(packed ? { ...request, loneStamps: true } : request, packed);
    const send = async () =>
      requestEdge(
        fetchFn,
        endpoint,
        {
          method: 'POST',
          headers: {
            authorization: `Bearer ${await bearerToken(options.token, options.namespace, 'sync.token')}`,
            'content-type': 'application/json',
          },
          body,
        },
        { timeoutMs, who: 'sync', base: options.url, signal: options.signal },
      );
    try {
      return await send();
    } catch (error) {
      // A kept-alive connection the server closed just as it was reused fails at once (a reset, not a
      // timeout). Every sync request is an idempotent merge or a read, so one immediate retry is safe.
      if (!isEngramError(error, 'OFFLINE') || error.message.includes('no answer within')) throw error;
      return await send();
    }
  };
  return {
    async exchange(request) {
      let packed = loneStamps;
      let answer = await attempt(request, packed);
      if (!answer.ok) {
        const error = edgeError(answer.status, answer.text, 'sync', 'offline', answer.retryAfter);
        if (!packed || error.code !== 'VALIDATION' || !refusesLoneStamps(error.field)) throw error;
        // An older edge: the same request in the object form (a merge, so sending it again is safe).
        loneStamps = packed = false;
        answer = await attempt(request, packed);
        if (!answer.ok) throw edgeError(answer.status, answer.text, 'sync', 'offline', answer.retryAfter);
      }
      const response = parseEdgeJson<SyncResponse>(answer.text, 'sync');
      loneStamps = response.loneStamps === true;
      // Each part asked for is answered, unless nothing of the request was applied (`resync`).
      if (!response.resync) {
        const parts = (['push', 'pull', 'get'] as const).filter((part) => request[part] !== undefined);
        assertEdgeParts(response, parts, 'sync');
      }
      // What a pull reads first: a page that is no list (a service that only looks like an edge) is no
      // Engram answer, rather than a TypeError in the middle of the round.
      const page = response.pull;
      if (page !== undefined && (!Array.isArray(page?.changes) || typeof page.cursor !== 'number')) {
        notAnswered('sync', 'a pull page without its changes and cursor');
      }
      return packed ? unpackAnswer(response) : response;
    },
  };
}

/**
 * The transport of a replica without encryption: every request asks for the namespace's key info
 * (`key: { seals }`, public: what a device with the passphrase derives its key from), and an answer naming one is
 * refused (CONFLICT `sync.key.id`) before anything of it is kept. A namespace sealed end to end would
 * otherwise hand this device ciphertext, to keep and show as its data. A push of plaintext into such a
 * namespace is refused by the edge itself.
 */
export function plaintextTransport(inner: SyncTransport, namespace: string): SyncTransport {
  return {
    async exchange(request) {
      const response = await inner.exchange(
        request.key ? request : { ...request, key: { seals: SEALING_VERSION } },
      );
      const info = response.key?.info;
      if (info) {
        throw new EngramError(
          'CONFLICT',
          `sync.key.id: namespace ${JSON.stringify(namespace)} is end-to-end encrypted (key ${info.keyId}), and this device has no key: open it with createMemory({ encryption }) to read or write it`,
          { field: 'sync.key.id' },
        );
      }
      return response;
    },
  };
}
