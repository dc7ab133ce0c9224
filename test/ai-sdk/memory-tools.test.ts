import { generateText, stepCountIs } from 'ai';
import { MockLanguageModelV3 } from 'ai/test';
import { describe, expect, it } from 'vitest';
import { memoryTools } from '../../src/ai-sdk/index.js';
import { createMemory } from '../../src/create-memory.js';
import { text, toolCall, usage } from './model-steps.js';

// A real generateText loop with the SDK's mock model: it asks for tool calls, the SDK validates and
// runs our tools, and the results go back to the model in the next step.
describe('memoryTools(mem) for the AI SDK', () => {
  it('remembers, recalls and forgets through a generateText tool-call round trip', async () => {
    const mem = await createMemory({ namespace: 'agent' });
    await mem.add({ content: 'The user is allergic to peanuts', kind: 'fact' });
    const model = new MockLanguageModelV3({
      doGenerate: [
        toolCall('c1', 'remember', {
          content: 'The user prefers dark roast coffee',
          kind: 'preference',
          tags: ['coffee'],
        }),
        toolCall('c2', 'recall', { query: 'coffee' }),
        text('You like dark roast.'),
      ],
    });
    const result = await generateText({
      model,
      tools: memoryTools(mem),
      stopWhen: stepCountIs(5),
      prompt: 'Remember that I like dark roast coffee, then tell me what coffee I like.',
    });
    expect(result.text).toBe('You like dark roast.');
    // The model was offered the three tools with their JSON schemas.
    const offered = model.doGenerateCalls[0]!.tools!.map((t) => t.name).sort();
    expect(offered).toEqual(['forget', 'recall', 'remember']);
    // The memory is really stored, and recall found it (and not the unrelated one).
    const [stored] = (await mem.list({ kind: 'preference' })).items;
    expect(stored).toMatchObject({ content: 'The user prefers dark roast coffee', tags: ['coffee'] });
    const [rememberResult] = result.steps[0]!.toolResults;
    expect(rememberResult!.output).toMatchObject({ id: stored!.id, kind: 'preference' });
    const recalled = result.steps[1]!.toolResults[0]!.output as { memories: { id: string; score: number }[] };
    expect(recalled.memories.map((m) => m.id)).toEqual([stored!.id]);
    expect(recalled.memories[0]!.score).toBeGreaterThan(0);
    // The tool result went back to the model in the following step.
    const thirdPrompt = JSON.stringify(model.doGenerateCalls[2]!.prompt);
    expect(thirdPrompt).toContain(stored!.id);

    const forgetting = new MockLanguageModelV3({
      doGenerate: [toolCall('c3', 'forget', { id: stored!.id }), text('Forgotten.')],
    });
    const forgot = await generateText({
      model: forgetting,
      tools: memoryTools(mem),
      stopWhen: stepCountIs(3),
      prompt: 'Forget my coffee preference.',
    });
    expect(forgot.steps[0]!.toolResults[0]!.output).toEqual({ id: stored!.id, deleted: true });
    expect(await mem.get(stored!.id)).toBeNull();
    await mem.close();
  });

  it('returns a bad call to the model as a tool error, not a crash', async () => {
    const mem = await createMemory({ namespace: 'agent' });
    const model = new MockLanguageModelV3({
      doGenerate: [toolCall('c1', 'remember', { content: '   ' }), text('Sorry.')],
    });
    const result = await generateText({
      model,
      tools: memoryTools(mem),
      stopWhen: stepCountIs(3),
      prompt: 'x',
    });
    const error = result.steps[0]!.content.find((p) => p.type === 'tool-error');
    expect(error).toBeDefined();
    expect(String((error as { error: unknown }).error)).toMatch(/content/);
    expect((await mem.list()).items).toEqual([]);
    // A call that breaks the schema comes back as a tool error too.
    const invalid = new MockLanguageModelV3({
      doGenerate: [toolCall('c2', 'recall', { nope: 1 }), text('Sorry.')],
    });
    const refused = await generateText({
      model: invalid,
      tools: memoryTools(mem),
      stopWhen: stepCountIs(3),
      prompt: 'x',
    });
    expect(refused.steps[0]!.content.some((p) => p.type === 'tool-error')).toBe(true);
    await mem.close();
  });

  it('runs one step’s tool calls one at a time in call order: a recall sees the remember before it', async () => {
    const mem = await createMemory({ namespace: 'agent' });
    // A store whose writes take a while, so that a parallel recall would run before the write lands.
    const add = mem.add.bind(mem);
    mem.add = async (...args) => {
      await new Promise((resolve) => setTimeout(resolve, 30));
      return add(...args);
    };
    const model = new MockLanguageModelV3({
      doGenerate: [
        {
          content: [
            {
              type: 'tool-call',
              toolCallId: 'c1',
              toolName: 'remember',
              input: '{"content":"I am vegetarian"}',
            },
            { type: 'tool-call', toolCallId: 'c2', toolName: 'recall', input: '{"query":"vegetarian"}' },
            {
              type: 'tool-call',
              toolCallId: 'c3',
              toolName: 'remember',
              input: '{"content":"vegetarian since 2019"}',
            },
          ],
          finishReason: { unified: 'tool-calls', raw: undefined },
          usage,
          warnings: [],
        },
        text('Noted.'),
      ],
    });
    const result = await generateText({
      model,
      tools: memoryTools(mem),
      stopWhen: stepCountIs(3),
      prompt: 'x',
    });
    const outputs = result.steps[0]!.toolResults.map((r) => [r.toolCallId, r.output]);
    const recalled = outputs.find(([id]) => id === 'c2')![1] as { memories: { content: string }[] };
    expect(recalled.memories.map((m) => m.content)).toEqual(['I am vegetarian']);
    expect((await mem.list()).items).toHaveLength(2);
    await mem.close();
  });

  it('enforces recall.limit (an integer from 1 to 50, as its schema says) with a clear error; 5 when not given', async () => {
    const mem = await createMemory({ namespace: 'agent' });
    for (let i = 0; i < 60; i++) await mem.add({ content: `note ${i} about tea` });
    const tools = memoryTools(mem);
    const context = { toolCallId: 'x', messages: [] };
    // (null is no limit given: the default; see tool-inputs.test.ts.)
    for (const limit of [0, 51, 1000, 2.5, '5', -1]) {
      await expect(
        tools.recall.execute!({ query: 'tea', limit } as unknown as { query: string }, context),
      ).rejects.toMatchObject({ code: 'VALIDATION', field: 'recall.limit' });
    }
    // The error says what the model sent: a string "5" is not the number 5.
    await expect(
      tools.recall.execute!({ query: 'tea', limit: '5' } as unknown as { query: string }, context),
    ).rejects.toThrow('recall.limit: expected an integer from 1 to 50, got "5"');
    const fifty = (await tools.recall.execute!({ query: 'tea', limit: 50 }, context)) as {
      memories: unknown[];
    };
    expect(fifty.memories).toHaveLength(50);
    const unsaid = (await tools.recall.execute!({ query: 'tea' }, context)) as { memories: unknown[] };
    expect(unsaid.memories).toHaveLength(5);
    // Through the SDK, the model gets it back as a tool error naming the field.
    const model = new MockLanguageModelV3({
      doGenerate: [toolCall('c1', 'recall', { query: 'tea', limit: 500 }), text('Sorry.')],
    });
    const result = await generateText({ model, tools, stopWhen: stepCountIs(3), prompt: 'x' });
    const error = result.steps[0]!.content.find((p) => p.type === 'tool-error');
    expect(String((error as { error: unknown }).error)).toMatch(
      /recall\.limit: expected an integer from 1 to 50/,
    );
    expect(() => memoryTools(mem, { recallLimit: 80 })).toThrow(
      expect.objectContaining({ code: 'VALIDATION', field: 'memoryTools.options.recallLimit' }),
    );
    // Refused when the tools are made, not at the model's first call (where it read as a TypeError).
    for (const [given, field] of [
      [null, 'memoryTools.mem'],
      [{}, 'memoryTools.mem'],
    ] as const) {
      expect(() => memoryTools(given as never)).toThrow(
        expect.objectContaining({ code: 'VALIDATION', field }),
      );
    }
    expect(() => memoryTools(mem, { recalLimit: 3 } as never)).toThrow(
      expect.objectContaining({ code: 'VALIDATION', field: 'memoryTools.options.recalLimit' }),
    );
    await mem.close();
  });

  it('recalls only the kind asked for, and at most recallLimit when the model gives no limit', async () => {
    const mem = await createMemory({ namespace: 'agent' });
    for (let i = 0; i < 4; i++) await mem.add({ content: `note ${i} about tea`, kind: 'fact' });
    await mem.add({ content: 'a preference about tea', kind: 'preference' });
    const tools = memoryTools(mem, { recallLimit: 2 });
    const context = { toolCallId: 'x', messages: [] };
    const recall = async (input: { query: string; kind?: string; limit?: number }) =>
      ((await tools.recall.execute!(input, context)) as { memories: { kind: string }[] }).memories;
    expect((await recall({ query: 'tea', kind: 'preference' })).map((m) => m.kind)).toEqual(['preference']);
    expect(await recall({ query: 'tea' })).toHaveLength(2);
    expect(await recall({ query: 'tea', limit: 5 })).toHaveLength(5);
    // Each comes with its ranked search's score, best first.
    const { memories } = (await tools.recall.execute!({ query: 'tea preference' }, context)) as {
      memories: { id: string; score: number }[];
    };
    const hits = await mem.search('tea preference', { limit: 2 });
    expect(memories.map((m) => [m.id, m.score])).toEqual(hits.map((h) => [h.memory.id, h.score]));
    expect(memories[0]!.score).toBeGreaterThan(memories[1]!.score);
    await mem.close();
  });

  it('shows a recalled memory with when it was created, not when it was last changed', async () => {
    const mem = await createMemory({ namespace: 'agent' });
    const added = await mem.add({ content: 'likes green tea' });
    // A later millisecond, so that the update's instant differs from the creation's.
    await new Promise((resolve) => setTimeout(resolve, 5));
    const updated = await mem.update(added.id, { content: 'likes black tea' });
    expect(updated.updatedAt).not.toBe(added.createdAt);
    const tools = memoryTools(mem);
    const { memories } = (await tools.recall.execute!(
      { query: 'tea' },
      { toolCallId: 'x', messages: [] },
    )) as { memories: { createdAt: string }[] };
    expect(memories.map((m) => m.createdAt)).toEqual([added.createdAt]);
    await mem.close();
  });

  it('refuses options that are no object when the tools are made', async () => {
    const mem = await createMemory({ namespace: 'agent' });
    for (const options of [5, true, 'recallLimit', null]) {
      expect(() => memoryTools(mem, options as never)).toThrow(
        expect.objectContaining({ code: 'VALIDATION', field: 'memoryTools.options' }),
      );
    }
    await mem.close();
  });

  it('names the tool’s own field in an error: forget.id (malformed), recall.query and kind, remember.content', async () => {
    const mem = await createMemory({ namespace: 'agent' });
    const tools = memoryTools(mem);
    const context = { toolCallId: 'x', messages: [] };
    expect(await tools.forget.execute!({ id: 'not-an-id' }, context)).toEqual({
      id: 'not-an-id',
      deleted: false,
    });
    await expect(tools.forget.execute!({ id: 'bad id!' }, context)).rejects.toMatchObject({
      code: 'VALIDATION',
      field: 'forget.id',
    });
    await expect(tools.recall.execute!({} as unknown as { query: string }, context)).rejects.toMatchObject({
      code: 'VALIDATION',
      field: 'recall.query',
    });
    await expect(tools.recall.execute!({ query: 'tea', kind: '' }, context)).rejects.toMatchObject({
      code: 'VALIDATION',
      field: 'recall.kind',
    });
    await expect(tools.remember.execute!({ content: '' }, context)).rejects.toMatchObject({
      code: 'VALIDATION',
      field: 'remember.content',
    });
    // A blank query, and arguments that are no object (execute called directly, or a model's bare string).
    for (const query of ['', '   ']) {
      await expect(tools.recall.execute!({ query }, context)).rejects.toMatchObject({
        code: 'VALIDATION',
        field: 'recall.query',
      });
    }
    for (const [name, tool] of Object.entries(tools)) {
      for (const [input, got] of [
        [null, 'null'],
        ['likes tea', 'string'],
        [['x'], 'an array'],
      ] as const) {
        const call = (tool.execute as (input: unknown, context: unknown) => Promise<unknown>)(input, context);
        await expect(call).rejects.toMatchObject({ code: 'VALIDATION', field: name });
        await expect(call).rejects.toThrow(`${name}: expected an object of arguments, got ${got}`);
      }
    }
    // Forgetting twice is harmless: the second call says nothing was deleted.
    const { id } = (await tools.remember.execute!({ content: 'likes tea' }, context)) as { id: string };
    expect(await tools.forget.execute!({ id }, context)).toEqual({ id, deleted: true });
    expect(await tools.forget.execute!({ id }, context)).toEqual({ id, deleted: false });
    // Through the SDK, the model gets a tool error naming the field.
    const model = new MockLanguageModelV3({
      doGenerate: [toolCall('c1', 'forget', { id: 'bad id!' }), text('Sorry.')],
    });
    const result = await generateText({ model, tools, stopWhen: stepCountIs(3), prompt: 'x' });
    const error = result.steps[0]!.content.find((p) => p.type === 'tool-error');
    expect(String((error as { error: unknown }).error)).toMatch(/forget\.id/);
    await mem.close();
  });
});
