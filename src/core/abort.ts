/**
 * `promise`, or a rejection as soon as `signal` aborts, with `reason()` (the signal's reason by
 * default): a wait ends on abort even when what it waits for ignores the signal (a custom `fetch`, an
 * idle pipe). A listener is added and removed per wait, rather than `Promise.race` against one
 * long-lived promise: every race would leave a reaction on that promise, a leak of one per wait.
 */
export function untilAborted<T>(
  promise: T | Promise<T>,
  signal: AbortSignal,
  reason: () => unknown = () => signal.reason,
): Promise<T> {
  if (signal.aborted) {
    // What was started is abandoned; its own failure later must not surface as an unhandled rejection.
    Promise.resolve(promise).catch(() => {});
    return Promise.reject(reason());
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(reason());
    signal.addEventListener('abort', onAbort, { once: true });
    Promise.resolve(promise).then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}
