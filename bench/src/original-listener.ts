/**
 * The hidden server of the `remoted_legacy` target: a listener written to the
 * original protocol (a WebSocket for notifies, a WebRoute dial-back per
 * dial, no early-data, no spares) on /legacy-echo and /legacy-sink, serving
 * each link like the target server does. Run as a process: RELAY_PORT,
 * SERVER_KEY. Prints {"ready":true} when both routes listen.
 */
import WebSocket from 'ws';
import { webRouteConnect } from './original-protocol';
import { serveConnection, type ServerMode } from './target-server';

interface Notify {
  ipaddr: string;
  id: string;
}

function listenOn(port: number, key: string, mode: ServerMode): Promise<void> {
  const path = `legacy-${mode}`;
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/${path}`, { headers: { 'X-Remoted-APIKey': key } });
    ws.once('open', () => resolve());
    ws.once('error', reject);
    ws.on('message', (data) => {
      const notify = JSON.parse(String(data)) as Notify;
      webRouteConnect(port, path, key, notify.id).then(
        (socket) => serveConnection(mode, socket),
        () => undefined,
      );
    });
  });
}

async function main(): Promise<void> {
  const port = Number(process.env.RELAY_PORT);
  const key = process.env.SERVER_KEY ?? '';
  await Promise.all((['echo', 'sink'] as ServerMode[]).map((mode) => listenOn(port, key, mode)));
  process.stdout.write(`${JSON.stringify({ ready: true })}\n`);
}

void main();
