import { jsonSchema, tool } from 'ai';
import type { Engram } from '../core/engram.js';
import { EngramError, validationError } from '../core/errors.js';
import type { Memory } from '../core/model.js';
import { createSerialQueue } from '../core/serial.js';
import { idSchema, memoryInputSchema, parse, querySchema, searchOptionsSchema } from '../core/validate.js';

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

/** `recall.limit`'s bounds, as its schema declares them (the SDK does not enforce a JSON Schema's). */
const RECALL_MAX = 50;

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
  const serial = createSerialQueue();
  return {
    remember: tool({
      description:
        'Store something worth remembering about the user or the task (a fact, preference or event). Returns the stored memory with its id.',
      inputSchema: jsonSchema<{ content: string; kind?: string; tags?: string[] }>({
        type: 'object',
        properties: {
          content: { type: 'string', description: 'What to remember, as one self-contained sentence' },
          kind: { type: 'string', description: 'A label such as fact, preference or event (default note)' },
          tags: { type: 'array', items: { type: 'string' }, description: 'Short tags to filter by later' },
        },
        required: ['content'],
        additionalProperties: false,
      }),
      execute: (args) =>
        serial(async () => {
          const { content, kind, tags } = argumentsOf(args, 'remember');
          // Checked here so that an error names the tool's field (`remember.content`), not `add`'s.
          const input = parse(memoryInputSchema, { content, kind, tags }, 'remember');
          return view(await mem.add(input));
        }),
    }),
    recall: tool({
      description:
        'Search long-term memory, best matches first. Use before answering questions about the user or earlier work.',
      inputSchema: jsonSchema<{ query: string; limit?: number; kind?: string }>({
        type: 'object',
        properties: {
          query: { type: 'string', description: 'Words to look for' },
          limit: {
            type: 'integer',
            minimum: 1,
            maximum: 50,
            description: `At most this many (default ${recallLimit})`,
          },
          kind: { type: 'string', description: 'Only memories of this kind' },
        },
        required: ['query'],
        additionalProperties: false,
      }),
      execute: (input) =>
        serial(async () => {
          const { query, limit, kind } = argumentsOf(input, 'recall');
          parse(querySchema, query, 'recall.query');
          // Search answers a blank query with an error of its own field (`query`): this tool's is named.
          if (query.trim() === '')
            throw validationError('recall.query', 'words to look for', 'a blank query');
          checkRecallLimit(limit, 'recall.limit');
          parse(searchOptionsSchema, { kind }, 'recall');
          const hits = await mem.search(query, { limit: limit ?? recallLimit, kind });
          return { memories: hits.map((h) => ({ ...view(h.memory), score: h.score })) };
        }),
    }),
    forget: tool({
      description:
        'Delete a memory by its id (from remember or recall), e.g. when the user asks to forget it or it is wrong.',
      inputSchema: jsonSchema<{ id: string }>({
        type: 'object',
        properties: { id: { type: 'string', description: 'The id of the memory to delete' } },
        required: ['id'],
        additionalProperties: false,
      }),
      execute: (input) =>
        serial(async () => {
          const { id } = argumentsOf(input, 'forget');
          // A malformed id is an error the model can act on; a well-formed one naming nothing (made up, or
          // forgotten already) is `deleted: false`, as `mem.remove` answers: forgetting twice is harmless.
          parse(idSchema, id, 'forget.id');
          return { id, deleted: await mem.remove(id) };
        }),
    }),
  };
}

/**
 * A tool call's arguments: an object, as its input schema says. The AI SDK's `jsonSchema` does not
 * validate, so a direct `execute(null)` or a model's bare string would otherwise fail as a TypeError.
 */
function argumentsOf<T>(input: T, tool: string): T {
  if (typeof input === 'object' && input !== null && !Array.isArray(input)) return input;
  const got = input === null ? 'null' : Array.isArray(input) ? 'an array' : typeof input;
  throw validationError(tool, 'an object of arguments', got);
}
