import { generateText, stepCountIs, type ToolSet } from 'ai-7';
import { MockLanguageModelV4 } from 'ai-7/test';
import { describe, expect, it } from 'vitest';
import type { Engram } from '../../src/core/engram.js';
import { createMemory } from '../../src/create-memory.js';
import { bundledAgainst } from '../setup/bundled-against.js';
import { text, toolCall } from './model-steps.js';

// The AI SDK majors 5 to 7 are in the peer range; the rest of these tests run 6, as installed. Here 7
// (installed under an npm alias, with its own model interface, V4): our entry bundled with the peer left
// external and resolved to 7, as an app on AI SDK 7 would load it, driven by 7's own generateText.
// Typed as 7's tools: the source's own types are checked against the AI SDK installed as `ai` (6).
const { memoryTools } = await bundledAgainst<{ memoryTools: (mem: Engram) => ToolSet }>(
  'src/ai-sdk/index.ts',
  'ai',
  'ai-7',
);

describe('memoryTools(mem) on AI SDK 7', () => {
  it('remembers and recalls through a generateText tool-call round trip', async () => {
    const mem = await createMemory({ namespace: 'agent' });
    await mem.add({ content: 'The user is allergic to peanuts', kind: 'fact' });
    const model = new MockLanguageModelV4({
      doGenerate: [
        toolCall('c1', 'remember', { content: 'The user prefers dark roast coffee', kind: 'preference' }),
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
    expect(model.doGenerateCalls[0]!.tools!.map((t) => t.name).sort()).toEqual([
      'forget',
      'recall',
      'remember',
    ]);
    const [stored] = (await mem.list({ kind: 'preference' })).items;
    expect(stored).toMatchObject({ content: 'The user prefers dark roast coffee' });
    const recalled = result.steps[1]!.toolResults[0]!.output as { memories: { id: string }[] };
    expect(recalled.memories.map((m) => m.id)).toEqual([stored!.id]);
    expect(JSON.stringify(model.doGenerateCalls[2]!.prompt)).toContain(stored!.id);
    await mem.close();
  });

  it('returns a bad call to the model as a tool error naming the field, and stores nothing', async () => {
    const mem = await createMemory({ namespace: 'agent' });
    const model = new MockLanguageModelV4({
      doGenerate: [toolCall('c1', 'remember', { content: '   ' }), text('Sorry.')],
    });
    const result = await generateText({
      model,
      tools: memoryTools(mem),
      stopWhen: stepCountIs(3),
      prompt: 'x',
    });
    const error = result.steps[0]!.content.find((part) => part.type === 'tool-error');
    expect(String((error as { error: unknown } | undefined)?.error)).toMatch(/remember\.content/);
    expect((await mem.list()).items).toEqual([]);
    await mem.close();
  });
});
