import { inProcessSync } from '../edge/helpers.js';

export type EdgeClient = ReturnType<Awaited<ReturnType<typeof heldEdge>>['client']>;

/**
 * An in-process edge whose clients' requests can be held back (`hold`, until `release`): a replica's
 * rounds, the one it starts as it opens included, reach the edge only once the test lets them; while
 * `failPushes(true)` holds, its push requests fail as if the network were down. `firstPush(edit)` also makes `edit` as the first push request after it goes out, before the edge sees
 * it, and resolves once it did.
 */
export async function heldEdge(namespace: string) {
  const base = await inProcessSync(namespace);
  return {
    client() {
      let held: Promise<void> | undefined;
      let release = () => {};
      let during: (() => Promise<unknown>) | undefined;
      let done = () => {};
      let pushesFail = false;
      const fetch = async (input: RequestInfo | URL, init?: RequestInit) => {
        await held;
        const push = typeof init?.body === 'string' && init.body.includes('"push"');
        if (push && pushesFail) throw new TypeError('network down');
        const edit = push ? during : undefined;
        if (edit) {
          during = undefined;
          await edit();
          done();
        }
        return base.fetch(input, init);
      };
      const link = {
        sync: { ...base, fetch: fetch as typeof globalThis.fetch },
        hold() {
          held = new Promise((resolve) => {
            release = resolve;
          });
        },
        release() {
          held = undefined;
          release();
        },
        failPushes(fail: boolean) {
          pushesFail = fail;
        },
        firstPush(edit: () => Promise<unknown>): Promise<void> {
          const made = new Promise<void>((resolve) => {
            done = resolve;
          });
          during = edit;
          link.release();
          return made;
        },
      };
      return link;
    },
  };
}
