/** What the pool, drain, takeover and spares tests share: the relay's view of a path, and a hashing application. */
import { createHash } from 'node:crypto';
import type { Socket } from 'node:net';
import type { RemotedServer } from '@remoted/sdk';
import { RelayAdmin, type RouteView } from '../../src/relay/relay-admin';
import type { StartedRelay } from '../helpers/start-relay';

/** The relay's listeners on `path`, in the order they joined (draining ones included). */
export function listenersOn(relay: StartedRelay, path: string): RouteView[] {
  return relay.app.get(RelayAdmin).routes({ path });
}

/** Spares the relay holds for the listener `id` (0 when it is gone). */
export function sparesHeld(relay: StartedRelay, id: string | undefined): number {
  if (id === undefined) return 0;
  return relay.app.get(RelayAdmin).route(id, { counters: false })?.spares ?? 0;
}

export function sha256(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}

export interface HashingApp {
  /** Connections the listener emitted so far. */
  accepted: number;
  readonly sockets: Set<Socket>;
}

/**
 * Serves each connection of `server`: reads everything, and on the dialer's
 * FIN answers the SHA-256 (hex) of what it read, then ends.
 */
export function hashingApp(server: RemotedServer): HashingApp {
  const app: HashingApp = { accepted: 0, sockets: new Set() };
  server.on('connection', (socket: Socket) => {
    app.accepted += 1;
    app.sockets.add(socket);
    const hash = createHash('sha256');
    socket.on('data', (chunk: Buffer) => hash.update(chunk));
    socket.once('end', () => socket.end(hash.digest('hex')));
    socket.on('error', () => socket.destroy());
    socket.once('close', () => app.sockets.delete(socket));
  });
  return app;
}

/** close() as a promise; destroys what the application still holds. */
export function closeServer(server: RemotedServer | undefined, app?: HashingApp): Promise<void> {
  for (const socket of app?.sockets ?? []) socket.destroy();
  if (!server) return Promise.resolve();
  return new Promise((resolve) => server.close(() => resolve()));
}
