/**
 * What every room of the relay is given: its settings, its log, its clock and
 * the stream of facts it reports to. The tables are not in it: each room is
 * handed the ones it owns or reads, by its own context (dials-context.ts).
 */
import type { Logger } from 'pino';
import type { Config } from '../../config/config';
import type { RelayEvents } from './relay-events';
import type { RouteDirectory } from './route-directory';

export interface RelayContext {
  readonly config: Config;
  readonly events: RelayEvents;
  readonly log: Logger;
  /** Epoch ms; tests may pass their own clock. */
  now(): number;
  /** Cluster mode: where the other nodes' listeners and dialers are. A single node has none. */
  readonly directory?: RouteDirectory;
}
