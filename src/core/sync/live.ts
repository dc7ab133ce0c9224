/**
 * The client half of live sync: one `GET /v1/ns/:ns/events` stream per replica, read with `fetch` (so the
 * token travels in a header, and it works in Node, Workers and browsers alike). Every `change` event asks
 * the engine to pull now. The stream is watched: no `ready` within `openTimeoutMs` of asking means
 * something between us and the edge buffers it (a proxy), no byte within `idleTimeoutMs` (three missed
 * heartbeats) means the connection died quietly. Failures reconnect with jittered exponential backoff;
 * where streaming cannot work (no readable body, an edge without the route, a buffering proxy twice in a
 * row) the replica falls back to polling on the engine's interval and tries live again later.
 */

import { bearerToken, type TokenSource } from '../http-client.js';

export type LiveState = 'off' | 'connecting' | 'live' | 'polling';

export interface LiveOptions {
  url: string;
  /** Read before every connection: a function may give a renewed token. */
  token: TokenSource;
  namespace: string;
  fetch?: typeof fetch;
  /** The replica's pull cursor, sent as `lastEventId` so a reconnect catches up at once. */
  cursor(): Promise<number>;
  /** The feed moved on the edge (to `seq` when the edge said), or may have after a reconnect: pull. */
  onChange(seq?: number): void;
  onState?(state: LiveState, reason?: string): void;
  /** Time to receive the stream's first event before calling the path buffered (default 5 000 ms). */
  openTimeoutMs?: number;
  /** Silence after which a connection counts as dead (default 45 000 ms: three 15 s heartbeats). */
  idleTimeoutMs?: number;
  backoff?: { baseMs?: number; maxMs?: number };
  /** How long to poll before trying a stream again after falling back (default 300 000 ms). */
  retryLiveMs?: number;
  random?: () => number;
}

type Outcome = 'ended' | 'failed' | 'unsupported' | 'buffered' | 'refused' | 'stopped';

type Timer = ReturnType<typeof setTimeout>;

type EventListenerLike = (type: string, listener: () => void) => void;

/** The window (or worker) whose `online` event says the network is back; Node has no such listener methods. */
const globalEvents = globalThis as {
  addEventListener?: EventListenerLike;
  removeEventListener?: EventListenerLike;
};

function unref(timer: Timer): Timer {
  (timer as { unref?: () => void }).unref?.();
  return timer;
}

export class LiveConnection {
  private stateNow: LiveState = 'off';
  private stopped = false;
  private controller: AbortController | undefined;
  private wake: (() => void) | undefined;
  private attempt = 0;
  private buffered = 0;
  private loop: Promise<void> | undefined;
  /** Waiting out the backoff after a failure: the browser's `online` event, or an answer of the edge, ends the wait. */
  private backingOff = false;
  /** Polling after the edge refused a token that a function gives: a renewed one may be accepted. */
  private refusedToken = false;
  private readonly onOnline = () => this.reconnectNow();

  constructor(private readonly options: LiveOptions) {}

  get state(): LiveState {
    return this.stateNow;
  }

  start(): void {
    if (this.loop || this.stopped) return;
    globalEvents.addEventListener?.('online', this.onOnline);
    this.loop = this.run();
  }

  /**
   * The edge is reachable again (the network came back, or a sync round just succeeded): a stream waiting
   * out its backoff reconnects now instead of after a wait grown while the edge was down.
   */
  reconnectNow(): void {
    if (!this.backingOff && !this.refusedToken) return;
    this.attempt = 0;
    this.wake?.();
  }

  /** Ends the stream and every timer; resolves once the loop has exited. */
  async stop(): Promise<void> {
    this.stopped = true;
    globalEvents.removeEventListener?.('online', this.onOnline);
    this.controller?.abort();
    this.wake?.();
    await this.loop;
    this.setState('off');
  }

  private setState(state: LiveState, reason?: string): void {
    if (state === this.stateNow) return;
    this.stateNow = state;
    this.options.onState?.(state, reason);
  }

  private async run(): Promise<void> {
    let connectedBefore = false;
    while (!this.stopped) {
      this.setState('connecting');
      const outcome = await this.connectOnce(() => {
        // A stream that opened after an earlier one may have missed news in between: pull once.
        if (connectedBefore) this.options.onChange();
        connectedBefore = true;
      });
      if (this.stopped || outcome === 'stopped') return;
      if (outcome === 'buffered') this.buffered++;
      if (outcome === 'unsupported' || (outcome === 'buffered' && this.buffered >= 2)) {
        this.setState('polling', outcome === 'unsupported' ? 'streaming unsupported' : 'stream buffered');
        this.buffered = 0;
        await this.sleep(this.options.retryLiveMs ?? 300_000);
        continue;
      }
      if (outcome === 'refused') {
        // A refused token needs a person (or a renewed token), not a retry loop; the engine reports it.
        this.setState('polling', 'the edge refused the token');
        // A token function may give a renewed one: a sync round the edge accepted ends the wait.
        this.refusedToken = typeof this.options.token === 'function';
        await this.sleep(this.options.retryLiveMs ?? 300_000);
        this.refusedToken = false;
        continue;
      }
      // The stream is down from now on, not after the wait: no reader should take it for live meanwhile.
      this.setState('connecting');
      // Attempts made with the network down back off far; once it is back, reconnect at once.
      this.backingOff = true;
      await this.sleep(this.backoffDelay());
      this.backingOff = false;
    }
  }

  private backoffDelay(): number {
    const base = this.options.backoff?.baseMs ?? 1000;
    const max = this.options.backoff?.maxMs ?? 60_000;
    const ceiling = Math.min(max, base * 2 ** this.attempt);
    this.attempt++;
    return ceiling / 2 + (this.options.random ?? Math.random)() * (ceiling / 2);
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = unref(setTimeout(done, ms));
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wake = done;
    });
  }

  private async connectOnce(onReady: () => void): Promise<Outcome> {
    const { options } = this;
    const controller = new AbortController();
    this.controller = controller;
    let ready = false;
    let timedOut = false;
    let watchdog: Timer | undefined;
    const arm = (ms: number) => {
      clearTimeout(watchdog);
      watchdog = unref(
        setTimeout(() => {
          timedOut = true;
          controller.abort();
        }, ms),
      );
    };
    const aborted = (): Outcome => {
      if (this.stopped) return 'stopped';
      return timedOut && !ready ? 'buffered' : 'failed';
    };
    arm(options.openTimeoutMs ?? 5000);
    const idle = options.idleTimeoutMs ?? 45_000;
    try {
      const fetchFn = options.fetch ?? globalThis.fetch.bind(globalThis);
      // The cursor travels in the query, not as a Last-Event-ID header: a page on another origin than the
      // edge would need that header allowed by the edge's CORS preflight, and a proxy's may not allow it.
      const url = `${options.url.replace(/\/+$/, '')}/v1/ns/${encodeURIComponent(options.namespace)}/events?lastEventId=${await options.cursor()}`;
      const token = await bearerToken(options.token, options.namespace, 'sync.token').catch(() => undefined);
      // Stopped while the cursor or the token was read: a fetch given an aborted signal need not refuse to start.
      if (controller.signal.aborted) return aborted();
      // A token function that failed may work at the next attempt (its auth server was down): back off.
      if (token === undefined) return 'failed';
      const response = await fetchFn(url, {
        headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream' },
        signal: controller.signal,
      });
      if (response.status === 401 || response.status === 403) return 'refused';
      const type = response.headers.get('content-type') ?? '';
      if ([404, 405, 501].includes(response.status)) return 'unsupported';
      if (!response.ok) return 'failed';
      if (!type.startsWith('text/event-stream')) return 'unsupported';
      const reader = response.body?.getReader?.();
      if (!reader) return 'unsupported';
      // Not every fetch ends its body on abort (a wrapper that drops the signal, an in-process app.fetch):
      // stop() and the watchdog would leave the read, and the edge's stream with its timers, open for good.
      controller.signal.addEventListener('abort', () => void reader.cancel().catch(() => {}), { once: true });
      if (controller.signal.aborted) void reader.cancel().catch(() => {});
      const decoder = new TextDecoder();
      let buffer = '';
      let event = 'message';
      let id: string | undefined;
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return controller.signal.aborted ? aborted() : 'ended';
        if (ready) arm(idle);
        buffer += decoder.decode(value, { stream: true });
        let newline = buffer.search(/\r?\n/);
        while (newline >= 0) {
          const line = buffer.slice(0, newline);
          buffer = buffer.slice(newline + (buffer[newline] === '\r' ? 2 : 1));
          newline = buffer.search(/\r?\n/);
          if (line === '') {
            if (event === 'ready' && !ready) {
              ready = true;
              this.attempt = 0;
              this.buffered = 0;
              arm(idle);
              this.setState('live');
              onReady();
            } else if (event === 'change') {
              const seq = id === undefined ? Number.NaN : Number(id);
              options.onChange(Number.isSafeInteger(seq) ? seq : undefined);
            }
            event = 'message';
            id = undefined;
          } else if (line.startsWith('event:')) {
            event = line.slice(6).trim();
          } else if (line.startsWith('id:')) {
            id = line.slice(3).trim();
          }
        }
      }
    } catch {
      return aborted();
    } finally {
      clearTimeout(watchdog);
      controller.abort();
    }
  }
}
