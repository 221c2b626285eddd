/** What the data plane's plain classes share: built once by RelayService, passed by constructor. */
import type { Logger } from 'pino';
import type { Config } from '../config/config';
import type { RelayEvents } from './relay-events';
import type { RouteRegistry } from './route-registry';
import type { SparePool } from './spare-pool';
import type { SplicePool } from './splice/splice-pool';

export interface RelayContext {
  readonly config: Config;
  readonly registry: RouteRegistry;
  /** Spare dial-backs of listeners that asked for them (extension). */
  readonly spares: SparePool;
  readonly events: RelayEvents;
  readonly log: Logger;
  /** Where busy links move (config.spliceWorkers 1); none: every link stays in this process. */
  readonly splice?: SplicePool;
  /** Epoch ms; tests may pass their own clock. */
  now(): number;
}
