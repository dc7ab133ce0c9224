import type { Context, MiddlewareHandler } from 'hono';

/** One line per request. Never the query string, headers (tokens) or bodies. */
export interface RequestLogEntry {
  method: string;
  /**
   * The path as the request carries it, percent-encoding kept (`/v1/ns/demo/memories/caf%C3%A9`): never
   * decoded, so an escaped line break (`%0A`) cannot end the line and forge another entry.
   */
  path: string;
  status: number;
  ms: number;
  /** The error behind a 5xx, for the server log only; clients never see it. */
  error?: unknown;
}

export type RequestLogger = (entry: RequestLogEntry) => void;

export const consoleLogger: RequestLogger = ({ method, path, status, ms, error }) => {
  console.log(`${method} ${path} ${status} ${ms}ms`);
  if (error !== undefined) console.error(error);
};

export function requestLogger(log: RequestLogger): MiddlewareHandler {
  return async (c, next) => {
    const started = Date.now();
    await next();
    const entry: RequestLogEntry = {
      method: c.req.method,
      path: rawPath(c),
      status: c.res.status,
      ms: Date.now() - started,
    };
    if (c.res.status >= 500 && c.error !== undefined) entry.error = c.error;
    log(entry);
  };
}

/** Printable ASCII without the space: all that Node's HTTP parser admits in a request target. */
const PRINTABLE = /^[\x21-\x7e]+$/;

/**
 * The request's path as the client wrote it, without the query. On Node (@hono/node-server, whose
 * bindings carry the `incoming` message) that is the request line's own target; elsewhere, the path of
 * the request URL, which the runtime has parsed (dot segments resolved, a few characters escaped) but
 * never decoded. Hono's `c.req.path` is decoded.
 */
function rawPath(c: Context): string {
  const target = (c.env as { incoming?: { url?: unknown } } | undefined)?.incoming?.url;
  if (typeof target === 'string' && target.startsWith('/') && PRINTABLE.test(target)) {
    return withoutQuery(target);
  }
  const url = c.req.url;
  const start = url.indexOf('/', url.indexOf('://') + 3);
  return start < 0 ? '/' : withoutQuery(url.slice(start));
}

function withoutQuery(target: string): string {
  const end = target.search(/[?#]/);
  return end < 0 ? target : target.slice(0, end);
}
