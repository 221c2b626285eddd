/**
 * The data plane's lifetime: builds its parts, puts the upgrade router on the
 * HTTP server once Nest has made it, and takes everything down at shutdown.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Server as TlsServer } from 'node:https';
import type { Duplex } from 'node:stream';
import { setTimeout as delay } from 'node:timers/promises';
import { type BeforeApplicationShutdown, Inject, Injectable, type OnApplicationBootstrap, Optional } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { Logger } from 'pino';
import type { Config } from '../config/config';
import { CONFIG } from '../config/config.constants';
import { KeyAuthenticator } from '../keys/key-authenticator';
import { LOGGER } from '../logging/logging.constants';
import { AuthThrottle } from '../keys/auth-throttle';
import { TrustedProxies } from './port/client-address';
import { endWaitingDialer } from './dials/end-waiting-dialer';
import type { KeyStore } from '../keys/api-key';
import { KEY_STORE } from '../keys/keys.constants';
import { type HeldCounts, KeyEnforcer, type KeyHoldings, type SeveredCounts } from './key-enforcer';
import { replyError, replyHttpError } from './port/http-reply';
import { PLAIN_REQUEST_MESSAGE } from './port/plain-request.filter';
import { DialOffers } from './dials/dial-offers';
import type { DialsContext } from './dials/dials-context';
import { LinkBroker } from './dials/link-broker';
import { WaitingDialerTable } from './dials/waiting-dialer-table';
import { LinkTable } from './links/link-table';
import { ListenerTable } from './routes/listener-table';
import { RelayAdmin } from './relay-admin';
import { ListenerAcceptor } from './routes/listener-acceptor';
import { ListenerGateway } from './routes/listener-gateway';
import { reportRefusalsTo } from './port/refusal-reporting';
import { RelayEvents } from './context/relay-events';
import { type DirectoryHost, ROUTE_DIRECTORY, type RouteDirectory } from './context/route-directory';
import { RelaySweeper } from './relay-sweeper';
import { SocketTracker } from './port/socket-tracker';
import { SplicePool } from './links/offload/splice-pool';
import { SpareAcceptor } from './dials/spare-acceptor';
import { SparePool } from './dials/spare-pool';
import { TlsFileWatcher } from './port/tls-file-watcher';
import { readTlsMaterial } from './port/tls-files';
import { UpgradeRouter } from './upgrade-router';

/** How long shutdown waits for closing handshakes before destroying what is left. */
const SHUTDOWN_SETTLE_MS = 500;
/** How often shutdown looks whether the linked pairs have finished. */
const DRAIN_POLL_MS = 20;

@Injectable()
export class RelayService implements OnApplicationBootstrap, BeforeApplicationShutdown, KeyHoldings {
  private readonly tracker = new SocketTracker();
  private readonly ctx: DialsContext;
  /** The door its readers use (control plane, metrics, status page, tests). */
  readonly admin: RelayAdmin;
  private readonly acceptor: ListenerAcceptor;
  private readonly router: UpgradeRouter;
  private readonly sweeper: RelaySweeper;
  private readonly keys: KeyEnforcer;
  /** Failed authentications on the relay port: upgrades and the /metrics token alike. */
  private readonly throttle: AuthThrottle;
  private readonly proxies: TrustedProxies;
  private server: Server | undefined;
  private tlsWatcher: TlsFileWatcher | undefined;
  private closing = false;
  private unwatchKeys: (() => void) | undefined;
  private readonly offers: DialOffers;

  constructor(
    @Inject(CONFIG) config: Config,
    private readonly events: RelayEvents,
    auth: KeyAuthenticator,
    @Inject(KEY_STORE) private readonly keyStore: KeyStore,
    @Inject(LOGGER) private readonly log: Logger,
    private readonly adapterHost: HttpAdapterHost,
    gateway: ListenerGateway,
    @Optional() @Inject(ROUTE_DIRECTORY) private readonly directory?: RouteDirectory,
  ) {
    const splice = config.spliceWorkers > 0 ? new SplicePool({ log }) : undefined;
    this.ctx = {
      config,
      events,
      log,
      now: Date.now,
      directory,
      listeners: new ListenerTable(),
      dialers: new WaitingDialerTable(),
      spares: new SparePool(),
      links: new LinkTable(),
      splice,
    };
    const offers = new DialOffers(this.ctx);
    this.offers = offers;
    this.acceptor = new ListenerAcceptor(this.ctx, this.ctx.listeners, gateway, offers);
    this.keys = new KeyEnforcer(this.ctx);
    this.throttle = new AuthThrottle({
      limit: config.limits.authFailureLimit,
      windowMs: config.limits.authFailureWindowMs,
      maxAddresses: config.limits.authThrottleMaxAddresses,
    });
    this.proxies = new TrustedProxies(config.trustedProxies);
    this.router = new UpgradeRouter(this.ctx, auth, this.keys, this.acceptor, new LinkBroker(this.ctx, this.keys, offers), new SpareAcceptor(this.ctx), this.tracker, this.proxies, this.throttle);
    this.sweeper = new RelaySweeper(this.ctx, this.keys);
    this.admin = new RelayAdmin(this.ctx, this, this);
  }

  onApplicationBootstrap(): void {
    this.server = this.adapterHost.httpAdapter.getHttpServer() as Server;
    this.server.on('upgrade', this.router.handle);
    this.server.on('clientError', this.onClientError);
    // Without these, Node answers an Expect header itself (100 Continue, 417)
    // instead of the protocol's refusal.
    this.server.on('checkContinue', refusePlainRequest);
    this.server.on('checkExpectation', refusePlainRequest);
    this.sweeper.start();
    // Every update and revocation, whoever makes it: what the key may no longer hold is closed at once.
    this.unwatchKeys = this.keyStore.onChange((change) => this.keys.apply(change.key, { keepLinks: change.keepLinks }));
    this.watchTlsFiles();
  }

  /**
   * Cluster mode: joins the cluster once the relay port listens, at the
   * address the other nodes reach it by. A single node has nothing to join.
   */
  async joinCluster(nodeAddress: string): Promise<void> {
    const { directory } = this;
    if (!directory) return;
    const { listeners } = this.ctx;
    const host: DirectoryHost = {
      heldListeners: () => [...listeners.all()].map((listener) => ({ path: listener.path, listenerId: listener.id, state: listener.state === 'active' ? 'active' : 'draining' })),
      closeListener: (listenerId, reason) => listeners.find(listenerId)?.close(reason),
      offer: (offer) => this.offers.offerFromElsewhere(offer),
      answer: (question) => this.admin.answer(question),
    };
    await directory.start(host, nodeAddress);
  }

  /** Cluster mode: whether this node takes new listeners (it renewed its route leases lately). */
  get takesListeners(): boolean | undefined {
    return this.directory?.takesListeners;
  }

  heldBy(keyId: string): HeldCounts {
    return this.keys.heldBy(keyId);
  }

  /** Closes every listener, link and waiting dial of the key; the key stays usable. */
  closeKeyConnections(keyId: string): SeveredCounts {
    return this.keys.closeAll(keyId);
  }

  /**
   * Ms the client of a plain request (GET /metrics with a token) must wait
   * before it may authenticate again; 0 when it may now. The same table as
   * the upgrades': a wrong token and a wrong key count alike.
   */
  authRetryAfterMs(req: IncomingMessage): number {
    return this.throttle.retryAfterMs(this.proxies.resolve(req).ip, this.ctx.now());
  }

  /** Counts a failed authentication of a plain request against its client's address. */
  recordAuthFailure(req: IncomingMessage, path: string): void {
    const { ip } = this.proxies.resolve(req);
    this.throttle.recordFailure(ip, this.ctx.now());
    if (this.throttle.retryAfterMs(ip, this.ctx.now()) > 0) this.log.warn({ address: ip }, 'address throttled after repeated failed authentications');
    this.events.emit('auth:failed', { address: ip, path });
  }

  /** Spare dial-backs held now (extension). */
  get spareCount(): number {
    return this.ctx.spares.size;
  }

  /** Sockets the relay port holds (any state). */
  get connectionCount(): number {
    return this.tracker.size;
  }

  /** Listening and not shutting down: what /readyz reports for the data plane. */
  get isAccepting(): boolean {
    return !this.closing && this.server?.listening === true;
  }

  get speaksTls(): boolean {
    return this.server !== undefined && isTlsServer(this.server);
  }

  /** Reads the certificate and key files again; new TLS connections use them (SIGHUP). */
  reloadTls(): void {
    const server = this.server;
    const material = readTlsMaterial(this.ctx.config.tls);
    if (!server || !isTlsServer(server) || !material) throw new Error('the relay port does not speak TLS');
    server.setSecureContext(material);
  }

  /**
   * reloadTls for SIGHUP and file changes: a failure (a file missing
   * mid-renewal, a certificate that does not match the key yet) is logged and
   * the certificate already loaded stays in use.
   */
  reloadTlsLogged(trigger: 'signal' | 'file_change'): boolean {
    try {
      this.reloadTls();
      this.log.info({ trigger }, 'TLS certificate reloaded');
      return true;
    } catch (err) {
      this.log.error({ err, trigger }, 'TLS certificate reload failed; the previous certificate stays in use');
      return false;
    }
  }

  private watchTlsFiles(): void {
    const { certFile, keyFile } = this.ctx.config.tls;
    if (!this.speaksTls || !certFile || !keyFile) return;
    const watcher = new TlsFileWatcher([certFile, keyFile], () => this.reloadTlsLogged('file_change'));
    this.tlsWatcher = watcher;
    watcher.start().catch((err: unknown) => this.log.error({ err }, 'bug: watching the TLS files failed'));
  }

  /**
   * Stops taking connections, closes listeners with a going-away frame,
   * answers waiting dialers, lets linked pairs finish for the grace period,
   * then ends what is left.
   */
  async beforeApplicationShutdown(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    this.tlsWatcher?.stop();
    this.unwatchKeys?.();
    this.router.stop();
    // No new connections; Nest closes the server again later, which is harmless.
    this.server?.close();
    const { listeners, dialers, links, config } = this.ctx;
    for (const listener of [...listeners.all()]) listener.close('shutdown');
    // Closing a listener answers its spares; none should be left, but none may linger either.
    for (const spare of this.ctx.spares.removeAll()) spare.answerListenerGone();
    for (const dialer of [...dialers.all()]) endWaitingDialer(this.ctx, dialer, 'shutdown');
    const open = links.size;
    if (open > 0) this.log.info({ links: open, graceMs: config.shutdownGraceMs }, 'shutdown: letting links finish');
    const graceEnd = Date.now() + config.shutdownGraceMs;
    while (links.size > 0 && Date.now() < graceEnd) await delay(DRAIN_POLL_MS);
    this.sweeper.stop();
    const cut = links.size;
    if (cut > 0) this.log.warn({ links: cut }, 'shutdown: closing links still open after the grace period');
    for (const link of [...links.all()]) link.destroy('shutdown');
    for (let waited = 0; this.tracker.size > 0 && waited < SHUTDOWN_SETTLE_MS; waited += 10) await delay(10);
    this.tracker.destroyAll();
    // After the links: a worker that still had any would close them as errors.
    this.ctx.splice?.close();
    // After the listeners: their leases are released first, so their paths are free at once for another node.
    await this.directory?.stop();
    this.server?.off('upgrade', this.router.handle);
  }

  /**
   * Requests Node could not parse: headers over the limit get the protocol's
   * 431; anything else (not HTTP, or headers too slow) is closed.
   */
  private readonly onClientError = (err: NodeJS.ErrnoException, socket: Duplex): void => {
    reportRefusalsTo(socket, this.ctx.events);
    if (err.code === 'HPE_HEADER_OVERFLOW') replyError(socket, 'headers_too_large');
    else socket.destroy();
  };
}

function refusePlainRequest(_req: IncomingMessage, res: ServerResponse): void {
  replyHttpError(res, 'invalid_request', PLAIN_REQUEST_MESSAGE);
}

function isTlsServer(server: Server): server is Server & TlsServer {
  return typeof (server as Partial<TlsServer>).setSecureContext === 'function';
}
