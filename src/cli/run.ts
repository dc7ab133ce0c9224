import { errorMessage, isEngramError } from '../core/errors.js';
import { doctorCommand } from './doctor.js';
import { exportCommand } from './export.js';
import { importCommand } from './import.js';
import { type CliIo, type Command, Interrupted, SetupError, UsageError } from './io.js';
import { mcpCommand } from './mcp.js';
import { migrateCommand } from './migrate.js';
import { reembedCommand } from './reembed.js';
import { serveCommand } from './serve.js';
import { tokenCommand } from './token.js';
import { packageVersion } from './version.js';

const COMMANDS: readonly Command[] = [
  serveCommand,
  tokenCommand,
  doctorCommand,
  exportCommand,
  importCommand,
  migrateCommand,
  reembedCommand,
  mcpCommand,
];

const HELP = `Usage: engram <command> [flags]

Commands:
${COMMANDS.map((c) => `  ${c.name.padEnd(9)}${c.summary}`).join('\n')}

A <store> is a URL: postgres://user@host/db, sqlite:./file.db, pglite:./dir, http(s)://edge (with --token),
jsonl:./file.
Exit codes: 0 done, 1 failed, 2 called wrongly or a store/server unusable, 130 interrupted.
Run engram <command> --help for its flags and an example; engram --version prints the version.`;

/** Runs one CLI invocation and returns its exit code: 0 done, 1 failed, 2 called wrongly, 130 interrupted. */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined) {
    io.err(HELP);
    return 2;
  }
  if (name === '--help' || name === '-h' || name === 'help') {
    io.out(HELP);
    return 0;
  }
  if (name === '--version' || name === '-v' || name === 'version') {
    io.out(packageVersion());
    return 0;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) {
    io.err(
      `engram: unknown command ${JSON.stringify(name)} (commands: ${COMMANDS.map((c) => c.name).join(', ')})`,
    );
    return 2;
  }
  try {
    return await command.run(rest, io);
  } catch (error) {
    if (error instanceof UsageError) {
      io.err(`engram ${name}: ${error.message} (see engram ${name} --help)`);
      return 2;
    }
    if (error instanceof SetupError) {
      io.err(`engram ${name}: ${error.message}`);
      return 2;
    }
    if (error instanceof Interrupted) {
      io.err(`engram ${name}: ${error.message}`);
      return 130;
    }
    if (isEngramError(error, 'VALIDATION')) {
      io.err(`engram ${name}: ${error.message} (see engram ${name} --help)`);
      return 2;
    }
    io.err(`engram ${name}: ${oneLine(error)}`);
    return 1;
  }
}

function oneLine(error: unknown): string {
  return errorMessage(error).replace(/\s*\n\s*/g, ' ');
}
