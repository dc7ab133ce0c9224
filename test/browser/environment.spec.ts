import { describe, expect, it } from 'vitest';

describe('the browser tests run in real Chromium', () => {
  it('with its own IndexedDB and WebAssembly, no fakes', () => {
    expect(navigator.userAgent).toMatch(/HeadlessChrome|Chrome/);
    expect(Object.prototype.toString.call(indexedDB)).toBe('[object IDBFactory]');
    expect(String(IDBFactory.prototype.open)).toContain('[native code]');
    expect(typeof WebAssembly.instantiateStreaming).toBe('function');
  });
});
