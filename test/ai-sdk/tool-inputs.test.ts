import { generateText, stepCountIs, type ToolExecutionOptions } from 'ai';
import { MockLanguageModelV3 } from 'ai/test';
import { describe, expect, it } from 'vitest';
import { memoryTools } from '../../src/ai-sdk/index.js';
import { createMemory } from '../../src/create-memory.js';

const usage = {
  inputTokens: { total: 1, noCache: 1, cacheRead: undefined, cacheWrite: undefined },
  outputTokens: { total: 1, text: 1, reasoning: undefined },
};
const finish = (unified: 'tool-calls' | 'stop') => ({ finishReason: { unified, raw: undefined }, usage });

/** One generateText step in which the model calls `toolName` with `input`, then a final answer. */
async function callThroughSdk(tools: ReturnType<typeof memoryTools>, toolName: string, input: unknown) {
  const model = new MockLanguageModelV3({
    doGenerate: [
      {
        content: [{ type: 'tool-call', toolCallId: 'c1', toolName, input: JSON.stringify(input) }],
        ...finish('tool-calls'),
        warnings: [],
      },
      { content: [{ type: 'text', text: 'ok' }], ...finish('stop'), warnings: [] },
    ],
  });
  const result = await generateText({ model, tools, stopWhen: stepCountIs(3), prompt: 'x' });
  const offered = model.doGenerateCalls[0]!.tools!;
  const [part] = result.steps[0]!.content.filter((p) => p.type === 'tool-result' || p.type === 'tool-error');
  return { part: part as { type: string; output?: unknown; error?: unknown }, offered };
}

type Execute = (input: unknown, options: ToolExecutionOptions) => Promise<unknown>;
const context: ToolExecutionOptions = { toolCallId: 'x', messages: [] };
const run = (tools: ReturnType<typeof memoryTools>, name: keyof ReturnType<typeof memoryTools>) =>
  tools[name].execute as Execute;

describe('memoryTools: null in an optional argument is no argument', () => {
  it('remembers and recalls when a model sends null for kind, tags and limit (OpenAI strict mode)', async () => {
    const mem = await createMemory({ namespace: 'agent' });
    const tools = memoryTools(mem);
    const stored = (await run(tools, 'remember')(
      { content: 'likes tea', kind: null, tags: null },
      context,
    )) as {
      kind: string;
      tags: string[];
    };
    expect(stored).toMatchObject({ content: 'likes tea', kind: 'note', tags: [] });
    const recalled = (await run(tools, 'recall')({ query: 'tea', limit: null, kind: null }, context)) as {
      memories: unknown[];
    };
    expect(recalled.memories).toHaveLength(1);
    const { part } = await callThroughSdk(tools, 'remember', {
      content: 'likes coffee',
      kind: null,
      tags: null,
    });
    expect(part).toMatchObject({ type: 'tool-result', output: { content: 'likes coffee', kind: 'note' } });
    // A required argument sent as null is still an error naming it.
    for (const [name, input, field] of [
      ['remember', { content: null }, 'remember.content'],
      ['recall', { query: null }, 'recall.query'],
      ['forget', { id: null }, 'forget.id'],
    ] as const) {
      const call = run(tools, name)(input, context);
      await expect(call).rejects.toMatchObject({ code: 'VALIDATION', field });
      // The error says what the model sent: null, not an argument left out.
      await expect(call).rejects.toThrow(/got null$/);
    }
    // An element of tags is not optional: null there is refused.
    await expect(run(tools, 'remember')({ content: 'x', tags: ['a', null] }, context)).rejects.toMatchObject({
      code: 'VALIDATION',
      field: 'remember.tags.1',
    });
    expect((await mem.list()).items).toHaveLength(2);
    await mem.close();
  });

  it('says so in the schemas the model is offered', async () => {
    const mem = await createMemory({ namespace: 'agent' });
    const { offered } = await callThroughSdk(memoryTools(mem), 'recall', { query: 'x' });
    const schema = (name: string) =>
      (
        offered.find((t) => t.name === name) as {
          inputSchema: { properties: Record<string, { type: unknown }> };
        }
      ).inputSchema.properties;
    expect(schema('remember').kind!.type).toEqual(['string', 'null']);
    expect(schema('remember').tags!.type).toEqual(['array', 'null']);
    expect(schema('recall').limit!.type).toEqual(['integer', 'null']);
    expect(schema('recall').kind!.type).toEqual(['string', 'null']);
    expect(schema('remember').content!.type).toBe('string');
    expect(schema('recall').query!.type).toBe('string');
    expect(schema('forget').id!.type).toBe('string');
    // The default it states for limit is the recallLimit the tools were made with.
    const { offered: madeWith3 } = await callThroughSdk(memoryTools(mem, { recallLimit: 3 }), 'recall', {
      query: 'x',
    });
    const recall = madeWith3.find((t) => t.name === 'recall') as unknown as {
      inputSchema: { properties: { limit: { description: string } } };
    };
    expect(recall.inputSchema.properties.limit.description).toMatch(/null or left out: 3$/);
    await mem.close();
  });
});

describe('memoryTools: the schemas state the rules the tools enforce', () => {
  it('offers the limits, and each is enforced at its bound', async () => {
    const mem = await createMemory({ namespace: 'agent' });
    const tools = memoryTools(mem);
    const { offered } = await callThroughSdk(tools, 'recall', { query: 'x' });
    const props = (name: string) =>
      (offered.find((t) => t.name === name) as { inputSchema: { properties: Record<string, object> } })
        .inputSchema.properties;
    expect(props('remember').content).toMatchObject({ minLength: 1, maxLength: 65536, pattern: '\\S' });
    expect(props('remember').kind).toMatchObject({ minLength: 1, maxLength: 64 });
    expect(props('remember').tags).toMatchObject({ maxItems: 64, items: { minLength: 1, maxLength: 64 } });
    expect(props('recall').query).toMatchObject({ minLength: 1, pattern: '\\S' });
    expect(props('recall').limit).toMatchObject({ minimum: 1, maximum: 50 });
    expect(props('recall').kind).toMatchObject({ minLength: 1, maxLength: 64 });
    expect(props('forget').id).toMatchObject({ minLength: 1, maxLength: 128 });
    const idPattern = new RegExp((props('forget').id as { pattern: string }).pattern);
    const { id } = (await run(tools, 'remember')({ content: 'x' }, context)) as { id: string };
    expect(idPattern.test(id)).toBe(true);
    expect(idPattern.test('bad id!')).toBe(false);
    // An id the caller chose (a colon is allowed) is one the tool forgets: the pattern takes it too.
    for (const given of ['import:1', 'a.b_c-D9']) {
      await mem.add({ id: given, content: 'given id' });
      expect(idPattern.test(given), given).toBe(true);
      expect(await run(tools, 'forget')({ id: given }, context)).toEqual({ id: given, deleted: true });
    }

    // At each bound the tool accepts, past it the tool refuses, naming the field, as the schema says.
    const k64 = 'k'.repeat(64);
    const accepted: [keyof typeof tools, object][] = [
      [
        'remember',
        { content: 'c'.repeat(65536), kind: k64, tags: Array.from({ length: 64 }, (_, i) => `${i}`) },
      ],
      ['remember', { content: 'x', tags: [k64] }],
      ['recall', { query: 'x', limit: 50, kind: k64 }],
    ];
    for (const [name, input] of accepted) await run(tools, name)(input, context);
    const refused: [keyof typeof tools, object, string][] = [
      ['remember', { content: 'c'.repeat(65537) }, 'remember.content'],
      ['remember', { content: ' \n' }, 'remember.content'],
      ['remember', { content: 'x', kind: `${k64}k` }, 'remember.kind'],
      ['remember', { content: 'x', kind: '' }, 'remember.kind'],
      ['remember', { content: 'x', tags: [`${k64}k`] }, 'remember.tags.0'],
      ['remember', { content: 'x', tags: Array.from({ length: 65 }, (_, i) => `${i}`) }, 'remember.tags'],
      ['recall', { query: ' ' }, 'recall.query'],
      ['recall', { query: 'x', limit: 51 }, 'recall.limit'],
      ['recall', { query: 'x', limit: 0 }, 'recall.limit'],
      ['recall', { query: 'x', kind: `${k64}k` }, 'recall.kind'],
      ['forget', { id: 'x'.repeat(129) }, 'forget.id'],
    ];
    for (const [name, input, field] of refused) {
      await expect(run(tools, name)(input, context), field).rejects.toMatchObject({
        code: 'VALIDATION',
        field,
      });
    }
    await mem.close();
  });

  it('refuses an argument its schema does not declare, naming it, and writes nothing', async () => {
    const mem = await createMemory({ namespace: 'agent' });
    const tools = memoryTools(mem);
    // The message names the arguments the tool does take, for the model's next try.
    for (const [name, input, field, takes] of [
      ['remember', { content: 'x', foo: 1 }, 'remember.foo', 'content, kind, tags'],
      ['remember', { content: 'x', metadata: { a: 1 } }, 'remember.metadata', 'content, kind, tags'],
      ['recall', { query: 'x', tags: ['a'] }, 'recall.tags', 'query, limit, kind'],
      ['forget', { id: 'abc', force: null }, 'forget.force', 'id'],
    ] as const) {
      const call = run(tools, name)(input, context);
      await expect(call).rejects.toMatchObject({ code: 'VALIDATION', field });
      await expect(call).rejects.toThrow(`${field}: unknown argument, ${name} takes ${takes}`);
    }
    expect((await mem.list()).items).toEqual([]);
    const { part } = await callThroughSdk(tools, 'remember', { content: 'x', foo: 1 });
    expect(part.type).toBe('tool-error');
    expect(String(part.error)).toMatch(/remember\.foo: unknown argument/);
    expect((await mem.list()).items).toEqual([]);
    await mem.close();
  });
});

describe('memoryTools: the abort signal', () => {
  it('refuses to run a tool whose signal is aborted, with the AbortError the AI SDK throws', async () => {
    const mem = await createMemory({ namespace: 'agent' });
    const tools = memoryTools(mem);
    const controller = new AbortController();
    controller.abort();
    const aborted = { ...context, abortSignal: controller.signal };
    for (const [name, input] of [
      ['remember', { content: 'x' }],
      ['recall', { query: 'x' }],
      ['forget', { id: 'abc' }],
    ] as const) {
      await expect(run(tools, name)(input, aborted)).rejects.toMatchObject({ name: 'AbortError' });
    }
    // A timeout's reason is the SDK's too: TimeoutError.
    const timedOut = AbortSignal.timeout(0);
    await new Promise((resolve) => setTimeout(resolve, 5));
    await expect(
      run(tools, 'remember')({ content: 'x' }, { ...context, abortSignal: timedOut }),
    ).rejects.toMatchObject({ name: 'TimeoutError' });
    expect((await mem.list()).items).toEqual([]);
    await mem.close();
  });

  it('refuses a call aborted while it waited for the calls before it', async () => {
    const mem = await createMemory({ namespace: 'agent' });
    const add = mem.add.bind(mem);
    mem.add = async (...args) => {
      await new Promise((resolve) => setTimeout(resolve, 30));
      return add(...args);
    };
    const tools = memoryTools(mem);
    const controller = new AbortController();
    const first = run(tools, 'remember')({ content: 'first' }, context);
    const second = run(tools, 'remember')(
      { content: 'second' },
      { ...context, abortSignal: controller.signal },
    );
    controller.abort();
    await first;
    await expect(second).rejects.toMatchObject({ name: 'AbortError' });
    expect((await mem.list()).items.map((m) => m.content)).toEqual(['first']);
    await mem.close();
  });
});
