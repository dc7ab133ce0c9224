import { isEngramError } from '../core/errors.js';
import { type CliIo, type Command, UsageError } from './io.js';
import { serveCommand } from './serve.js';
import { tokenCommand } from './token.js';

const COMMANDS: readonly Command[] = [serveCommand, tokenCommand];

const HELP = `Usage: engram <command> [flags]

Commands:
${COMMANDS.map((c) => `  ${c.name.padEnd(8)}${c.summary}`).join('\n')}

Run engram <command> --help for its flags and an example.`;

/** Runs one CLI invocation and returns its exit code: 0 done, 1 failed, 2 called wrongly. */
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
    if (error instanceof UsageError || isEngramError(error, 'VALIDATION')) {
      io.err(`engram ${name}: ${error.message} (see engram ${name} --help)`);
      return 2;
    }
    io.err(`engram ${name}: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  }
}
