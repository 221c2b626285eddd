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
