import type { PostgresDriver } from '../../backends/postgres/driver.js';
import { EngramError, errorMessage } from '../../core/errors.js';
import { randomHex } from '../../core/ids.js';
import { type LiveHub, type LiveStreamRequest, LocalHub } from './hub.js';

/** The NOTIFY channel every Engram edge on a database shares. */
export const NOTIFY_CHANNEL = 'engram_changes';

interface Notice {
  /** The publishing hub, so it does not deliver its own news twice. */
  from: string;
  ns: string;
  seq?: number;
}

/**
 * Several Node edges on one Postgres: each keeps its own clients' streams ({@link LocalHub}) and tells
 * the others through Postgres `NOTIFY engram_changes`; each `LISTEN`s and hands the news to its own
 * clients. Postgres stays the only shared thing (no broker to run), and a NOTIFY costs one tiny query
 * per write. A notification is a hint, not data: a client that misses one still gets the change on its
 * next pull (reconnects catch up by Last-Event-ID).
 */
export class PostgresHub implements LiveHub {
  private readonly local = new LocalHub();
  private readonly id = randomHex(8);
  private stopListening: (() => Promise<void>) | undefined;
  private listening: Promise<void> | undefined;

  constructor(private readonly driver: Pick<PostgresDriver, 'listen' | 'notify'>) {
    if (!driver.listen || !driver.notify) {
      throw new Error('postgresHub: this Postgres driver cannot LISTEN/NOTIFY');
    }
  }

  /** Open event streams on this edge. */
  get connections(): number {
    return this.local.connections;
  }

  /** Starts listening (a stream waits for it, so its client misses no notification once it is open). */
  start(): Promise<void> {
    this.listening ??= this.driver.listen!(NOTIFY_CHANNEL, (payload) => this.receive(payload)).then(
      (stop) => {
        this.stopListening = stop;
      },
      (error: unknown) => {
        // Tried again by the next stream: a database unreachable for a moment must not end live sync here.
        // Its stream is a STORAGE error (503, retried by the client), as any route's store failure is.
        this.listening = undefined;
        const reason = errorMessage(error);
        throw new EngramError('STORAGE', `postgresHub: LISTEN ${NOTIFY_CHANNEL} failed: ${reason}`, {
          cause: error,
        });
      },
    );
    return this.listening;
  }

  async publish(namespace: string, seq?: number): Promise<void> {
    this.local.deliver(namespace, seq);
    const notice: Notice = { from: this.id, ns: namespace, ...(seq === undefined ? {} : { seq }) };
    await this.driver.notify!(NOTIFY_CHANNEL, JSON.stringify(notice));
  }

  async stream(request: LiveStreamRequest): Promise<Response> {
    await this.start();
    return this.local.stream(request);
  }

  async close(): Promise<void> {
    await this.local.close();
    await this.listening?.catch(() => undefined);
    await this.stopListening?.();
  }

  private receive(payload: string): void {
    let notice: Notice | null;
    try {
      notice = JSON.parse(payload) as Notice | null;
    } catch {
      return;
    }
    // Anyone may NOTIFY on the channel: what is not an Engram notice is skipped.
    if (typeof notice?.ns !== 'string' || notice.from === this.id) return;
    this.local.deliver(notice.ns, typeof notice.seq === 'number' ? notice.seq : undefined);
  }
}

/** Live sync across every edge on this Postgres database (postgres.js or PGlite driver). */
export function postgresHub(driver: PostgresDriver): PostgresHub {
  return new PostgresHub(driver);
}
