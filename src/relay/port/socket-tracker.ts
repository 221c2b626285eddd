/**
 * A set of sockets that forget themselves when they close: the sockets the
 * relay took over (so shutdown can end them all) and every connection of the
 * port (so the server's close is not held). A socket in several sets gets one
 * shared 'close' listener, not a closure and a once-wrapper per set: a link's
 * sockets live long and there may be tens of thousands.
 */
import type { Duplex } from 'node:stream';

const kSets = Symbol('remoted:socket-sets');

type TrackedSocket = Duplex & { [kSets]?: Set<Duplex>[] };

function forgetClosed(this: TrackedSocket): void {
  for (const set of this[kSets] ?? []) set.delete(this);
  delete this[kSets];
}

export class SocketTracker {
  private readonly sockets = new Set<Duplex>();

  track(socket: Duplex): void {
    const tracked = socket as TrackedSocket;
    if (tracked.destroyed && tracked.closed) return;
    this.sockets.add(socket);
    if (!tracked[kSets]) {
      tracked[kSets] = [];
      socket.on('close', forgetClosed);
    }
    tracked[kSets].push(this.sockets);
  }

  get size(): number {
    return this.sockets.size;
  }

  destroyAll(): void {
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
  }
}
