/**
 * The control plane's lifetime within the Nest application: start() binds it
 * once the data port is up (createRelayApp), stop before the relay it reads is
 * taken down.
 */
import { type BeforeApplicationShutdown, Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import { bindError } from '../config/bind-error';
import type { Config } from '../config/config';
import { CONFIG } from '../config/config.constants';
import type { KeyStore } from '../keys/api-key';
import { KEY_STORE } from '../keys/keys.constants';
import { LOGGER } from '../logging/logging.constants';
import { AuthThrottle } from '../keys/auth-throttle';
import { RelayAdmin } from '../relay/relay-admin';
import { ControlServer } from './control-server';
import { EventHub } from './event-hub';
import { KeyEvents } from './key-events';
import { RelayStats } from './relay-stats';
import { RelayTally } from '../relay/relay-tally';

@Injectable()
export class ControlService implements BeforeApplicationShutdown {
  private readonly hub: EventHub;
  private readonly stats: RelayStats;
  private readonly server: ControlServer;
  private readonly log: Logger;

  constructor(
    @Inject(CONFIG) private readonly config: Config,
    @Inject(KEY_STORE) store: KeyStore,
    relay: RelayAdmin,
    tally: RelayTally,
    hub: EventHub,
    keyEvents: KeyEvents,
    @Inject(LOGGER) log: Logger,
  ) {
    this.log = log.child({ component: 'control' });
    this.hub = hub;
    this.stats = new RelayStats(relay, tally);
    // The data plane's limit and window, in a table of its own: failures on one port do not throttle the other.
    const authThrottle = new AuthThrottle({
      limit: config.limits.authFailureLimit,
      windowMs: config.limits.authFailureWindowMs,
      maxAddresses: config.limits.authThrottleMaxAddresses,
    });
    this.server = new ControlServer({ config: config.grpc, store, relay, hub: this.hub, keyEvents, stats: this.stats, authThrottle, log: this.log });
  }

  /** The control plane's port (the configured one, or the one picked for 0). */
  get port(): number {
    return this.server.port;
  }

  get tls(): boolean {
    return this.server.tls;
  }

  /**
   * Binds and announces the control plane. Called by createRelayApp once the
   * data port is bound (not a bootstrap hook, which runs before it): a relay
   * whose control plane answers is one whose data plane is up.
   */
  async start(): Promise<void> {
    const { host, port: configured } = this.config.grpc;
    const port = await this.server.start().catch((err: unknown) => {
      throw bindError(err, { portPath: 'grpc.port', hostPath: 'grpc.host', port: configured, host });
    });
    this.log.info({ host: this.config.grpc.host, port, tls: this.server.tls }, 'control plane listening');
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.server.stop();
    this.hub.stop();
    this.log.info('control plane stopped');
  }
}
