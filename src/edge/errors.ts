import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { EngramError, type ErrorCode, HTTP_STATUS, NotFoundError, validationError } from '../core/errors.js';

/**
 * A driver's message can carry SQL or host names, so clients get a generic STORAGE message and the
 * server log keeps the real one.
 */
const STORAGE_MESSAGE = 'the store failed to answer; the server log has the details';

export interface ErrorBody {
  error: { code: ErrorCode; message: string; field?: string };
}

/** Turns anything thrown by a route into the JSON error a client sees; the request log keeps the original. */
export function toErrorResponse(c: Context, thrown: unknown): Response {
  const error = asEngramError(thrown);
  if (error) {
    const body: ErrorBody = {
      error: error.code === 'STORAGE' ? { code: 'STORAGE', message: STORAGE_MESSAGE } : error.toJSON(),
    };
    const response = c.json(body, HTTP_STATUS[error.code]);
    if (error.code === 'UNAUTHORIZED') response.headers.set('WWW-Authenticate', 'Bearer');
    if (error.code === 'RATE_LIMITED' && error.retryAfterMs !== undefined) {
      response.headers.set('Retry-After', String(Math.max(1, Math.ceil(error.retryAfterMs / 1000))));
    }
    return response;
  }
  const body: ErrorBody = {
    error: { code: 'STORAGE', message: 'internal server error; the server log has the details' },
  };
  return c.json(body, 500);
}

function asEngramError(thrown: unknown): EngramError | undefined {
  if (thrown instanceof EngramError) return thrown;
  if (thrown instanceof HTTPException) {
    if (thrown.status === 413) return payloadTooLarge();
    if (thrown.status === 401) return new EngramError('UNAUTHORIZED', thrown.message || 'unauthorized');
    if (thrown.status >= 400 && thrown.status < 500)
      return new EngramError('VALIDATION', thrown.message || 'bad request');
  }
  return undefined;
}

export function payloadTooLarge(limit?: number): EngramError {
  const detail = limit === undefined ? '' : ` of ${limit} bytes`;
  return new EngramError('PAYLOAD_TOO_LARGE', `body: the request body exceeds the limit${detail}`, {
    field: 'body',
  });
}

/**
 * A body whose stream failed before its end: the client declared more bytes than it sent, aborted a
 * chunked upload, or its connection dropped. Bad input (nothing is written), not a fault of the server.
 */
export function bodyCutOff(cause?: unknown): EngramError {
  return validationError(
    'body',
    'the whole request body (as many bytes as its Content-Length, or chunks up to the last one)',
    'a body cut off before its end',
    cause,
  );
}

export function notFound(what: string, field: string): EngramError {
  return new NotFoundError(`${field}: no ${what}`, { field });
}
