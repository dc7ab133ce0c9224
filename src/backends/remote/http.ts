import { EngramError, ERROR_CODES, type ErrorCode } from '../../core/errors.js';

/** A token, or a function giving the token for a namespace (called before each request; cache in it). */
export type TokenSource = string | ((namespace: string) => string | Promise<string>);

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

type QueryValue = string | number | readonly string[] | undefined;

interface CallOptions {
  query?: Record<string, QueryValue>;
  body?: unknown;
}

const CODE_OF_STATUS: Record<number, ErrorCode> = {
  400: 'VALIDATION',
  401: 'UNAUTHORIZED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  409: 'CONFLICT',
  413: 'PAYLOAD_TOO_LARGE',
  429: 'RATE_LIMITED',
};

/**
 * One URL path segment. `.` and `..` are valid ids but every URL parser folds them away (encoded or
 * not), so they are refused here rather than silently addressing another route.
 */
export function segment(value: string, field: string): string {
  if (value === '.' || value === '..') {
    throw new EngramError('VALIDATION', `${field}: ${JSON.stringify(value)} cannot be sent in a URL path`, {
      field,
    });
  }
  return encodeURIComponent(value);
}

/** The HTTP half of RemoteStore: URLs, bearer tokens, timeouts, and errors mapped back to EngramError. */
export class EdgeClient {
  private readonly base: string;
  private readonly fetcher: FetchLike;
  private readonly timeoutMs: number;

  constructor(private readonly options: EdgeClientOptions) {
    let url: URL;
    try {
      url = new URL(options.url);
    } catch {
      throw new EngramError(
        'VALIDATION',
        `url: expected an http(s) URL, got ${JSON.stringify(options.url)}`,
        { field: 'url' },
      );
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new EngramError(
        'VALIDATION',
        `url: expected an http(s) URL, got ${JSON.stringify(options.url)}`,
        { field: 'url' },
      );
    }
    const token = options.token;
    if (!(typeof token === 'function' || (typeof token === 'string' && token !== ''))) {
      throw new EngramError('VALIDATION', 'token: expected a token string or a function returning one', {
        field: 'token',
      });
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
    const headers: Record<string, string> = { authorization: `Bearer ${await this.tokenFor(namespace)}` };
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    const body = options.body === undefined ? undefined : JSON.stringify(options.body);
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), this.timeoutMs);
    let response: Response;
    let text: string;
    try {
      response = await this.fetcher(url, { method, headers, body, signal: controller.signal });
      text = await response.text();
    } catch (cause) {
      const reason = controller.signal.aborted ? `no answer within ${this.timeoutMs} ms` : describe(cause);
      throw new EngramError('OFFLINE', `RemoteStore: cannot reach ${this.base}: ${reason}`, { cause });
    } finally {
      clearTimeout(timer);
    }
    if (!response.ok) throw errorFrom(response.status, text, `${method} ${path}`);
    if (text === '') return undefined as T;
    try {
      return JSON.parse(text) as T;
    } catch (cause) {
      // A captive portal or a proxy's page, not our server: the edge is not really reachable.
      throw new EngramError('OFFLINE', `RemoteStore: ${method} ${path} answered something other than JSON`, {
        cause,
      });
    }
  }

  private async tokenFor(namespace: string): Promise<string> {
    const { token } = this.options;
    if (typeof token === 'string') return token;
    try {
      return await token(namespace);
    } catch (cause) {
      if (cause instanceof EngramError) throw cause;
      throw new EngramError(
        'UNAUTHORIZED',
        `token: the token function failed for ${JSON.stringify(namespace)}: ${describe(cause)}`,
        {
          cause,
        },
      );
    }
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

function describe(cause: unknown): string {
  return cause instanceof Error ? cause.message : String(cause);
}

/** The server's own error when it sent one; otherwise the code its status implies (a 5xx means unusable now). */
function errorFrom(status: number, text: string, what: string): EngramError {
  try {
    const { error } = JSON.parse(text) as { error?: { code?: unknown; message?: unknown; field?: unknown } };
    if (
      error &&
      (ERROR_CODES as readonly unknown[]).includes(error.code) &&
      typeof error.message === 'string'
    ) {
      const field = typeof error.field === 'string' ? error.field : undefined;
      return new EngramError(error.code as ErrorCode, error.message, { field });
    }
  } catch {
    // not our JSON: fall back to the status below
  }
  const code = CODE_OF_STATUS[status] ?? (status >= 500 ? 'OFFLINE' : 'VALIDATION');
  return new EngramError(
    code,
    `RemoteStore: ${what} answered HTTP ${status} without an Engram error (is the url an Engram edge?)`,
  );
}
