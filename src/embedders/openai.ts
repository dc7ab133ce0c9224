import * as v from 'valibot';
import { untilAborted } from '../core/abort.js';
import type { Embedder } from '../core/embedding/embedder.js';
import { EngramError, type ErrorCode, engramError } from '../core/errors.js';
import { parse, positiveInt, timeoutMs as timeoutSchema } from '../core/validate.js';

export interface OpenAIEmbedderOptions {
  /** The API base; `/embeddings` is appended (default `https://api.openai.com/v1`; Ollama: `http://localhost:11434/v1`). */
  url?: string;
  model: string;
  apiKey?: string;
  /**
   * Vector length. Known OpenAI models need none; for others give it. For `text-embedding-3-*` models a
   * `dims` is also sent as `dimensions`, which makes the API shorten its vectors.
   */
  dims?: number;
  /** Recorded as each memory's `embeddingModel` (default: `model`, plus `@dims` when shortened). */
  id?: string;
  /** Texts per request (default 256): a positive integer. */
  batchSize?: number;
  /** A request (its answer read in full) slower than this fails as OFFLINE (default 30 000 ms). */
  timeoutMs?: number;
  /**
   * Cancels: a request under way is aborted and `embed` rejects with the signal's reason, at once and
   * from then on (e.g. on shutdown, rather than waiting out a request to a hung server).
   */
  signal?: AbortSignal;
  fetch?: typeof fetch;
}

const KNOWN_DIMS: Record<string, number> = {
  'text-embedding-3-small': 1536,
  'text-embedding-3-large': 3072,
  'text-embedding-ada-002': 1536,
};

/**
 * The error for an HTTP failure. VALIDATION (400, 422) and PAYLOAD_TOO_LARGE (413) may be the texts
 * refused: a text too long for the model. A bad request parameter (`dimensions`, `model`) is a 400 too,
 * for every text alike; the queue tells the two apart by trying texts alone (`RefusalJudge`). Any other
 * status says the service cannot serve now or at all, whatever the text: the queue backs off.
 */
function httpError(status: number, message: string): EngramError {
  const code = statusCode(status);
  // Another 4xx (405 on a wrong URL, 415, …) answers the request, not its texts.
  const request = code === 'VALIDATION' && status !== 400 && status !== 422;
  return engramError(code, message, request ? { field: 'embedder' } : {});
}

function statusCode(status: number): ErrorCode {
  if (status === 401) return 'UNAUTHORIZED';
  if (status === 403) return 'FORBIDDEN';
  // An unknown model (Ollama) or a wrong URL: every text would fail alike.
  if (status === 404) return 'NOT_FOUND';
  if (status === 429) return 'RATE_LIMITED';
  if (status === 413) return 'PAYLOAD_TOO_LARGE';
  if (status === 408 || status >= 500) return 'OFFLINE';
  return 'VALIDATION';
}

const httpUrl = v.pipe(
  v.string('expected a URL'),
  v.check((url) => {
    try {
      return ['http:', 'https:'].includes(new URL(url).protocol);
    } catch {
      return false;
    }
  }, 'expected an http(s) URL such as http://localhost:11434/v1'),
);

const tuningSchema = v.strictObject(
  {
    url: v.optional(httpUrl),
    model: v.optional(v.unknown()),
    dims: v.optional(v.unknown()),
    apiKey: v.optional(v.string('expected a string')),
    id: v.optional(v.pipe(v.string('expected a string'), v.minLength(1, 'expected a non-empty id'))),
    batchSize: v.optional(positiveInt),
    timeoutMs: v.optional(timeoutSchema),
    signal: v.optional(v.instance(AbortSignal, 'expected an AbortSignal')),
    fetch: v.optional(v.function('expected a function')),
  },
  'expected an options object with model, dims, url, apiKey, id, batchSize, timeoutMs, signal or fetch',
);

interface EmbeddingsResponse {
  data?: Array<{ embedding?: number[]; index?: number }>;
}

/**
 * An embedder over any OpenAI-compatible `POST /v1/embeddings`: OpenAI, Ollama, vLLM, LM Studio,
 * llama.cpp's server. Failures become EngramErrors (OFFLINE when unreachable), which the background
 * queue retries with backoff.
 *
 * @example
 * const embedder = openAIEmbedder({ url: 'http://localhost:11434/v1', model: 'nomic-embed-text', dims: 768 });
 * const mem = await createMemory({ embedder });
 */
export function openAIEmbedder(options: OpenAIEmbedderOptions): Embedder {
  const tuning = parse(tuningSchema, options, 'openAIEmbedder');
  const { model } = options;
  if (typeof model !== 'string' || model.length === 0) {
    throw new EngramError('VALIDATION', 'openAIEmbedder.model: expected a model name', {
      field: 'openAIEmbedder.model',
    });
  }
  const shortened = options.dims !== undefined && model.startsWith('text-embedding-3');
  const dims = options.dims ?? KNOWN_DIMS[model];
  if (dims === undefined || !Number.isInteger(dims) || dims < 1) {
    throw new EngramError(
      'VALIDATION',
      `openAIEmbedder.dims: expected the vector length of ${model} (a positive integer), got ${options.dims}`,
      { field: 'openAIEmbedder.dims' },
    );
  }
  const base = (options.url ?? 'https://api.openai.com/v1').replace(/\/+$/, '');
  const endpoint = base.endsWith('/embeddings') ? base : `${base}/embeddings`;
  const batchSize = tuning.batchSize ?? 256;
  const timeoutMs = tuning.timeoutMs ?? 30_000;
  const doFetch = options.fetch ?? ((...args: Parameters<typeof fetch>) => fetch(...args));

  async function request(input: string[]): Promise<number[][]> {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (options.apiKey) headers.authorization = `Bearer ${options.apiKey}`;
    const body: Record<string, unknown> = { model, input, encoding_format: 'float' };
    if (shortened) body.dimensions = dims;
    const { signal } = options;
    signal?.throwIfAborted();
    const timeout = AbortSignal.timeout(timeoutMs);
    // The request and its body are raced against both too: a custom fetch that ignores them must not hang.
    const either = signal ? AbortSignal.any([signal, timeout]) : timeout;
    let response: Response;
    try {
      response = await untilAborted(
        doFetch(endpoint, { method: 'POST', headers, body: JSON.stringify(body), signal: either }),
        either,
      );
    } catch (error) {
      signal?.throwIfAborted();
      const why = timeout.aborted ? `no answer within ${timeoutMs} ms` : String(error);
      throw new EngramError('OFFLINE', `embedder ${endpoint}: unreachable (${why})`, { cause: error });
    }
    if (!response.ok) {
      const text = (await untilAborted(response.text(), either).catch(() => '')).slice(0, 200);
      throw httpError(response.status, `embedder ${endpoint}: HTTP ${response.status} ${text}`.trim());
    }
    const json = await readJson(response, endpoint, timeoutMs, { timeout, signal, either });
    const data = json?.data;
    // An item that is no object (null, a bare vector) is a wrong answer too, not a TypeError.
    if (
      !Array.isArray(data) ||
      data.length !== input.length ||
      !data.every((d) => typeof d === 'object' && d !== null && !Array.isArray(d))
    ) {
      throw new EngramError(
        'VALIDATION',
        `embedder ${endpoint}: expected data with ${input.length} embeddings in the response`,
        { field: 'embedder' },
      );
    }
    const ordered = [...data].sort((a, b) => (a.index ?? 0) - (b.index ?? 0));
    return ordered.map((d) => d.embedding ?? []);
  }

  return {
    id: options.id ?? (shortened ? `${model}@${dims}` : model),
    dims,
    async embed(texts) {
      const out: number[][] = [];
      for (let i = 0; i < texts.length; i += batchSize) {
        out.push(...(await request(texts.slice(i, i + batchSize))));
      }
      return out;
    },
  };
}

/**
 * The answer's body, parsed. Reading it can stall (the timeout fires mid-body) or the body can be no
 * JSON at all (an HTML error page from a proxy, a cut-off answer): both are the service failing, so
 * OFFLINE like an unreachable one; the caller's own abort keeps its reason.
 */
async function readJson(
  response: Response,
  endpoint: string,
  timeoutMs: number,
  { timeout, signal, either }: { timeout: AbortSignal; signal: AbortSignal | undefined; either: AbortSignal },
): Promise<EmbeddingsResponse | null> {
  let text: string;
  try {
    text = await untilAborted(response.text(), either);
  } catch (error) {
    signal?.throwIfAborted();
    const why = timeout.aborted
      ? `no complete answer within ${timeoutMs} ms`
      : `reading the answer failed (${String(error)})`;
    throw new EngramError('OFFLINE', `embedder ${endpoint}: ${why}`, { cause: error });
  }
  try {
    return JSON.parse(text) as EmbeddingsResponse | null;
  } catch (error) {
    const start = text.slice(0, 80).replace(/\s+/g, ' ');
    throw new EngramError(
      'OFFLINE',
      `embedder ${endpoint}: expected a JSON answer from an OpenAI-compatible /embeddings API, got ${JSON.stringify(start)}${text.length > 80 ? '…' : ''}`,
      { cause: error },
    );
  }
}
