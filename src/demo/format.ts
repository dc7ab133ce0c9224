import type { SyncStatus } from '../core/sync/engine.js';

const TAG = /(?:^|\s)#([\p{L}\p{N}_-]+)/gu;

/** Splits what was typed into the memory's text and its `#tags` (lower-cased, each once). */
export function parseEntry(text: string): { content: string; tags: string[] } {
  const tags = [...new Set([...text.matchAll(TAG)].map((m) => m[1]!.toLowerCase()))];
  const content = text.replace(TAG, ' ').replace(/\s+/g, ' ').trim();
  return { content: content || text.trim(), tags };
}

/**
 * The search query for what is typed so far: the last word, while it is still being typed, also counts
 * as a prefix (`coff` finds "coffee"), next to itself as a word (so a whole word still finds its stem).
 */
export function asYouTypeQuery(typed: string): string {
  const query = typed.trim();
  if (query === '' || /\s$/.test(typed)) return query;
  const last = /(?:^|\s)([^\s"*-][^\s"*]*)$/.exec(query);
  return last ? `${query} ${last[1]}*` : query;
}

const UNITS: Array<[limitSeconds: number, seconds: number, unit: string]> = [
  [3600, 60, 'min'],
  [86_400, 3600, 'h'],
  [30 * 86_400, 86_400, 'd'],
];

/** "just now", "2 min ago", "5 h ago", "3 d ago", then the date. */
export function timeAgo(iso: string, now: number): string {
  const seconds = Math.max(0, (now - Date.parse(iso)) / 1000);
  if (seconds < 45) return 'just now';
  for (const [limit, size, unit] of UNITS) {
    if (seconds < limit) return `${Math.max(1, Math.round(seconds / size))} ${unit} ago`;
  }
  return new Date(iso).toLocaleDateString();
}

/** The sync line: "online · synced", "syncing", "offline · 2 pending", "error: …". */
export function statusText(status: SyncStatus): string {
  const pending = status.pending > 0 ? `${status.pending} pending` : 'synced';
  switch (status.state) {
    case 'online':
      return `online · ${pending}`;
    case 'syncing':
      return status.pending > 0 ? `syncing · ${status.pending} pending` : 'syncing';
    case 'offline':
      return `offline · ${status.pending} pending`;
    case 'error':
      return `error · ${status.error ?? 'sync refused'}`;
    default:
      return 'this browser only';
  }
}
