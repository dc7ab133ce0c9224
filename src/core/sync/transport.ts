import { EngramError, isEngramError } from '../errors.js';
import {
  assertEdgeParts,
  bearerToken,
  edgeError,
  parseEdgeJson,
  requestEdge,
  type TokenSource,
} from '../http-client.js';
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
  return {
    async exchange(request) {
      const body = requestBody(request);
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
      let answer: Awaited<ReturnType<typeof send>>;
      try {
        answer = await send();
      } catch (error) {
        // A kept-alive connection the server closed just as it was reused fails at once (a reset, not a
        // timeout). Every sync request is an idempotent merge or a read, so one immediate retry is safe.
        if (!isEngramError(error, 'OFFLINE') || error.message.includes('no answer within')) throw error;
        answer = await send();
      }
      if (!answer.ok) throw edgeError(answer.status, answer.text, 'sync', 'offline', answer.retryAfter);
      const response = parseEdgeJson<SyncResponse>(answer.text, 'sync');
      // Each part asked for is answered, unless nothing of the request was applied (`resync`).
      if (!response.resync) {
        const parts = (['push', 'pull', 'get'] as const).filter((part) => request[part] !== undefined);
        assertEdgeParts(response, parts, 'sync');
      }
      return response;
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
