/**
 * The hidden server of the `remoted` target: our SDK listens on /echo and
 * /sink through the relay and serves each link like the target server does.
 * Run as a process: RELAY_PORT, SERVER_KEY; prints {"ready":true} when both routes listen.
 */
import { listen } from '@remoted/sdk';
import { serveConnection, type ServerMode } from './target-server';

async function main(): Promise<void> {
  const port = process.env.RELAY_PORT;
  const key = process.env.SERVER_KEY;
  await Promise.all(
    (['echo', 'sink'] as ServerMode[]).map(
      (mode) =>
        new Promise<void>((resolve, reject) => {
          const server = listen(`rws://${key}@127.0.0.1:${port}/${mode}`);
          server.on('connection', (socket) => serveConnection(mode, socket));
          server.once('listening', resolve);
          server.once('error', reject);
        }),
    ),
  );
  process.stdout.write(`${JSON.stringify({ ready: true })}\n`);
}

void main();
