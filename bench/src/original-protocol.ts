/**
 * A peer written to the original protocol (docs/protocol.md sections 1-4) and
 * nothing more: no `early-data`, no spares, no SDK. It is what any client or
 * listener written against the original's docs looks like, and what the
 * `remoted_legacy` target measures.
 */
import { connect, type Socket } from 'node:net';

/** Longest 101 head a peer reads before it gives up. */
const MAX_HEAD_BYTES = 16 * 1024;

/** Sends a WebRoute request on a new connection and resolves with the socket once its 101 is read (later bytes put back). */
export function webRouteConnect(port: number, path: string, key: string, id: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: '127.0.0.1', allowHalfOpen: true, noDelay: true });
    socket.once('error', reject);
    socket.write(
      `GET /${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: Upgrade\r\nUpgrade: webroute\r\n` +
        `WebRoute-Version: 1\r\nWebRoute-ID: ${id}\r\nX-Remoted-APIKey: ${key}\r\n\r\n`,
    );
    let head = Buffer.alloc(0);
    const onData = (chunk: Buffer): void => {
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) {
        if (head.length > MAX_HEAD_BYTES) fail(new Error('no end of the 101 head'));
        return;
      }
      socket.off('data', onData);
      socket.pause();
      if (!head.subarray(0, 12).toString('latin1').startsWith('HTTP/1.1 101')) return fail(new Error(`not linked: ${head.subarray(0, 40).toString('latin1')}`));
      socket.off('error', reject);
      const rest = head.subarray(end + 4);
      if (rest.length > 0) socket.unshift(rest);
      resolve(socket);
    };
    const fail = (err: Error): void => {
      socket.destroy();
      reject(err);
    };
    socket.on('data', onData);
  });
}
