import { EngramError, validationError } from '../core/errors.js';
import { LIMITS } from '../core/validate.js';

/**
 * The tools' input schemas, stating the rules the tools enforce, so that a model knows them before it
 * calls: the AI SDK does not check a JSON Schema, so `toolArguments` and Engram's own validation do.
 * Optional arguments also take null, which models send for "not given" (OpenAI's strict mode makes every
 * argument required and the optional ones nullable).
 */
export interface ToolInputSchema {
  type: 'object';
  properties: Record<string, object>;
  required: string[];
  additionalProperties: false;
}

/** `recall.limit`'s bounds (the SDK does not enforce a JSON Schema's, so the tool does). */
export const RECALL_MAX = 50;

const LABEL = { minLength: 1, maxLength: LIMITS.labelLength } as const;
/** Some text: `\S` is the tools' rule that blank text is no text (JavaScript's `trim`). */
const NOT_BLANK = '\\S';

export const rememberInput: ToolInputSchema = {
  type: 'object',
  properties: {
    content: {
      type: 'string',
      minLength: 1,
      // Engram's limit is 64 KiB of UTF-8; maxLength counts characters, so text beyond ASCII fits fewer.
      maxLength: LIMITS.contentBytes,
      pattern: NOT_BLANK,
      description: 'What to remember, as one self-contained sentence (at most 64 KiB of UTF-8)',
    },
    kind: {
      type: ['string', 'null'],
      ...LABEL,
      description: `A label such as fact, preference or event (1 to ${LIMITS.labelLength} characters); null or left out: note`,
    },
    tags: {
      type: ['array', 'null'],
      items: { type: 'string', ...LABEL },
      maxItems: LIMITS.tags,
      description: `Short tags to filter by later (at most ${LIMITS.tags}, each 1 to ${LIMITS.labelLength} characters); null or left out: none`,
    },
  },
  required: ['content'],
  additionalProperties: false,
};

export function recallInput(defaultLimit: number): ToolInputSchema {
  return {
    type: 'object',
    properties: {
      query: { type: 'string', minLength: 1, pattern: NOT_BLANK, description: 'Words to look for' },
      limit: {
        type: ['integer', 'null'],
        minimum: 1,
        maximum: RECALL_MAX,
        description: `At most this many (1 to ${RECALL_MAX}); null or left out: ${defaultLimit}`,
      },
      kind: {
        type: ['string', 'null'],
        ...LABEL,
        description: 'Only memories of this kind; null or left out: any kind',
      },
    },
    required: ['query'],
    additionalProperties: false,
  };
}

export const forgetInput: ToolInputSchema = {
  type: 'object',
  properties: {
    id: {
      type: 'string',
      minLength: 1,
      maxLength: 128,
      // Engram's id rule (core ids.ts) without its lookahead, which refuses the ids "." and "..": a
      // pattern every provider's regex dialect reads. The tool refuses those two as well.
      pattern: '^[A-Za-z0-9._:-]{1,128}$',
      description: 'The id of the memory to delete, as remember or recall gave it',
    },
  },
  required: ['id'],
  additionalProperties: false,
};

/**
 * A tool call's arguments as its schema declares them: an object (a direct `execute(null)` or a model's
 * bare string would otherwise fail as a TypeError), without arguments the schema does not declare (refused,
 * naming the argument, rather than silently ignored), and with null in an optional argument read as the
 * argument left out. A required argument that is null stays null, for the tool to refuse.
 */
export function toolArguments(
  input: unknown,
  tool: string,
  schema: ToolInputSchema,
): Record<string, unknown> {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    const got = input === null ? 'null' : Array.isArray(input) ? 'an array' : typeof input;
    throw validationError(tool, 'an object of arguments', got);
  }
  const declared = Object.keys(schema.properties);
  const args: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(input)) {
    if (!declared.includes(name)) {
      const field = `${tool}.${name}`;
      throw new EngramError(
        'VALIDATION',
        `${field}: unknown argument, ${tool} takes ${declared.join(', ')}`,
        {
          field,
        },
      );
    }
    if (value !== null || schema.required.includes(name)) args[name] = value;
  }
  return args;
}
