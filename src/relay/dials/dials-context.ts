/**
 * What the dials room works on: the node's tables of listeners, waiting
 * dialers, spares and links, and where busy links move. The relay's face
 * builds one and hands the same object to its own parts (sweeper, key
 * enforcer, admin door).
 */
import type { RelayContext } from '../context/relay-context';
import type { LinkTable } from '../links/link-table';
import type { SplicePool } from '../links/offload/splice-pool';
import type { ListenerTable } from '../routes/listener-table';
import type { SparePool } from './spare-pool';
import type { WaitingDialerTable } from './waiting-dialer-table';

export interface DialsContext extends RelayContext {
  readonly listeners: ListenerTable;
  readonly dialers: WaitingDialerTable;
  /** Spare dial-backs of listeners that asked for them (extension). */
  readonly spares: SparePool;
  readonly links: LinkTable;
  /** Where busy links move (config.spliceWorkers 1); none: every link stays in this process. */
  readonly splice?: SplicePool;
}
