import { jsonSchema, tool } from 'ai';
import type { Engram } from '../core/engram.js';
import { EngramError, validationError } from '../core/errors.js';
import type { Memory } from '../core/model.js';
import { createSerialQueue } from '../core/serial.js';
import { idSchema, memoryInputSchema, parse, querySchema, searchOptionsSchema } from '../core/validate.js';
import { forgetInput, RECALL_MAX, recallInput, rememberInput, toolArguments } from './tool-inputs.js';

export interface MemoryToolsOptions {
  /** How many memories `recall` returns at most when the model does not say (default 5). */
  recallLimit?: number;
}

/** What the model sees of a memory: its words and labels, not embeddings or clocks. */
export interface RecalledMemory {
  id: string;
  content: string;
  kind: string;
  tags: string[];
  createdAt: string;
}

function view(m: Memory): RecalledMemory {
  return { id: m.id, content: m.content, kind: m.kind, tags: m.tags, createdAt: m.createdAt };
}

function checkRecallLimit(limit: unknown, field: string): void {
  if (limit === undefined) return;
  if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1 || limit > RECALL_MAX) {
    throw new EngramError(
      'VALIDATION',
      `${field}: expected an integer from 1 to ${RECALL_MAX}, got ${JSON.stringify(limit) ?? typeof limit}`,
      { field },
    );
  }
}

/** What the tools read of the SDK's execution options (ai 5, 6 and 7 alike). */
interface CallOptions {
  abortSignal?: AbortSignal;
}

/**
 * Tools for the Vercel AI SDK that give a model long-term memory in Engram: `remember` stores a fact,
 * `recall` runs a ranked search, `forget` deletes by id. Schemas are plain JSON Schema, so no schema
 * library is needed; Engram validates every input and a bad one comes back to the model as a tool error.
 * The SDK runs one step's tool calls in parallel; the tools of one set run one at a time, in call order,
 * so a `recall` asked after a `remember` sees it.
 *
 * @example
 * import { generateText, stepCountIs } from 'ai';
 * import { createMemory } from 'engram';
 * import { memoryTools } from 'engram/ai-sdk';
 * const mem = await createMemory({ namespace: 'user-42' });
 * const { text } = await generateText({ model, tools: memoryTools(mem), stopWhen: stepCountIs(5), prompt });
 */
export function memoryTools(mem: Engram, options: MemoryToolsOptions = {}) {
  // Checked here, not at the model's first tool call, where the failure would read as the model's.
  if (typeof (mem as { add?: unknown } | null)?.add !== 'function') {
    throw validationError(
      'memoryTools.mem',
      'the Engram createMemory() returns',
      mem === null ? 'null' : typeof mem,
    );
  }
  if (typeof options !== 'object' || options === null) {
    throw validationError(
      'memoryTools.options',
      'an options object such as { recallLimit: 5 }',
      String(options),
    );
  }
  for (const name of Object.keys(options)) {
    if (name !== 'recallLimit')
      throw validationError(`memoryTools.options.${name}`, 'only recallLimit', 'an unknown option');
  }
  const recallLimit = options.recallLimit ?? 5;
  checkRecallLimit(recallLimit, 'memoryTools.options.recallLimit');
  const recallSchema = recallInput(recallLimit);
  const serial = createSerialQueue();
  /**
   * Runs a tool's body in call order. A call whose signal is aborted by its turn (while it waited behind
   * the calls before it, too) runs nothing and throws the signal's reason, as the AI SDK does between
   * steps (`throwIfAborted`: an AbortError, or a TimeoutError for `AbortSignal.timeout`).
   */
  const inTurn = <T>(call: CallOptions | undefined, body: () => Promise<T>) =>
    serial(async () => {
      call?.abortSignal?.throwIfAborted();
      return body();
    });
  return {
    remember: tool({
      description:
        'Store something worth remembering about the user or the task (a fact, preference or event). Returns the stored memory with its id.',
      inputSchema: jsonSchema<{ content: string; kind?: string | null; tags?: string[] | null }>(
        rememberInput,
      ),
      execute: (input, call) =>
        inTurn(call, async () => {
          const { content, kind, tags } = toolArguments(input, 'remember', rememberInput);
          // Checked here so that an error names the tool's field (`remember.content`), not `add`'s.
          const parsed = parse(memoryInputSchema, { content, kind, tags }, 'remember');
          return view(await mem.add(parsed));
        }),
    }),
    recall: tool({
      description:
        'Search long-term memory, best matches first. Use before answering questions about the user or earlier work.',
      inputSchema: jsonSchema<{ query: string; limit?: number | null; kind?: string | null }>(recallSchema),
      execute: (input, call) =>
        inTurn(call, async () => {
          const args = toolArguments(input, 'recall', recallSchema);
          const query = parse(querySchema, args.query, 'recall.query');
          // Search answers a blank query with an error of its own field (`query`): this tool's is named.
          if (query.trim() === '')
            throw validationError('recall.query', 'words to look for', 'a blank query');
          checkRecallLimit(args.limit, 'recall.limit');
          const { kind } = parse(searchOptionsSchema, { kind: args.kind }, 'recall');
          const limit = (args.limit as number | undefined) ?? recallLimit;
          const hits = await mem.search(query, { limit, kind });
          return { memories: hits.map((h) => ({ ...view(h.memory), score: h.score })) };
        }),
    }),
    forget: tool({
      description:
        'Delete a memory by its id (from remember or recall), e.g. when the user asks to forget it or it is wrong.',
      inputSchema: jsonSchema<{ id: string }>(forgetInput),
      execute: (input, call) =>
        inTurn(call, async () => {
          // A malformed id is an error the model can act on; a well-formed one naming nothing (made up, or
          // forgotten already) is `deleted: false`, as `mem.remove` answers: forgetting twice is harmless.
          const id = parse(idSchema, toolArguments(input, 'forget', forgetInput).id, 'forget.id');
          return { id, deleted: await mem.remove(id) };
        }),
    }),
  };
}
