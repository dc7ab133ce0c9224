import { SetupError } from './io.js';

/** The optional peer dependencies the CLI may need, each with a literal import so bundlers can see it. */
const PEERS = {
  '@hono/node-server': () => import('@hono/node-server'),
  '@electric-sql/pglite': () => import('@electric-sql/pglite'),
  postgres: () => import('postgres'),
  'sql.js': () => import('sql.js'),
  '@modelcontextprotocol/sdk': () => import('@modelcontextprotocol/sdk/server/mcp.js'),
  zod: () => import('zod'),
} as const;

export type Peer = keyof typeof PEERS;

/**
 * Checks up front that every engine a command needs is installed, so `npx engram serve` from a package
 * installed without them says at once, in one line, what to install, instead of failing halfway.
 */
export async function requirePeers(peers: readonly Peer[]): Promise<void> {
  const missing: Peer[] = [];
  for (const peer of peers) {
    try {
      await PEERS[peer]();
    } catch (error) {
      if (!isNotFound(error, peer)) throw error;
      missing.push(peer);
    }
  }
  if (missing.length > 0) {
    throw new SetupError(
      `needs ${missing.map((p) => `"${p}"`).join(' and ')}, not installed here: run \`npm install ${missing.join(' ')}\``,
    );
  }
}

function isNotFound(error: unknown, peer: string): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === 'ERR_MODULE_NOT_FOUND' && error instanceof Error && error.message.includes(`'${peer}'`);
}
