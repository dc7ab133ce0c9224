import { validationError } from './errors.js';
import { ID_PATTERN } from './ids.js';

/** List cursors are opaque to callers: the last id of a page, base64url-encoded. */
export function encodeCursor(id: string): string {
  return btoa(id).replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_');
}

export function decodeCursor(cursor: string): string {
  try {
    const id = atob(cursor.replace(/-/g, '+').replace(/_/g, '/'));
    if (ID_PATTERN.test(id)) return id;
  } catch {
    // fall through to the validation error below
  }
  throw validationError('list.cursor', 'a cursor returned by list', 'an unknown value');
}
