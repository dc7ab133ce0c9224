import type { DemoConfig } from '../edge/demo.js';

const CACHE_KEY = 'engram-demo-config';
/** A token this close to its expiry is replaced before the next request. */
const REFRESH_MARGIN_MS = 60_000;

async function fetchConfig(): Promise<DemoConfig> {
  const response = await globalThis.fetch('/demo/config', { cache: 'no-store' });
  if (!response.ok) throw new Error(`GET /demo/config: HTTP ${response.status}`);
  const config = (await response.json()) as DemoConfig;
  localStorage.setItem(CACHE_KEY, JSON.stringify(config));
  return config;
}

function cachedConfig(): DemoConfig | undefined {
  const saved = localStorage.getItem(CACHE_KEY);
  return saved ? (JSON.parse(saved) as DemoConfig) : undefined;
}

/**
 * The server's short-lived token for the demo namespace, kept fresh. The last one is cached so the page
 * still opens its local notebook when the server cannot be reached; sync then waits in `offline`.
 */
export class DemoSession {
  private constructor(private config: DemoConfig) {}

  static async start(): Promise<DemoSession> {
    try {
      return new DemoSession(await fetchConfig());
    } catch (error) {
      const cached = cachedConfig();
      if (!cached) throw error;
      return new DemoSession(cached);
    }
  }

  get namespace(): string {
    return this.config.namespace;
  }

  get token(): string {
    return this.config.token;
  }

  /**
   * `fetch` for the sync engine: every request carries a current token, renewed shortly before it expires
   * and once more on a 401 (a server restarted with another secret).
   */
  readonly fetch: typeof fetch = async (input, init) => {
    if (Date.parse(this.config.expiresAt) - Date.now() < REFRESH_MARGIN_MS) await this.renew();
    const response = await this.send(input, init);
    if (response.status !== 401) return response;
    await this.renew();
    return this.send(input, init);
  };

  /** An unreachable server keeps the old token: the request fails as offline and is retried later. */
  private async renew(): Promise<void> {
    this.config = await fetchConfig().catch(() => this.config);
  }

  private send(input: RequestInfo | URL, init: RequestInit | undefined): Promise<Response> {
    const headers = new Headers(init?.headers);
    headers.set('authorization', `Bearer ${this.config.token}`);
    return globalThis.fetch(input, { ...init, headers });
  }
}
