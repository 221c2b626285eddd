/**
 * The data plane's lifetime: builds its parts, puts the upgrade router on the
 * HTTP server once Nest has made it, and takes everything down at shutdown.
 */
import type { Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { setTimeout as delay } from 'node:timers/promises';
import { type BeforeApplicationShutdown, Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { Logger } from 'pino';
import type { Config } from '../config/config';
import { CONFIG } from '../config/config.constants';
import { KeyAuthenticator } from '../keys/key-authenticator';
import { LOGGER } from '../logging/logging.constants';
import { replyError } from './http-reply';
import { LinkBroker } from './link-broker';
import { ListenerAcceptor } from './listener-acceptor';
import { ROUTE_REGISTRY } from './relay.constants';
import type { RelayContext } from './relay-context';
import { RelayEvents } from './relay-events';
import { RelaySweeper } from './relay-sweeper';
import type { RouteRegistry } from './route-registry';
import { SocketTracker } from './socket-tracker';
import { UpgradeRouter } from './upgrade-router';

/** How long shutdown waits for closing handshakes before destroying what is left. */
const SHUTDOWN_SETTLE_MS = 500;

@Injectable()
export class RelayService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  readonly tracker = new SocketTracker();
  private readonly ctx: RelayContext;
  private readonly acceptor: ListenerAcceptor;
  private readonly router: UpgradeRouter;
  private readonly sweeper: RelaySweeper;
  private server: Server | undefined;

  constructor(
    @Inject(CONFIG) config: Config,
    @Inject(ROUTE_REGISTRY) readonly registry: RouteRegistry,
    readonly events: RelayEvents,
    auth: KeyAuthenticator,
    @Inject(LOGGER) log: Logger,
    private readonly adapterHost: HttpAdapterHost,
  ) {
    this.ctx = { config, registry, events, log, now: Date.now };
    this.acceptor = new ListenerAcceptor(this.ctx);
    this.router = new UpgradeRouter(this.ctx, auth, this.acceptor, new LinkBroker(this.ctx), this.tracker);
    this.sweeper = new RelaySweeper(this.ctx);
  }

  onApplicationBootstrap(): void {
    this.server = this.adapterHost.httpAdapter.getHttpServer() as Server;
    this.server.on('upgrade', this.router.handle);
    this.server.on('clientError', onClientError);
    this.sweeper.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.router.stop();
    this.sweeper.stop();
    const { registry } = this.ctx;
    for (const listener of [...registry.listeners()]) listener.close('shutdown');
    for (const dialer of [...registry.waitingDialers()]) {
      registry.removeWaitingDialer(dialer);
      dialer.answerShutdown();
    }
    for (const link of [...registry.links()]) link.destroy('shutdown');
    for (let waited = 0; this.tracker.size > 0 && waited < SHUTDOWN_SETTLE_MS; waited += 10) await delay(10);
    this.tracker.destroyAll();
    this.acceptor.close();
    this.server?.off('upgrade', this.router.handle);
  }
}

/**
 * Requests Node could not parse: headers over the limit get the protocol's
 * 431; anything else (not HTTP, or headers too slow) is closed.
 */
function onClientError(err: NodeJS.ErrnoException, socket: Duplex): void {
  if (err.code === 'HPE_HEADER_OVERFLOW') replyError(socket, 'headers_too_large');
  else socket.destroy();
}
