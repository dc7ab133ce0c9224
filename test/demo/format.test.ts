import { describe, expect, it } from 'vitest';
import type { SyncStatus } from '../../src/core/sync/engine.js';
import { asYouTypeQuery, parseEntry, statusText, timeAgo } from '../../src/demo/format.js';

// The demo notebook's text rules, which the Chromium tests (test/e2e/demo*.test.ts) meet only in passing.
const status = (state: SyncStatus['state'], pending: number, error?: string): SyncStatus => ({
  state,
  pending,
  lastSyncAt: null,
  error,
});

describe("the demo notebook's text", () => {
  it('keeps an entry of tags only as typed, rather than as an empty memory', () => {
    expect(parseEntry('#todo #Home')).toEqual({ content: '#todo #Home', tags: ['todo', 'home'] });
    expect(parseEntry('  Oat milk #Idea #idea ')).toEqual({ content: 'Oat milk', tags: ['idea'] });
  });

  it('counts the last word as a prefix only while it is being typed, and never a negated one', () => {
    expect(asYouTypeQuery('lisb')).toBe('lisb lisb*');
    expect(asYouTypeQuery('lisbon ')).toBe('lisbon');
    expect(asYouTypeQuery('trip -ana')).toBe('trip -ana');
    expect(asYouTypeQuery('   ')).toBe('');
  });

  it('says "just now" under 45 s, then rounds to at least one unit', () => {
    const now = Date.parse('2026-05-01T12:00:00Z');
    const ago = (seconds: number) => timeAgo(new Date(now - seconds * 1000).toISOString(), now);
    expect(ago(44)).toBe('just now');
    expect(ago(50)).toBe('1 min ago');
    expect(ago(150)).toBe('3 min ago');
    expect(ago(5400)).toBe('2 h ago');
    expect(ago(3 * 86_400)).toBe('3 d ago');
  });

  it('shows pending writes while syncing, and a reason for an error', () => {
    expect(statusText(status('syncing', 0))).toBe('syncing');
    expect(statusText(status('syncing', 2))).toBe('syncing · 2 pending');
    expect(statusText(status('online', 1))).toBe('online · 1 pending');
    expect(statusText(status('error', 0))).toBe('error · sync refused');
    expect(statusText(status('error', 0, 'token expired'))).toBe('error · token expired');
  });
});
