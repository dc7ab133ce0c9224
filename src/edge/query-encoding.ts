import type { MiddlewareHandler } from 'hono';
import { validationError } from '../core/errors.js';

const ENCODING = 'valid percent-encoding (%XX escapes of UTF-8 bytes; a literal % is %25)';

/**
 * Refuses a query string whose percent-encoding is broken (`%zz`, an escape cut short as in `%E0%A4%A`,
 * escapes of bytes that are not UTF-8), naming the parameter. Hono keeps such a parameter as its raw
 * text, so `?kind=%zz` would have filtered on the kind "%zz": an answer to a question nobody asked.
 */
export function queryEncoding(): MiddlewareHandler {
  return async (c, next) => {
    const url = c.req.url;
    const start = url.indexOf('?');
    if (start >= 0) checkQueryString(url.slice(start + 1));
    await next();
  };
}

function checkQueryString(query: string): void {
  for (const pair of query.split('&')) {
    const equals = pair.indexOf('=');
    const rawName = equals < 0 ? pair : pair.slice(0, equals);
    const name = decoded(rawName);
    if (name === undefined) {
      throw validationError(`query.${rawName}`, `a parameter name in ${ENCODING}`, JSON.stringify(rawName));
    }
    const rawValue = equals < 0 ? '' : pair.slice(equals + 1);
    if (decoded(rawValue) === undefined) {
      throw validationError(`query.${name}`, `a value in ${ENCODING}`, JSON.stringify(rawValue));
    }
  }
}

/** A query component as a form decoder reads it (`+` is a space), or undefined when it cannot be read. */
function decoded(component: string): string | undefined {
  try {
    return decodeURIComponent(component.replace(/\+/g, ' '));
  } catch {
    return undefined;
  }
}
