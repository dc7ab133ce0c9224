// The two runtime modules the workerd tests use; the full types live in @cloudflare/workers-types.
declare module 'cloudflare:workers' {
  export const env: {
    ENGRAM_SECRET: string;
    MAX_CLOCK_SKEW_MS: string;
    HYPERDRIVE: { connectionString: string };
  };
  export const exports: {
    default: { fetch(request: Request | string, init?: RequestInit): Promise<Response> };
  };
}
