/**
 * What every command gets: the program to hang itself on, a logger, and a
 * way to wait for SIGINT/SIGTERM. A command is a registrar: a function that
 * adds one subcommand (see REGISTRARS in main.ts).
 */
import type { Command } from 'commander';
import type { CliLogger } from './cli-logger';

export interface CliContext {
  log: CliLogger;
  /** Resolves on the first SIGINT or SIGTERM after the call. */
  untilSignal(): Promise<NodeJS.Signals>;
}

/**
 * Adds one command to the program. Its action returns a promise that settles
 * when the command is done; a rejection becomes `remoted: <code>: <message>`
 * and the matching exit code (exit-codes.ts).
 */
export type CommandRegistrar = (program: Command, ctx: CliContext) => void;
