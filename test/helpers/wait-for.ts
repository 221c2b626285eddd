/** Polls a condition until it holds; fails with the message after timeoutMs. */
export async function waitFor(condition: () => boolean, message: string, timeoutMs = 5000, everyMs = 10): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms: ${message}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

/** Resolves when the socket's readable side ends (the peer's FIN). */
export function ended(socket: NodeJS.ReadableStream & { readableEnded: boolean }, timeoutMs = 5000): Promise<void> {
  if (socket.readableEnded) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no end within ${timeoutMs} ms`)), timeoutMs);
    socket.once('end', () => {
      clearTimeout(timer);
      resolve();
    });
    socket.resume();
  });
}

/**
 * Resolves when the peer closed the socket, by a FIN ('end') or a reset
 * ('close' after an error): a peer that closes while bytes it has not read
 * are still arriving sends a reset, not a FIN, so a writer may see either.
 */
export function closedByPeer(socket: NodeJS.ReadableStream & { readableEnded: boolean; destroyed: boolean }, timeoutMs = 5000): Promise<void> {
  if (socket.readableEnded || socket.destroyed) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`not closed within ${timeoutMs} ms`)), timeoutMs);
    const done = (): void => {
      clearTimeout(timer);
      resolve();
    };
    socket.once('end', done);
    socket.once('close', done);
    socket.resume();
  });
}
