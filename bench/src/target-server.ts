/**
 * The server every target reaches: `echo` sends back what it gets; `sink`
 * counts bytes and, at the client's FIN, answers the count as 8 bytes.
 * Run as a process: prints {"echo":port,"sink":port} on stdout.
 */
import { createServer, type Server, type Socket } from 'node:net';

export type ServerMode = 'echo' | 'sink';

export function serveConnection(mode: ServerMode, socket: Socket): void {
  socket.setNoDelay(true);
  socket.on('error', () => socket.destroy());
  if (mode === 'echo') {
    socket.pipe(socket);
    return;
  }
  let count = 0;
  socket.on('data', (chunk: Buffer) => {
    count += chunk.length;
  });
  socket.on('end', () => {
    const answer = Buffer.alloc(8);
    answer.writeBigUInt64BE(BigInt(count));
    socket.end(answer);
  });
}

function listen(mode: ServerMode): Promise<Server> {
  const server = createServer({ allowHalfOpen: true }, (socket) => serveConnection(mode, socket));
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

async function main(): Promise<void> {
  const [echo, sink] = await Promise.all([listen('echo'), listen('sink')]);
  const port = (s: Server): number => (s.address() as { port: number }).port;
  process.stdout.write(`${JSON.stringify({ echo: port(echo), sink: port(sink) })}\n`);
}

if (require.main === module) void main();
