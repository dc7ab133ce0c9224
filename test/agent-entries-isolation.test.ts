import { join, resolve } from 'node:path';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';

// The agent doors (engram/langgraph, engram/ai-sdk, the MCP server) add nothing to an app that
// does not import them: bundling any other entry pulls in none of their modules or peers.
const root = resolve(import.meta.dirname, '..');
const ENTRIES = [
  'src/index.ts',
  'src/backends/indexeddb/index.ts',
  'src/backends/sqljs/index.ts',
  'src/backends/remote/index.ts',
];
const AGENT_MODULES = /src\/(langgraph|ai-sdk|mcp)\//;
const AGENT_PACKAGES = /^(@langchain\/|ai$|ai\/|@modelcontextprotocol\/|zod)/;

async function inputsOf(entry: string) {
  const externals: string[] = [];
  const result = await build({
    entryPoints: [join(root, entry)],
    bundle: true,
    write: false,
    metafile: true,
    format: 'esm',
    platform: 'browser',
    logLevel: 'silent',
    plugins: [
      {
        name: 'record-packages',
        setup(b) {
          b.onResolve({ filter: /^[^./]/ }, (args) => {
            externals.push(args.path);
            return { path: args.path, external: true };
          });
        },
      },
    ],
  });
  return { modules: Object.keys(result.metafile.inputs), externals };
}

describe('agent entries stay out of other bundles', () => {
  for (const entry of ENTRIES) {
    it(`${entry} includes no agent module or agent peer`, async () => {
      const { modules, externals } = await inputsOf(entry);
      expect(modules.length).toBeGreaterThan(3);
      expect(modules.filter((m) => AGENT_MODULES.test(m))).toEqual([]);
      expect(externals.filter((p) => AGENT_PACKAGES.test(p))).toEqual([]);
    });
  }

  it('the langgraph entry does bring its peer (the check can fail)', async () => {
    const { externals } = await inputsOf('src/langgraph/index.ts');
    expect(externals).toContain('@langchain/langgraph-checkpoint');
  });
});
