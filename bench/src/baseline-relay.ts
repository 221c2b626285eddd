/**
 * The baseline: the barest TCP relay Node can run, socket pipe() both ways.
 * Whatever it does is the ceiling of any relay written in Node.
 * Run as a process: BASELINE_TARGETS="echoPort,sinkPort"; prints {"echo":p,"sink":p}.
 */
import { connect, createServer, type Server } from 'node:net';

function relayTo(targetPort: number): Promise<Server> {
  const server = createServer({ allowHalfOpen: true }, (client) => {
    const upstream = connect({ port: targetPort, host: '127.0.0.1', allowHalfOpen: true });
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    const destroyBoth = (): void => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', destroyBoth);
    upstream.on('error', destroyBoth);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

async function main(): Promise<void> {
  const [echoTarget, sinkTarget] = (process.env.BASELINE_TARGETS ?? '').split(',').map(Number);
  const [echo, sink] = await Promise.all([relayTo(echoTarget), relayTo(sinkTarget)]);
  const port = (s: Server): number => (s.address() as { port: number }).port;
  process.stdout.write(`${JSON.stringify({ echo: port(echo), sink: port(sink) })}\n`);
}

void main();
