import { validationError } from '../../core/errors.js';
import {
  bearerToken,
  edgeError,
  parseEdgeJson,
  requestEdge,
  type TokenSource,
} from '../../core/http-client.js';
import { checkEdgeUrl } from '../../core/validate-settings.js';

export type { TokenSource };

/** `fetch`, or anything shaped like it, such as `(input, init) => app.request(input, init)` for a Hono app in-process. */
export type FetchLike = (input: string, init: RequestInit) => Response | Promise<Response>;

export interface EdgeClientOptions {
  /** The edge's base URL, e.g. `https://memory.example.com` (a path prefix is kept). */
  url: string;
  token: TokenSource;
  fetch?: FetchLike;
  /** A request with no complete answer after this long fails with OFFLINE (default 15 000 ms). */
  timeoutMs?: number;
}

export type QueryValue = string | number | readonly string[] | undefined;

interface CallOptions {
  query?: Record<string, QueryValue>;
  body?: unknown;
  /** What the answer must hold: without it, whatever answered is not an Engram edge. */
  answers?: string;
}

/**
 * One URL path segment. `.` and `..` are valid ids but every URL parser folds them away (encoded or
 * not), so they are refused here rather than silently addressing another route.
 */
export function segment(value: string, field: string): string {
  if (value === '.' || value === '..') {
    throw validationError(field, 'an id that can be sent in a URL path', JSON.stringify(value));
  }
  return encodeURIComponent(value);
}

/** The HTTP half of RemoteStore: URLs, bearer tokens, timeouts, and errors mapped back to EngramError. */
export class EdgeClient {
  private readonly base: string;
  private readonly fetcher: FetchLike;
  private readonly timeoutMs: number;

  constructor(private readonly options: EdgeClientOptions) {
    if (typeof options.url !== 'string') throw validationError('url', 'an http(s) URL', typeof options.url);
    const url = checkEdgeUrl(options.url, 'url');
    const token = options.token;
    if (!(typeof token === 'function' || (typeof token === 'string' && token !== ''))) {
      throw validationError('token', 'a token string or a function returning one');
    }
    this.base = url.href.replace(/\/+$/, '');
    this.fetcher = options.fetch ?? ((input, init) => fetch(input, init));
    this.timeoutMs = options.timeoutMs ?? 15_000;
  }

  async call<T>(
    namespace: string,
    method: 'GET' | 'POST',
    path: string,
    options: CallOptions = {},
  ): Promise<T> {
    const url = `${this.base}/v1/ns/${segment(namespace, 'namespace')}${path}${queryString(options.query)}`;
    const headers: Record<string, string> = {
      authorization: `Bearer ${await bearerToken(this.options.token, namespace, 'token')}`,
    };
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    const body = options.body === undefined ? undefined : JSON.stringify(options.body);
    const what = `${method} ${path}`;
    const answer = await requestEdge(
      this.fetcher,
      url,
      { method, headers, body },
      { timeoutMs: this.timeoutMs, who: 'RemoteStore', base: this.base },
    );
    if (!answer.ok)
      throw edgeError(answer.status, answer.text, `RemoteStore: ${what}`, 'as-sent', answer.retryAfter);
    return parseEdgeJson<T>(answer.text, `RemoteStore: ${what}`, options.answers ? [options.answers] : []);
  }
}

function queryString(query: Record<string, QueryValue> = {}): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined) continue;
    if (Array.isArray(value)) for (const item of value) params.append(key, item);
    else params.append(key, String(value));
  }
  const text = params.toString();
  return text === '' ? '' : `?${text}`;
}
