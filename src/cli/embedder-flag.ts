import type { Embedder } from '../core/embedding/embedder.js';
import { errorMessage } from '../core/errors.js';
import { openAIEmbedder } from '../embedders/openai.js';
import { UsageError } from './io.js';

/**
 * `--embedder openai:<model> [--url U] [--dims N] [--api-key K]`, shared by `reembed` and `mcp`: any
 * OpenAI-compatible /v1/embeddings (OpenAI, Ollama, vLLM, LM Studio). Without `--dims`, one short
 * request asks the server the model's vector length.
 */
export async function embedderFromFlags(
  flags: { spec: string; url?: string; dims?: string; apiKey?: string },
  env: Record<string, string | undefined>,
  urlFlag: string,
  /** Aborts requests under way (SIGINT), the dimensions probe included. */
  signal?: AbortSignal,
): Promise<Embedder> {
  const model = /^openai:(.+)$/.exec(flags.spec)?.[1];
  if (!model) throw new UsageError(`--embedder: expected openai:<model>, got ${JSON.stringify(flags.spec)}`);
  const dims = flags.dims === undefined ? undefined : Number(flags.dims);
  if (dims !== undefined && (!Number.isInteger(dims) || dims < 1)) {
    throw new UsageError(`--dims: expected a positive integer, got ${JSON.stringify(flags.dims)}`);
  }
  if (flags.url !== undefined) checkApiUrl(flags.url, urlFlag);
  const options = { url: flags.url, model, apiKey: flags.apiKey ?? env.OPENAI_API_KEY, dims, signal };
  try {
    return openAIEmbedder(options);
  } catch (error) {
    if (dims !== undefined) throw error;
    const [vector] = await openAIEmbedder({ ...options, dims: 1 })
      .embed(['dimension probe'])
      .catch((cause: unknown) => {
        if (signal?.aborted) throw cause;
        throw new UsageError(
          `--embedder: could not ask ${flags.url ?? 'the API'} (${urlFlag}) for ${model}'s dimensions (${errorMessage(cause)}); pass --dims N`,
        );
      });
    return openAIEmbedder({ ...options, dims: vector!.length });
  }
}

/** The API base must be an http(s) URL: anything else could only fail later as "unreachable". */
function checkApiUrl(url: string, urlFlag: string): void {
  let protocol: string | undefined;
  try {
    protocol = new URL(url).protocol;
  } catch {
    throw new UsageError(`${urlFlag}: expected an http(s):// URL, got ${JSON.stringify(url)}`);
  }
  if (protocol !== 'http:' && protocol !== 'https:') {
    throw new UsageError(`${urlFlag}: expected an http(s):// URL, got ${JSON.stringify(url)}`);
  }
}
