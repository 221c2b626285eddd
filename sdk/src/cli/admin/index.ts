/**
 * The admin commands of the `remoted` CLI (keys, routes, links, disconnect,
 * stats, watch), registered with one line in ../main.ts.
 */
import type { Command } from 'commander';
import type { CliContext } from '../cli-context';
import { registerDisconnect } from './disconnect';
import { registerKeys } from './keys';
import { registerLinks } from './links';
import { registerRoutes } from './routes';
import { registerStatsWatch } from './stats-watch';

export function registerAdminCommands(program: Command, ctx: CliContext): void {
  registerKeys(program, ctx);
  registerRoutes(program, ctx);
  registerLinks(program, ctx);
  registerDisconnect(program, ctx);
  registerStatsWatch(program, ctx);
}
