type ChangeListener = (namespace: string, ids: string[]) => void;

interface ChangeMessage {
  namespace: string;
  ids: string[];
}

function isChangeMessage(data: unknown): data is ChangeMessage {
  const message = data as Partial<ChangeMessage> | null;
  return (
    typeof message?.namespace === 'string' &&
    Array.isArray(message.ids) &&
    message.ids.every((id) => typeof id === 'string')
  );
}

/**
 * Tells other tabs, workers and store instances on the same database which ids a committed write
 * touched. A channel never hears its own posts, so a store's listeners only learn of others' writes.
 * Where BroadcastChannel does not exist, writes simply go untold.
 */
export class ChangeChannel {
  private channel: BroadcastChannel | undefined;
  private readonly listeners = new Set<ChangeListener>();

  constructor(private readonly name: string) {}

  post(namespace: string, ids: string[]): void {
    if (ids.length > 0) this.open()?.postMessage({ namespace, ids } satisfies ChangeMessage);
  }

  subscribe(listener: ChangeListener): () => void {
    this.listeners.add(listener);
    this.open();
    return () => {
      this.listeners.delete(listener);
    };
  }

  close(): void {
    this.channel?.close();
    this.channel = undefined;
    this.listeners.clear();
  }

  private open(): BroadcastChannel | undefined {
    if (this.channel || typeof BroadcastChannel === 'undefined') return this.channel;
    const channel = new BroadcastChannel(this.name);
    channel.onmessage = (event: MessageEvent<unknown>) => this.deliver(event.data);
    // Node keeps a process alive while a channel is referenced; a store must not hold a CLI open.
    (channel as { unref?: () => void }).unref?.();
    this.channel = channel;
    return channel;
  }

  private deliver(data: unknown): void {
    if (!isChangeMessage(data)) return;
    for (const listener of this.listeners) {
      try {
        listener(data.namespace, data.ids);
      } catch {
        // One subscriber's bug must not keep the news from the others (the façade isolates its own).
      }
    }
  }
}
