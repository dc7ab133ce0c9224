import type { MiddlewareHandler } from 'hono';

/** One line per request. Never the query string, headers (tokens) or bodies. */
export interface RequestLogEntry {
  method: string;
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
      path: c.req.path,
      status: c.res.status,
      ms: Date.now() - started,
    };
    if (c.res.status >= 500 && c.error !== undefined) entry.error = c.error;
    log(entry);
  };
}
