/**
 * Owns the status page: built and bound only when its port is on, so a relay
 * with the page off holds no server, table or subscription for it. Its
 * sessions end when their admin key is revoked (the store's change feed).
 */
import { type BeforeApplicationShutdown, Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import { bindError } from '../config/bind-error';
import type { Config } from '../config/config';
import { CONFIG } from '../config/config.constants';
import { EventHub } from '../control/event-hub';
import { KeyEvents } from '../control/key-events';
import type { KeyStore } from '../keys/api-key';
import { KEY_STORE } from '../keys/keys.constants';
import { LOGGER } from '../logging/logging.constants';
import { AuthThrottle } from '../keys/auth-throttle';
import { RelayAdmin } from '../relay/relay-admin';
import { RelayTally } from '../relay/relay-tally';
import { StatusApi } from './status-api';
import { StatusServer } from './status-server';
import { SessionTable } from './status-session';
import { type RelaySampler, type StatusStreamOptions, StatusStreams } from './status-stream';

/** The page's bounds: few admins look at once, so small tables. */
export const STATUS_LIMITS = {
  maxSessions: 64,
  /** Sockets the status port holds at once (pages, their streams, API calls); past it a new one is closed at once. */
  maxConnections: 128,
  sessionTtlMs: 8 * 60 * 60 * 1000,
  stream: {
    maxStreams: 16,
    tickMs: 1000,
    /** Ten minutes of 1 s ticks. */
    historyTicks: 600,
    eventRingSize: 200,
    maxEventsPerTick: 100,
    /** Unsent bytes a page's socket may hold before its stream is dropped. */
    maxBufferedBytes: 1024 * 1024,
  } satisfies StatusStreamOptions,
} as const;

@Injectable()
export class StatusService implements BeforeApplicationShutdown {
  private server: StatusServer | undefined;
  private stopWatchingKeys: (() => void) | undefined;
  /** The status port (configured, or picked by the kernel when asked); undefined when the page is off. */
  port: number | undefined;

  constructor(
    @Inject(CONFIG) private readonly config: Config,
    @Inject(KEY_STORE) private readonly store: KeyStore,
    private readonly relay: RelayAdmin,
    private readonly tally: RelayTally,
    private readonly hub: EventHub,
    private readonly keyEvents: KeyEvents,
    @Inject(LOGGER) private readonly log: Logger,
  ) {}

  /**
   * Binds the page, if it is on: called by createRelayApp after the other
   * ports. `anyPort` binds a port the kernel picks, once (tests and
   * embedders that want the page without racing for a port number).
   */
  async start(options: { anyPort?: boolean } = {}): Promise<void> {
    const { host, port: configured } = this.config.status;
    if (configured === 0 && !options.anyPort) return;
    const port = options.anyPort ? 0 : configured;
    const log = this.log.child({ component: 'status' });
    const sessions = new SessionTable({ maxSessions: STATUS_LIMITS.maxSessions, ttlMs: STATUS_LIMITS.sessionTtlMs });
    const streams = new StatusStreams(this.hub, relaySampler(this.relay, this.tally), STATUS_LIMITS.stream);
    const { limits } = this.config;
    // The relay's limit and window, in a table of its own: wrong keys here do not throttle the other doors, nor the reverse.
    const throttle = new AuthThrottle({ limit: limits.authFailureLimit, windowMs: limits.authFailureWindowMs, maxAddresses: limits.authThrottleMaxAddresses });
    this.stopWatchingKeys = this.store.onChange(({ key }) => {
      if (key.revokedAt !== null && sessions.endForKey(key.id) > 0) log.info({ keyId: key.id }, 'status page sessions of a revoked key ended');
    });
    const api = new StatusApi(this.relay, this.store, this.keyEvents, streams);
    this.server = new StatusServer({ api, streams, sessions, store: this.store, throttle, host, log, maxConnections: STATUS_LIMITS.maxConnections });
    this.port = await this.server.listen(port, host).catch((err: unknown) => {
      throw bindError(err, { portPath: 'status.port', hostPath: 'status.host', port, host, zeroMeans: 'turns the page off' });
    });
    log.info({ host, port: this.port }, 'status page listening');
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopWatchingKeys?.();
    await this.server?.close();
  }
}

/** What a tick reads, through the relay's door and its one tally. */
function relaySampler(relay: RelayAdmin, tally: RelayTally): RelaySampler {
  return {
    closedTotals() {
      let dials = 0;
      for (const n of tally.dialOutcomes.values()) dials += n;
      return { bytesIn: tally.closedBytesToListeners, bytesOut: tally.closedBytesToDialers, dials };
    },
    gauges() {
      const { routes, links, waitingDialers } = relay.counts();
      return { routes, links, waitingDialers };
    },
    refusals: () => Object.fromEntries(tally.refusals),
    *linkBytes() {
      for (const link of relay.linkBytes()) yield { id: link.linkId, bytesIn: link.toListener, bytesOut: link.toDialer };
    },
  };
}
