/** Holds a listener's spare dial-back until a dial takes it (docs/protocol.md, spares). */
import { FEATURE_SPARE } from '@remoted/sdk/wire/protocol';
import { replyError } from '../port/http-reply';
import type { WebRouteCall } from './link-broker';
import type { DialsContext } from './dials-context';
import type { RouteDirectory } from '../context/route-directory';
import { SpareDialback } from './spare-dialback';
import { effectiveTimeoutSeconds } from '../port/webroute-handshake';
import { keyLimitsOf } from '../../keys/key-limits';

const NO_SUCH_LISTENER = 'No listener of this key on this path was granted spares under this id.';

export class SpareAcceptor {
  constructor(private readonly ctx: DialsContext) {}

  /** `listenerId`: the X-Remoted-Spare header; the key is a server key valid for the path. */
  accept(call: WebRouteCall, listenerId: string): void {
    const { socket, key, path } = call;
    const listener = this.ctx.listeners.find(listenerId);
    // Cluster mode: the balancer sends a listener's spares to every node, so that a dial on any node may find one here.
    if (!listener && this.ctx.directory) return void this.acceptForElsewhere(call, listenerId, this.ctx.directory);
    if (!listener || listener.path !== path || listener.keyId !== key.id || !listener.features.includes(FEATURE_SPARE)) {
      return replyError(socket, 'invalid_request', NO_SUCH_LISTENER);
    }
    if (listener.state !== 'active') return replyError(socket, 'invalid_request', 'The listener of this spare is draining.');
    this.hold(call, listenerId);
  }

  /**
   * A spare of a listener on another node: held when the directory has that
   * listener, active, on this path, under this key. Whether it was granted
   * spares is its node's to know; the per-listener and per-path bounds hold
   * on this node as for local listeners.
   */
  private async acceptForElsewhere(call: WebRouteCall, listenerId: string, directory: RouteDirectory): Promise<void> {
    const elsewhere = await directory.listenersElsewhere(call.path);
    if (call.socket.destroyed) return;
    if (!elsewhere.some((listener) => listener.listenerId === listenerId && listener.keyId === call.key.id)) {
      return replyError(call.socket, 'invalid_request', NO_SUCH_LISTENER);
    }
    this.hold(call, listenerId);
  }

  private hold(call: WebRouteCall, listenerId: string): void {
    const { spares, config, events } = this.ctx;
    const { socket, key, path, id } = call;
    if (call.head.length > 0) return replyError(socket, 'invalid_request', 'A spare sends nothing before it is answered.');
    if (spares.hasId(listenerId, id)) return replyError(socket, 'invalid_request', 'A spare with this WebRoute-ID is already held.');
    if (spares.countFor(listenerId) >= config.routes.sparesPerListener) {
      events.emit('capacity:reached', { limit: 'spares', path });
      return replyError(socket, 'over_capacity', `This listener holds its ${config.routes.sparesPerListener} spares already.`);
    }
    if (spares.countOnPath(path) >= config.routes.sparesPerRoute) {
      events.emit('capacity:reached', { limit: 'spares', path });
      return replyError(socket, 'over_capacity', `This path holds its ${config.routes.sparesPerRoute} spares already.`);
    }
    const { maxSpares } = keyLimitsOf(key, config.limits);
    if (spares.countOfKey(key.id) >= maxSpares) {
      events.emit('capacity:reached', { limit: 'spares_per_key', path });
      return replyError(socket, 'over_capacity', `This key holds its ${maxSpares} spares already.`);
    }
    const timeoutSeconds = effectiveTimeoutSeconds(config.defaultTimeoutSeconds, call.requestedTimeoutSeconds);
    const spare = new SpareDialback(id, path, listenerId, key.id, socket, timeoutSeconds, this.ctx.now());
    spares.add(spare);
    spare.watch(this.onSpareGone);
  }

  private readonly onSpareGone = (spare: SpareDialback): void => {
    this.ctx.spares.remove(spare);
  };
}
