import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// docs/agents.md promises each example runs as written: run them, against the built package (the
// examples import `engram/...`, which resolves to dist through the package's own exports).
const run = promisify(execFile);
const root = resolve(import.meta.dirname, '../..');
const scripts = join(root, 'test-artifacts/docs');
const work = mkdtempSync(join(tmpdir(), 'engram-agents-docs-'));
const markdown = readFileSync(join(root, 'docs/agents.md'), 'utf8');

function block(name: string): string {
  const match = new RegExp(`<!-- runnable: ${name} -->\\n\`\`\`\\w+\\n([\\s\\S]*?)\`\`\``).exec(markdown);
  if (!match) throw new Error(`docs/agents.md has no runnable block ${name}`);
  return match[1]!;
}

async function runScript(name: string, source: string): Promise<string> {
  const file = join(scripts, `${name}.mjs`);
  writeFileSync(file, source);
  const { stdout } = await run(process.execPath, [file], { cwd: work, timeout: 60_000 });
  return stdout;
}

beforeAll(async () => {
  mkdirSync(scripts, { recursive: true });
  // npm test builds first; a bare `vitest run` may not have.
  if (!existsSync(join(root, 'dist/langgraph/index.js')) || !existsSync(join(root, 'dist/ai-sdk/index.js')))
    await run('npx', ['tsup'], { cwd: root, timeout: 180_000 });
}, 200_000);
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('docs/agents.md examples run as written', () => {
  it('the MCP client configuration starts a working memory server', async () => {
    const config = JSON.parse(block('mcp-config')) as {
      mcpServers: { memory: { command: string; args: string[] } };
    };
    const { command, args } = config.mcpServers.memory;
    expect([command, args[0]]).toEqual(['npx', 'engram']);
    // `npx engram` is the package's bin: dist/cli/main.js.
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [join(root, 'dist/cli/main.js'), ...args.slice(1)],
      cwd: work,
      stderr: 'pipe',
    });
    const client = new Client({ name: 'docs', version: '1.0.0' });
    await client.connect(transport);
    const created = await client.callTool({
      name: 'create_entities',
      arguments: { entities: [{ name: 'Docs', entityType: 'page', observations: ['runs as written'] }] },
    });
    expect(created.isError).toBeFalsy();
    await client.close();
    expect(existsSync(join(work, 'engram-memory.db'))).toBe(true);
  });

  it('the LangGraph graph with EngramStore', async () => {
    const source = block('langgraph');
    expect(await runScript('langgraph', source)).toBe('I know 1 thing(s) about you.\n');
    // Long-term: a second run of the same program remembers the first.
    expect(await runScript('langgraph', source)).toBe('I know 2 thing(s) about you.\n');
  }, 120_000);

  it('the AI SDK call with memoryTools (the provider swapped for the SDK mock model)', async () => {
    const source = block('ai-sdk');
    const provider = "import { openai } from '@ai-sdk/openai';";
    expect(source).toContain(provider);
    const mock = `import { MockLanguageModelV3 } from 'ai/test';
const usage = { inputTokens: { total: 1, noCache: 1 }, outputTokens: { total: 1, text: 1 } };
const openai = () => new MockLanguageModelV3({ doGenerate: [
  { content: [{ type: 'tool-call', toolCallId: 't1', toolName: 'remember', input: JSON.stringify({ content: 'The user is vegetarian', kind: 'preference' }) }],
    finishReason: { unified: 'tool-calls' }, usage, warnings: [] },
  { content: [{ type: 'text', text: 'Try a mushroom risotto.' }], finishReason: { unified: 'stop' }, usage, warnings: [] },
] });`;
    expect(await runScript('ai-sdk', source.replace(provider, mock))).toBe('Try a mushroom risotto.\n');
    const check = `import { createMemory } from 'engram';
import { SqlJsStore } from 'engram/sqljs';
const mem = await createMemory({ store: new SqlJsStore({ persist: './chat-memory.db' }), namespace: 'user-42' });
console.log((await mem.search('vegetarian')).map((h) => h.memory.content).join('|'));
await mem.close();`;
    expect(await runScript('ai-sdk-check', check)).toBe('The user is vegetarian\n');
  }, 120_000);
});
