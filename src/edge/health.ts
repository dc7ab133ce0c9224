import type { Handler } from 'hono';
import type { EdgeEnv } from './env.js';

export interface HealthOptions {
  /** Resolves when the store answers; the default reads one meta key, which every store serves cheaply. */
  check?: () => Promise<unknown>;
  /** A store that has not answered after this long counts as down (default 3000 ms). */
  timeoutMs?: number;
}

/** `GET /health`: 200 `{ ok: true }` when the store answers in time, else 503 `{ ok: false }`. */
export function healthHandler(options: HealthOptions = {}): Handler<EdgeEnv> {
  const timeoutMs = options.timeoutMs ?? 3000;
  return async (c) => {
    const store = c.var.store;
    const check = options.check ?? (() => store.getMeta('health', 'probe'));
    const started = Date.now();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      await Promise.race([check(), timeout]);
      return c.json({ ok: true, store: store.kind, ms: Date.now() - started });
    } catch (error) {
      c.error = error instanceof Error ? error : new Error(String(error)); // for the request log
      const message = 'the store is unreachable; the server log has the details';
      return c.json({ ok: false, store: store.kind, error: { code: 'STORAGE', message } }, 503);
    } finally {
      clearTimeout(timer);
    }
  };
}
