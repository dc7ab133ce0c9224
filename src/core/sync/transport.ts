import { EngramError, ERROR_CODES, type ErrorCode } from '../errors.js';
import type { SyncRequest, SyncResponse } from './protocol.js';

/** Moves one sync exchange to the server; the engine does not care how. */
export interface SyncTransport {
  exchange(request: SyncRequest): Promise<SyncResponse>;
}

export interface HttpTransportOptions {
  url: string;
  token: string;
  namespace: string;
  fetch?: typeof fetch;
  /** A request taking longer than this counts as the edge being unreachable. */
  timeoutMs?: number;
}

const KNOWN_CODES = new Set<string>(ERROR_CODES);

/** Maps an HTTP failure to an EngramError: 5xx and 429 mean "try later", other 4xx are the caller's fault. */
export async function errorFromResponse(response: Response): Promise<EngramError> {
  let code: ErrorCode | undefined;
  let message = `HTTP ${response.status}`;
  try {
    const body = (await response.json()) as { error?: { code?: string; message?: string } };
    if (body.error?.code && KNOWN_CODES.has(body.error.code)) code = body.error.code as ErrorCode;
    if (body.error?.message) message = body.error.message;
  } catch {
    // not JSON: keep the status line
  }
  if (response.status >= 500)
    return new EngramError('OFFLINE', `edge unavailable (${response.status}): ${message}`);
  if (response.status === 401) return new EngramError('UNAUTHORIZED', message);
  if (response.status === 403) return new EngramError('FORBIDDEN', message);
  if (response.status === 429) return new EngramError('RATE_LIMITED', message);
  return new EngramError(code ?? 'VALIDATION', message);
}

/** Calls `fetch` with a timeout; any network failure or timeout becomes OFFLINE. */
export async function fetchWithTimeout(
  fetchFn: typeof fetch,
  url: string,
  init: RequestInit,
  timeoutMs: number,
): Promise<Response> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  try {
    return await fetchFn(url, { ...init, signal: controller.signal });
  } catch (cause) {
    const reason = controller.signal.aborted
      ? `no answer within ${timeoutMs} ms`
      : String((cause as Error)?.message ?? cause);
    throw new EngramError('OFFLINE', `edge unreachable: ${reason}`, { cause });
  } finally {
    clearTimeout(timer);
  }
}

export function createHttpTransport(options: HttpTransportOptions): SyncTransport {
  const fetchFn = options.fetch ?? globalThis.fetch.bind(globalThis);
  const endpoint = `${options.url.replace(/\/+$/, '')}/v1/ns/${encodeURIComponent(options.namespace)}/sync`;
  const timeoutMs = options.timeoutMs ?? 15_000;
  return {
    async exchange(request) {
      const response = await fetchWithTimeout(
        fetchFn,
        endpoint,
        {
          method: 'POST',
          headers: { authorization: `Bearer ${options.token}`, 'content-type': 'application/json' },
          body: JSON.stringify(request),
        },
        timeoutMs,
      );
      if (!response.ok) throw await errorFromResponse(response);
      try {
        return (await response.json()) as SyncResponse;
      } catch (cause) {
        throw new EngramError('OFFLINE', 'edge answered with a body that is not JSON', { cause });
      }
    },
  };
}
