import type { Engram } from '../core/memory.js';

/** What the middleware hands to the routes. */
export interface EdgeEnv {
  Variables: {
    /** Namespaces the verified token grants. */
    grants: string[];
    /** The route's namespace, granted and validated. */
    namespace: string;
  };
}

/** Builds the façade for the request's namespace; `at` fixes the instant TTLs are judged at. */
export type FacadeFor = (namespace: string, at?: number) => Engram;
