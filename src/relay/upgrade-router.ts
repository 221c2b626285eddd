/**
 * The one 'upgrade' handler of the relay port: it takes the socket over,
 * authenticates the request on its own, and hands the socket to its next
 * owner: a listener (WebSocket), a waiting dialer, a spare, or a link (dial-back).
 */
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { FEATURE_EARLY_DATA, HEADER_FEATURES, HEADER_SPARE } from '@remoted/sdk/wire/protocol';
import { hasFeature } from '@remoted/sdk/wire/features';
import { KeyStoreUnavailableError } from '../keys/api-key';
import type { KeyAuthenticator } from '../keys/key-authenticator';
import type { KeyEnforcer } from './key-enforcer';
import type { AuthThrottle } from '../keys/auth-throttle';
import type { TrustedProxies } from './port/client-address';
import { replyError, replyThrottled, replyUpgradeRequired } from './port/http-reply';
import { holdsBytesAfter101 } from './port/legacy-peer';
import type { LinkBroker } from './dials/link-broker';
import type { ListenerAcceptor } from './routes/listener-acceptor';
import { reportRefusalsTo } from './port/refusal-reporting';
import type { RelayContext } from './context/relay-context';
import { HOP_HEADER } from './context/route-directory';
import { type SetupTimes, stamp, startSetupTimes } from './context/setup-trace';
import type { SocketTracker } from './port/socket-tracker';
import type { SpareAcceptor } from './dials/spare-acceptor';
import {
  apiKeyOf,
  MAX_ROUTE_PATH_LENGTH,
  parseWebRouteRequest,
  routePath,
  singleHeader,
  upgradeKind,
  WEBROUTE_ID_RULE,
} from './port/webroute-handshake';

export class UpgradeRouter {
  private closing = false;

  constructor(
    private readonly ctx: RelayContext,
    private readonly auth: KeyAuthenticator,
    private readonly keys: KeyEnforcer,
    private readonly acceptor: ListenerAcceptor,
    private readonly broker: LinkBroker,
    private readonly spares: SpareAcceptor,
    private readonly tracker: SocketTracker,
    private readonly proxies: TrustedProxies,
    private readonly throttle: AuthThrottle,
  ) {}

  /** Stops taking requests: each new one is answered 503. */
  stop(): void {
    this.closing = true;
  }

  readonly handle = (req: IncomingMessage, duplex: Duplex, head: Buffer): void => {
    const socket = duplex as Socket;
    const times = startSetupTimes(socket);
    socket.on('error', destroyOnError);
    reportRefusalsTo(socket, this.ctx.events);
    // Counted before this socket joins, so the limit is the number held.
    const full = this.tracker.size >= this.ctx.config.limits.maxConnections;
    this.tracker.track(socket);
    if (full && !this.closing) {
      this.ctx.log.warn({ limit: this.ctx.config.limits.maxConnections }, 'connection limit reached');
      this.ctx.events.emit('capacity:reached', { limit: 'connections', path: routePath(req.url) });
      return replyError(socket, 'over_capacity', 'The relay holds too many connections.');
    }
    this.route(req, socket, head, times).catch((err: unknown) => {
      this.ctx.log.error({ err }, 'bug: upgrade handling failed');
      socket.destroy();
    });
  };

  private async route(req: IncomingMessage, socket: Socket, head: Buffer, times: SetupTimes | undefined): Promise<void> {
    if (this.closing) return replyError(socket, 'over_capacity', 'The relay is shutting down.');
    if (req.method !== 'GET') return replyError(socket, 'invalid_request', 'Expected a GET upgrade request.');
    const kind = upgradeKind(req);
    if (kind === 'other') return replyError(socket, 'invalid_request', 'Expected an upgrade to websocket or webroute.');

    const path = routePath(req.url);
    // Before authentication: a key's scopes are never matched against a path longer than any route.
    if (path.length > MAX_ROUTE_PATH_LENGTH) return replyError(socket, 'invalid_request', `The request path is longer than ${MAX_ROUTE_PATH_LENGTH} characters.`);
    const client = this.proxies.resolve(req);
    const retryAfterMs = this.throttle.retryAfterMs(client.ip, this.ctx.now());
    if (retryAfterMs > 0) return replyThrottled(socket, Math.ceil(retryAfterMs / 1000));
    if (req.headers[HOP_HEADER] !== undefined) return this.routeHop(req, socket, head, path, client.ip, times);
    // Nothing is read while the key is looked up; the kernel holds what comes.
    socket.pause();
    let key;
    try {
      key = await this.auth.authenticate(apiKeyOf(req), path);
    } catch (err) {
      if (!(err instanceof KeyStoreUnavailableError)) throw err;
      // Not the peer's fault: no failed authentication is counted, and the answer says to try again.
      this.ctx.log.warn({ path, err: err.message }, 'a key could not be checked');
      return replyError(socket, 'over_capacity', 'The relay cannot check keys right now; try again shortly.');
    }
    if (socket.destroyed) return;
    stamp(times, 'key_checked');
    if (!key || key.role === 'admin') {
      this.throttle.recordFailure(client.ip, this.ctx.now());
      if (this.throttle.retryAfterMs(client.ip, this.ctx.now()) > 0) {
        this.ctx.log.warn({ address: client.ip }, 'address throttled after repeated failed authentications');
      }
      this.ctx.events.emit('auth:failed', { address: client.ip, path });
      return replyError(socket, 'invalid_missing_apikey');
    }
    // The latest word on this key, for what it will hold after this request.
    this.keys.observe(key);

    if (kind === 'websocket') {
      if (key.role !== 'server') return replyError(socket, 'invalid_request', 'Only a server key can open a listener.');
      return this.acceptor.accept(req, socket, head, key, path, client.display);
    }
    const webRoute = parseWebRouteRequest(req);
    if (!webRoute.ok) {
      if (webRoute.problem === 'version') return replyUpgradeRequired(socket);
      if (webRoute.problem === 'bad_id') return replyError(socket, 'invalid_request', WEBROUTE_ID_RULE);
      return replyError(socket, 'invalid_request', 'Missing WebRoute-ID header.');
    }
    const call = {
      socket,
      head,
      key,
      path,
      address: client.display,
      id: webRoute.id,
      requestedTimeoutSeconds: webRoute.requestedTimeoutSeconds,
      holdsBytesAfter101: holdsBytesAfter101(this.ctx.config.legacyPeerQuirk, hasFeature(req.headers[HEADER_FEATURES], FEATURE_EARLY_DATA), req.headers),
      times,
    };
    const spareOf = singleHeader(req, HEADER_SPARE);
    if (spareOf !== undefined) {
      // A spare is a dial-back: only a server key valid for the path may open one.
      if (key.role !== 'server') return replyError(socket, 'invalid_missing_apikey', 'Only a server key can open a spare.');
      return this.spares.accept(call, spareOf);
    }
    if (key.role === 'client') return this.broker.dial(call);
    return this.broker.dialBack(call);
  }

  /**
   * Cluster mode: another node's dial-back for a dialer waiting here
   * (docs/protocol.md, between the nodes). No key: the HMAC of the cluster
   * secret in the hop header is the credential, and a wrong one counts as a
   * failed authentication like a wrong key.
   */
  private routeHop(req: IncomingMessage, socket: Socket, head: Buffer, path: string, ip: string, times: SetupTimes | undefined): void {
    const webRoute = parseWebRouteRequest(req);
    const hop = this.ctx.directory && webRoute.ok ? this.ctx.directory.verifyHop(req.headers, path, webRoute.id) : undefined;
    if (!hop || !webRoute.ok) {
      this.throttle.recordFailure(ip, this.ctx.now());
      this.ctx.events.emit('auth:failed', { address: ip, path });
      return replyError(socket, 'invalid_missing_apikey');
    }
    this.broker.hopArrived(
      { socket, head, path, address: `node ${hop.fromNodeId}`, id: webRoute.id, requestedTimeoutSeconds: webRoute.requestedTimeoutSeconds, holdsBytesAfter101: false, times },
      hop.listenerKeyId,
    );
  }
}

function destroyOnError(this: Socket): void {
  this.destroy();
}
