import type { Readable, Writable } from 'node:stream';

/** A terminal on stderr: where progress is drawn in place. */
export interface Terminal {
  write(text: string): void;
  /** Width in characters. */
  columns: number;
}

/** What a command touches of the outside world, so tests can run commands in-process. */
export interface CliIo {
  out(line: string): void;
  err(line: string): void;
  env: Record<string, string | undefined>;
  cwd: string;
  /** Aborts when the process is asked to stop (SIGTERM, SIGINT). */
  stop: AbortSignal;
  /** Raw stdin, for commands that read data (`import`). */
  stdin: Readable & { isTTY?: boolean };
  /** Raw stdout, for commands that write data (`export`); writes honour backpressure. */
  stdout: Writable;
  /** Set only when stderr is a terminal: progress goes there, never to stdout, and never into a pipe. */
  terminal?: Terminal;
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

/** The command cannot start: a store or server is misconfigured or unreachable. One line on stderr, exit 2. */
export class SetupError extends Error {
  override readonly name = 'SetupError';
}

/** Stopped by SIGINT or SIGTERM before finishing: exit 130. */
export class Interrupted extends Error {
  override readonly name = 'Interrupted';
}
