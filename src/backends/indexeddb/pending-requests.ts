/**
 * IDB requests issued without awaiting each one (they queue inside their transaction), settled together.
 * Promised requests (idb's) are caught as they are tracked, so a failure never surfaces as an unhandled
 * rejection while other requests are still being awaited; `settle` rethrows the first one.
 *
 * Bulk writes pass native requests instead: a handler each rather than a promise and two listeners
 * (a 1000-memory batch queues ~1500 of them). A transaction runs its requests and fires their events in
 * the order they were made, so once the last one has fired, every earlier one has.
 */
export class PendingRequests {
  private readonly requests: Promise<unknown>[] = [];
  private last: IDBRequest | undefined;
  private failure: { error: unknown } | undefined;
  private readonly failed = (event: Event) => {
    this.failure ??= { error: (event.target as IDBRequest).error };
  };

  track(request: Promise<unknown>): void {
    this.requests.push(
      request.catch((error: unknown) => {
        this.failure ??= { error };
      }),
    );
  }

  /** A native request: its failure aborts the transaction, as an unhandled idb rejection would. */
  trackRequest(request: IDBRequest): void {
    request.onerror = this.failed;
    this.last = request;
  }

  /** The first request that failed so far; a transaction it aborted then fails every later read too. */
  get firstFailure(): { error: unknown } | undefined {
    return this.failure;
  }

  async settle(): Promise<void> {
    const last = this.last;
    this.last = undefined;
    await Promise.all([...this.requests, last && fired(last)]);
    this.requests.length = 0;
    if (this.failure) throw this.failure.error;
  }
}

/** Resolves once the request's success or error event has fired. */
function fired(request: IDBRequest): Promise<void> | undefined {
  if (request.readyState === 'done') return undefined;
  return new Promise((resolve) => {
    request.addEventListener('success', () => resolve());
    request.addEventListener('error', () => resolve());
  });
}
