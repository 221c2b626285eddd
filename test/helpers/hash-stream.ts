/** SHA-256 of bytes sent and of bytes received, so that large transfers are checked without holding them. */
import { createHash } from 'node:crypto';
import type { Socket } from 'node:net';

export function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Reads `n` bytes from the socket, hashing them as they come; fails with how many came after timeoutMs. */
export function hashOf(socket: Socket, n: number, timeoutMs = 60_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    let got = 0;
    const timer = setTimeout(() => reject(new Error(`got ${got} of ${n} bytes`)), timeoutMs);
    const onData = (chunk: Buffer): void => {
      const take = Math.min(chunk.length, n - got);
      hash.update(chunk.subarray(0, take));
      got += take;
      if (got === n) {
        clearTimeout(timer);
        socket.off('data', onData);
        resolve(hash.digest('hex'));
      }
    };
    socket.on('data', onData);
    socket.resume();
  });
}
