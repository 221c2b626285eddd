/**
 * Makes an existing server (net, http, https, http2, so Express, Fastify and
 * Nest apps too) accept connections through the relay: each link is handed to
 * the server as a 'connection', exactly as its own port would.
 */
import type { Server } from 'node:net';
import { type ListenOptions, RemotedServer } from './remoted-server';

/**
 * Listens on `url` and feeds every link to `server`, which may also listen on
 * a port of its own or not at all. The listener closes when the server
 * closes. Errors go to the returned RemotedServer's 'error' listeners; with
 * none, to the server's 'error' event.
 */
export function attach(server: Server, url: string, options?: ListenOptions): RemotedServer {
  const remoted = new RemotedServer(options);
  remoted.on('connection', (socket) => server.emit('connection', socket));
  remoted.on('error', function forward(this: RemotedServer, err) {
    if (this.listenerCount('error') === 1) server.emit('error', err);
  });
  server.once('close', () => remoted.close());
  return remoted.listen(url);
}
