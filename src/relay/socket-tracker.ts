/** Every socket the relay took over from the HTTP server, so shutdown can end them all. */
import type { Duplex } from 'node:stream';

export class SocketTracker {
  private readonly sockets = new Set<Duplex>();

  track(socket: Duplex): void {
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
  }

  get size(): number {
    return this.sockets.size;
  }

  destroyAll(): void {
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
  }
}
