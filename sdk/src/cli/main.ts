#!/usr/bin/env node
/**
 * The `remoted` CLI. Each command is a registrar in REGISTRARS: to add one
 * (admin commands go under ./admin/), write its file and add one line there.
 */
import { Command, CommanderError } from 'commander';
import { registerAdminCommands } from './admin';
import type { CliContext, CommandRegistrar } from './cli-context';
import { type CliLogLevel, createCliLogger } from './cli-logger';
import { registerDial } from './commands/dial';
import { registerExpose } from './commands/expose';
import { registerForward } from './commands/forward';
import { EXIT, exitCodeFor, formatError } from './exit-codes';

const VERSION = '0.1.0';

/** Every command of the CLI, in the order --help lists them. */
export const REGISTRARS: readonly CommandRegistrar[] = [
  registerExpose,
  registerForward,
  registerDial,
  // Admin commands (keys, routes, links, disconnect): one line each, e.g. registerKeys from './admin/keys'.
  registerAdminCommands,
];

export function createProgram(ctx: CliContext, registrars: readonly CommandRegistrar[] = REGISTRARS): Command {
  const program = new Command('remoted')
    .description('Listen and dial through a remoted relay.')
    .version(VERSION)
    .option('-q, --quiet', 'log nothing but the final error')
    .option('-v, --verbose', 'log every link')
    .exitOverride()
    // We print usage errors ourselves, in the CLI's one-line form.
    .configureOutput({ outputError: () => undefined })
    .addHelpText(
      'after',
      '\nExit codes: 0 done, 1 internal error, 2 usage, 3 key refused, 4 refused by the relay, 5 timeout, 6 network error, 7 the listener cannot reach its service, 8 route closed for good by the operator.',
    );
  for (const register of registrars) register(program, ctx);
  return program;
}

export async function main(argv: readonly string[] = process.argv): Promise<number> {
  let program: Command | undefined;
  const level = (): CliLogLevel => {
    const opts = program?.opts<{ quiet?: boolean; verbose?: boolean }>() ?? {};
    return opts.quiet ? 'quiet' : opts.verbose ? 'debug' : 'info';
  };
  const ctx: CliContext = { log: createCliLogger(level), untilSignal };
  program = createProgram(ctx);
  try {
    await program.parseAsync([...argv]);
    return EXIT.ok;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.exitCode === 0) return EXIT.ok;
      // Help shown for a missing command: commander already wrote it to stderr.
      if (err.code === 'commander.help') return EXIT.usage;
      process.stderr.write(`remoted: usage: ${err.message.replace(/^error: /, '')} (see remoted --help)\n`);
      return EXIT.usage;
    }
    process.stderr.write(`${formatError(err)}\n`);
    return exitCodeFor(err);
  }
}

function untilSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const onSignal = (signal: NodeJS.Signals): void => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      resolve(signal);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}

if (require.main === module) {
  // Sockets or stdin may still be open at the end: exit explicitly.
  void main().then((code) => process.exit(code));
}
