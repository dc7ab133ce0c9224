import type { Context } from 'hono';
import type { Engram } from '../core/engram.js';
import type { MemoryStore } from '../core/store-contract.js';

/** What the middleware hands to the routes. */
export interface EdgeEnv {
  Variables: {
    /** The store serving this request (one shared store, or one made for the request). */
    store: MemoryStore;
    /** Namespaces the verified token grants. */
    grants: string[];
    /**
     * What the verified token is, however its header was spelled (its signature's bytes): the rate
     * limiter's key, so `bearer`, extra spaces or a re-encoded signature do not buy a fresh allowance.
     */
    tokenKey: string;
    /** The route's namespace, granted and validated. */
    namespace: string;
  };
}

/** The façade over the request's store and namespace; `at` fixes the instant TTLs are judged at. */
export type FacadeFor = (c: Context<EdgeEnv>, at?: number) => Engram;
