/**
 * Coalesces saves after writes: a save starts `delayMs` after the last write, or `maxDelayMs` after the
 * first unsaved one when writes keep coming. Saves never overlap, so an older copy never lands last.
 */
export class DebouncedSave {
  private timer: ReturnType<typeof setTimeout> | undefined;
  private dirtySince: number | undefined;
  private running: Promise<void> = Promise.resolve();
  private failure: unknown;

  constructor(
    private readonly save: () => Promise<void>,
    private readonly delayMs: number,
    private readonly maxDelayMs: number,
    private readonly onError: ((error: unknown) => void) | undefined,
  ) {}

  schedule(): void {
    const now = Date.now();
    this.dirtySince ??= now;
    clearTimeout(this.timer);
    const wait = Math.max(0, Math.min(this.delayMs, this.dirtySince + this.maxDelayMs - now));
    // Not flush(): a background save's failure waits for the next flush() or close(), which may be
    // awaiting this very save.
    this.timer = setTimeout(() => this.start(), wait);
  }

  /** Saves now if anything is unsaved; rejects with the error of a failed save, even a background one. */
  async flush(): Promise<void> {
    this.start();
    await this.running;
    if (this.failure !== undefined) {
      const failure = this.failure;
      this.failure = undefined;
      throw failure;
    }
  }

  /** Queues a save if anything is unsaved, after the one under way. */
  private start(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.dirtySince === undefined) return;
    this.dirtySince = undefined;
    this.running = this.running.then(() => this.attempt());
  }

  private async attempt(): Promise<void> {
    try {
      await this.save();
      this.failure = undefined;
    } catch (error) {
      // Still unsaved: the next write or flush tries again. Until then the error waits for flush() or close().
      this.dirtySince ??= Date.now();
      this.failure = error;
      this.onError?.(error);
    }
  }
}
