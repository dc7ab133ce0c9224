/** What a command touches of the outside world, so tests can run commands in-process. */
export interface CliIo {
  out(line: string): void;
  err(line: string): void;
  env: Record<string, string | undefined>;
  cwd: string;
  /** Aborts when the process is asked to stop (SIGTERM, SIGINT). */
  stop: AbortSignal;
}

export interface Command {
  name: string;
  summary: string;
  /** The `--help` text, with an example. */
  help: string;
  /** Resolves with the exit code. */
  run(argv: string[], io: CliIo): Promise<number>;
}

/** A mistake in how the command was called: one line on stderr, exit 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}
