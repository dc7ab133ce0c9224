import { describe, expect, it } from 'vitest';
import { EngramError, storageError, validationError } from '../../src/core/errors.js';

describe('validationError', () => {
  it('names the field, what was expected and what was got', () => {
    const error = validationError('ttl', "a duration like '1h'", '"soon"');
    expect(error).toBeInstanceOf(EngramError);
    expect(error.code).toBe('VALIDATION');
    expect(error.field).toBe('ttl');
    expect(error.message).toBe(`ttl: expected a duration like '1h', got "soon"`);
  });

  it('leaves out what was got when nothing is known, and keeps the cause for logs', () => {
    const cause = new SyntaxError('bad');
    const error = validationError('line.3', 'JSON', undefined, cause);
    expect(error.message).toBe('line.3: expected JSON');
    expect(error.cause).toBe(cause);
    expect(error.toJSON()).toEqual({ code: 'VALIDATION', message: 'line.3: expected JSON', field: 'line.3' });
  });
});

describe('storageError', () => {
  it('says what failed when the cause has no message (a browser QuotaExceededError)', () => {
    const quota = Object.assign(new Error(''), { name: 'QuotaExceededError' });
    const error = storageError('IndexedDB apply', quota);
    expect(error.code).toBe('STORAGE');
    expect(error.message).toMatch(/^IndexedDB apply failed: QuotaExceededError: the browser's storage quota/);
    expect(error.cause).toBe(quota);
    const other = Object.assign(new Error(''), { name: 'UnknownError' });
    expect(storageError('IndexedDB get', other).message).toBe('IndexedDB get failed: UnknownError');
    expect(storageError('x', new Error('disk gone')).message).toBe('x failed: disk gone');
  });
});
