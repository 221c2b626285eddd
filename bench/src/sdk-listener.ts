/**
 * The hidden server of the `remoted` targets: our SDK listens on /echo and
 * /sink through the relay and serves each link like the target server does.
 * Run as a process: RELAY_PORT, SERVER_KEY; SPARES (default 0) keeps that many
 * spare dial-backs per route, ROUTE_PREFIX (default none) names the routes
 * `/<prefix>echo` and `/<prefix>sink`. Prints {"ready":true,"spares":N} when
 * both routes listen and their spares are asked for.
 */
import { listen, type RouteOpenEvent } from '@remoted/sdk';
import { serveConnection, type ServerMode } from './target-server';

async function main(): Promise<void> {
  const port = process.env.RELAY_PORT;
  const key = process.env.SERVER_KEY;
  const spares = Number(process.env.SPARES ?? '0');
  const prefix = process.env.ROUTE_PREFIX ?? '';
  const granted = await Promise.all(
    (['echo', 'sink'] as ServerMode[]).map(
      (mode) =>
        new Promise<number>((resolve, reject) => {
          const server = listen(`rws://${key}@127.0.0.1:${port}/${prefix}${mode}`, { spares });
          server.on('connection', (socket) => serveConnection(mode, socket));
          server.once('route:open', (e: RouteOpenEvent) => resolve(e.spares));
          server.once('error', reject);
        }),
    ),
  );
  process.stdout.write(`${JSON.stringify({ ready: true, spares: Math.min(...granted) })}\n`);
}

void main();
