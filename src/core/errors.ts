/** The stable codes every Engram error carries; HTTP statuses follow from them at the edge. */
export const ERROR_CODES = [
  'VALIDATION',
  'NOT_FOUND',
  'UNAUTHORIZED',
  'FORBIDDEN',
  'CONFLICT',
  'OFFLINE',
  'STORAGE',
  'PAYLOAD_TOO_LARGE',
  'RATE_LIMITED',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

/**
 * The one table of HTTP statuses by error code: the edge answers with it, and clients read a status
 * back through it when a response carries no Engram error body. STORAGE and OFFLINE are both 503.
 */
export const HTTP_STATUS = {
  VALIDATION: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  PAYLOAD_TOO_LARGE: 413,
  RATE_LIMITED: 429,
  STORAGE: 503,
  OFFLINE: 503,
} as const satisfies Record<ErrorCode, number>;

/** The code a 4xx status stands for, by the table above; undefined for any other status. */
export function codeOfStatus(status: number): ErrorCode | undefined {
  if (status < 400 || status >= 500) return undefined;
  return ERROR_CODES.find((code) => HTTP_STATUS[code] === status);
}

export interface ErrorDetails {
  /** Dotted path of the offending input field, e.g. `tags.2` or `metadata`. */
  field?: string;
  /** The underlying failure, kept for logs; never serialised to clients. */
  cause?: unknown;
  /** RATE_LIMITED: how long the edge asked to wait (its `Retry-After`), in ms. */
  retryAfterMs?: number;
}

/**
 * The one error type Engram throws. `code` is stable; `message` says what was expected and what was got.
 *
 * @example
 * try { await mem.get('bad id!') } catch (e) {
 *   if (e instanceof EngramError && e.code === 'VALIDATION') console.log(e.field, e.message);
 * }
 */
export class EngramError extends Error {
  readonly code: ErrorCode;
  readonly field: string | undefined;
  readonly retryAfterMs: number | undefined;

  constructor(code: ErrorCode, message: string, details: ErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'EngramError';
    this.code = code;
    this.field = details.field;
    this.retryAfterMs = details.retryAfterMs;
  }

  toJSON(): { code: ErrorCode; message: string; field?: string } {
    return this.field === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, field: this.field };
  }
}

/**
 * The NOT_FOUND error (`update`, `supersede` or `link` of a memory that does not exist or expired, a
 * missing memory or link at the edge): an `EngramError` whose `code` is always `NOT_FOUND`.
 *
 * @example
 * try { await mem.update(id, { content }) } catch (e) {
 *   if (e instanceof NotFoundError) await mem.add({ content });
 * }
 */
export class NotFoundError extends EngramError {
  constructor(message: string, details: ErrorDetails = {}) {
    super('NOT_FOUND', message, details);
    this.name = 'NotFoundError';
  }
}

/** An EngramError of a code known only at run time (read from an HTTP answer): NOT_FOUND is a NotFoundError. */
export function engramError(code: ErrorCode, message: string, details: ErrorDetails = {}): EngramError {
  return code === 'NOT_FOUND' ? new NotFoundError(message, details) : new EngramError(code, message, details);
}

export function isEngramError(value: unknown, code?: ErrorCode): value is EngramError {
  return value instanceof EngramError && (code === undefined || value.code === code);
}

/**
 * The VALIDATION error every input check throws, in the one shape users read: which field, what was
 * expected and, when known, what was got: `ttl: expected a duration like '1h', got "soon"`.
 */
export function validationError(
  field: string,
  expected: string,
  got?: string | number,
  cause?: unknown,
): EngramError {
  const message = `${field}: expected ${expected}${got === undefined ? '' : `, got ${got}`}`;
  return new EngramError('VALIDATION', message, cause === undefined ? { field } : { field, cause });
}

/** Wraps a driver failure as STORAGE, leaving Engram errors untouched. */
export function storageError(operation: string, cause: unknown): EngramError {
  if (cause instanceof EngramError) return cause;
  return new EngramError('STORAGE', `${operation} failed: ${reasonOf(cause)}`, { cause });
}

/** A cause's message; browsers raise some errors (IndexedDB's QuotaExceededError) with an empty one. */
function reasonOf(cause: unknown): string {
  const { name, message } = (cause ?? {}) as { name?: unknown; message?: unknown };
  if (typeof name === 'string' && name === 'QuotaExceededError') {
    return `${message || name}: the browser's storage quota for this origin is full (free space or remove memories)`;
  }
  if (typeof message === 'string' && message !== '') return message;
  return typeof name === 'string' && name !== '' && name !== 'Error' ? name : String(cause);
}

/**
 * A URL as an error may show it: everything between `//` (or the start) and the last `@` hidden. Up to
 * the last `@`, since a refused URL may be malformed (a raw `/` or `@` in its password) and hiding a
 * path too is better than showing a password.
 */
export function withoutUserinfo(url: string): string {
  const at = url.lastIndexOf('@');
  if (at < 0) return url;
  const slashes = url.indexOf('//');
  const from = slashes >= 0 && slashes < at ? slashes + 2 : 0;
  return `${url.slice(0, from)}…${url.slice(at)}`;
}

/** What a caught value says: an Error's message, or the value as a string. */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
