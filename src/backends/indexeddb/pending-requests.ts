/**
 * IDB requests issued without awaiting each one (they queue inside their transaction), settled together.
 * Each is caught as it is tracked, so a failure never surfaces as an unhandled rejection while other
 * requests are still being awaited; `settle` rethrows the first one.
 */
export class PendingRequests {
  private readonly requests: Promise<unknown>[] = [];
  private failure: { error: unknown } | undefined;

  track(request: Promise<unknown>): void {
    this.requests.push(
      request.catch((error: unknown) => {
        this.failure ??= { error };
      }),
    );
  }

  /** The first request that failed so far; a transaction it aborted then fails every later read too. */
  get firstFailure(): { error: unknown } | undefined {
    return this.failure;
  }

  async settle(): Promise<void> {
    await Promise.all(this.requests);
    this.requests.length = 0;
    if (this.failure) throw this.failure.error;
  }
}
