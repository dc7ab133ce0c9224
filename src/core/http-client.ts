import { untilAborted } from './abort.js';
import {
  codeOfStatus,
  EngramError,
  ERROR_CODES,
  type ErrorCode,
  engramError,
  errorMessage,
} from './errors.js';

/** A bearer token, or a function giving the token for a namespace (called before each request; cache in it). */
export type TokenSource = string | ((namespace: string) => string | Promise<string>);

/**
 * The token to send for `namespace`: the string itself, or what the function gives now, so that an app
 * can renew a short-lived token without reopening anything. A function that throws or gives no token
 * is UNAUTHORIZED naming `field`, as a token the edge refused would be.
 */
export async function bearerToken(token: TokenSource, namespace: string, field: string): Promise<string> {
  if (typeof token === 'string') return token;
  let given: unknown;
  try {
    given = await token(namespace);
  } catch (cause) {
    if (cause instanceof EngramError) throw cause;
    const reason = errorMessage(cause);
    throw new EngramError(
      'UNAUTHORIZED',
      `${field}: the token function failed for ${JSON.stringify(namespace)}: ${reason}`,
      { field, cause },
    );
  }
  if (typeof given === 'string' && given !== '') return given;
  throw new EngramError(
    'UNAUTHORIZED',
    `${field}: the token function gave ${given === '' ? 'an empty string' : (JSON.stringify(given) ?? String(given))} for ${JSON.stringify(namespace)}, expected a token string`,
    { field },
  );
}

/**
 * One request to an Engram edge, shared by the sync transport and RemoteStore. The timeout covers the
 * body as well as the headers, whether or not the fetch function honours its signal; a network failure
 * or a timeout is OFFLINE, naming `who` and `base`.
 */
export async function requestEdge(
  fetchFn: (url: string, init: RequestInit) => Response | Promise<Response>,
  url: string,
  init: RequestInit,
  options: {
    timeoutMs: number;
    who: string;
    base: string;
    /** Gives the request up (its fetch aborted) when it aborts: the memory that made it was closed. */
    signal?: AbortSignal;
  },
): Promise<{ status: number; ok: boolean; text: string; retryAfter?: string | null }> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), options.timeoutMs);
  const giveUp = () => controller.abort();
  if (options.signal?.aborted) giveUp();
  else options.signal?.addEventListener('abort', giveUp, { once: true });
  try {
    // Raced against the timeout too: a custom fetch that ignores the signal must not hang the caller.
    const { signal } = controller;
    const response = await untilAborted(fetchFn(url, { ...init, signal }), signal);
    const retryAfter = response.headers?.get?.('retry-after');
    const text = await untilAborted(response.text(), signal);
    return { status: response.status, ok: response.ok, text, retryAfter };
  } catch (cause) {
    const reason = options.signal?.aborted
      ? 'the request was given up (the memory was closed)'
      : controller.signal.aborted
        ? `no answer within ${options.timeoutMs} ms`
        : cause instanceof Error
          ? cause.message
          : String(cause);
    throw new EngramError('OFFLINE', `${options.who}: cannot reach ${options.base}: ${reason}`, { cause });
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener('abort', giveUp);
  }
}

/**
 * The error an edge answer stands for: the edge's own `{ error: { code, message } }` when it sent one,
 * else what the status implies. With `serverFaults: 'offline'` every 5xx is OFFLINE (a replica retries
 * later); with `'as-sent'` the server's code is kept (a 503 STORAGE stays STORAGE).
 */
export function edgeError(
  status: number,
  text: string,
  what: string,
  serverFaults: 'offline' | 'as-sent',
  retryAfter?: string | null,
): EngramError {
  let sent: { code: ErrorCode; message: string; field?: string } | undefined;
  try {
    const { error } = JSON.parse(text) as { error?: { code?: unknown; message?: unknown; field?: unknown } };
    if (
      error &&
      (ERROR_CODES as readonly unknown[]).includes(error.code) &&
      typeof error.message === 'string'
    ) {
      const field = typeof error.field === 'string' ? error.field : undefined;
      sent = { code: error.code as ErrorCode, message: error.message, field };
    }
  } catch {
    // not the edge's JSON: fall back to the status below
  }
  if (status >= 500 && serverFaults === 'offline') {
    return new EngramError(
      'OFFLINE',
      `${what}: edge unavailable (${status})${sent ? `: ${sent.message}` : ''}`,
    );
  }
  const retryAfterMs = parseRetryAfter(retryAfter);
  if (sent) return engramError(sent.code, sent.message, { field: sent.field, retryAfterMs });
  const code = codeOfStatus(status) ?? (status >= 500 ? 'OFFLINE' : 'VALIDATION');
  return engramError(
    code,
    `${what} answered HTTP ${status} without an Engram error (is the url an Engram edge?)`,
    { retryAfterMs },
  );
}

/** `Retry-After` as seconds or an HTTP date, in ms from now; capped at an hour, whatever a server says. */
function parseRetryAfter(value: string | null | undefined): number | undefined {
  if (!value) return undefined;
  const seconds = Number(value);
  const ms = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(value) - Date.now();
  return Number.isFinite(ms) && ms > 0 ? Math.min(ms, 3_600_000) : undefined;
}

/**
 * An edge's success body; anything but JSON (a captive portal, a proxy's page) means the edge is not really
 * reachable. So does JSON that is not an object, or one without each of `parts` (another service at a wrong
 * url answering `{}`): taken as an answer, it would count a push as stored.
 */
export function parseEdgeJson<T>(text: string, what: string, parts: readonly string[] = []): T {
  let answer: unknown;
  try {
    answer = JSON.parse(text);
  } catch (cause) {
    throw new EngramError('OFFLINE', `${what} answered something other than JSON`, { cause });
  }
  const isObject = typeof answer === 'object' && answer !== null && !Array.isArray(answer);
  if (!isObject) notAnswered(what, `JSON ${Array.isArray(answer) ? 'array' : String(answer)}`);
  assertEdgeParts(answer as object, parts, what);
  return answer as T;
}

/** Throws (OFFLINE) unless the edge's answer holds each of `parts`. */
export function assertEdgeParts(answer: object, parts: readonly string[], what: string): void {
  const missing = parts.find((part) => (answer as Record<string, unknown>)[part] === undefined);
  if (missing !== undefined) notAnswered(what, `an object without "${missing}"`);
}

/** Throws (OFFLINE): `what` answered `got` (say, "an object without \"pull\""), which no Engram edge answers. */
export function notAnswered(what: string, got: string): never {
  throw new EngramError(
    'OFFLINE',
    `${what} answered ${got}, not an Engram answer (is the url an Engram edge?)`,
  );
}
