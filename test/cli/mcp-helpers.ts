import { rename } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { build } from 'esbuild';

export const root = resolve(import.meta.dirname, '../..');
export const bin = join(root, 'test-artifacts/mcp/main.mjs');
const reference = createRequire(import.meta.url).resolve('@modelcontextprotocol/server-memory/dist/index.js');

/**
 * Our CLI as one file, so the server runs as a real process like `npx engram mcp`. Built aside and renamed
 * into place: several test files build it at once, and none may start a half-written file.
 */
export async function buildCli(): Promise<void> {
  const aside = `${bin}.${process.pid}.${crypto.randomUUID()}.mjs`;
  await build({
    entryPoints: [join(root, 'src/cli/main.ts')],
    outfile: aside,
    bundle: true,
    platform: 'node',
    format: 'esm',
    packages: 'external',
  });
  await rename(aside, bin);
}

export interface Connected {
  client: Client;
  stderr: () => string;
  close: () => Promise<void>;
  /** The server's process id. */
  pid: number;
}

async function connect(
  command: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<Connected> {
  const transport = new StdioClientTransport({
    command,
    args,
    env: { PATH: process.env.PATH ?? '', ...env },
    stderr: 'pipe',
    cwd: root,
  });
  let stderr = '';
  transport.stderr?.on('data', (chunk) => {
    stderr += chunk;
  });
  const client = new Client({ name: 'engram-test', version: '1.0.0' });
  await client.connect(transport);
  return { client, stderr: () => stderr, close: () => client.close(), pid: transport.pid! };
}

/** `engram mcp` with the given flags; `node` flags (such as `--import`) go before the script. */
export function connectEngram(args: string[], node: string[] = []): Promise<Connected> {
  return connect(process.execPath, [...node, bin, 'mcp', ...args]);
}

/** The reference server, `@modelcontextprotocol/server-memory`, keeping its graph in `file`. */
export function connectReference(file: string): Promise<Connected> {
  return connect(process.execPath, [reference], { MEMORY_FILE_PATH: file });
}

export interface Call {
  name: string;
  arguments: Record<string, unknown>;
}

export interface Outcome {
  isError: boolean;
  text: string;
  structured: unknown;
}

export async function call(c: Connected, { name, arguments: args }: Call): Promise<Outcome> {
  const result = await c.client.callTool({ name, arguments: args });
  const content = result.content as { type: string; text: string }[];
  return {
    isError: result.isError === true,
    text: content.map((b) => b.text).join('\n'),
    structured: result.structuredContent,
  };
}

interface GraphLike {
  entities: { name: string; entityType: string; observations: string[] }[];
  relations: { from: string; to: string; relationType: string }[];
}

/** A graph as sets: entity order, relation order and observation order aside (they are compared separately). */
export function graphSets(graph: unknown): { entities: string[]; relations: string[] } {
  const g = graph as GraphLike;
  return {
    entities: g.entities.map((e) => JSON.stringify([e.name, e.entityType, e.observations])).sort(),
    relations: g.relations.map((r) => JSON.stringify([r.from, r.to, r.relationType])).sort(),
  };
}
