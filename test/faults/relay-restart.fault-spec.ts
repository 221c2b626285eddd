/**
 * The relay process killed (SIGKILL) and started again on the same port and
 * data directory: an SDK listener in another process comes back by itself,
 * with capped backoff, and serves links again.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dial } from '@remoted/sdk';
import { randomToken } from '@remoted/sdk/protocol';
import { ChildSet, type FaultChild, freePort, SDK_LISTENER, startRelayProcess, within } from './helpers/children';

const RECONNECT_INITIAL_MS = 50;
const RECONNECT_MAX_MS = 400;

function echo(url: string, text: string): Promise<string> {
  return dial(url, { timeoutMs: 5000 }).then(
    (socket) =>
      new Promise<string>((resolve, reject) => {
        const chunks: Buffer[] = [];
        socket.on('data', (c: Buffer) => chunks.push(c));
        socket.once('end', () => {
          socket.destroy();
          resolve(Buffer.concat(chunks).toString());
        });
        socket.once('error', reject);
        socket.end(text);
      }),
  );
}

describe('relay killed and restarted', () => {
  const children = new ChildSet();
  let dataDir: string | undefined;
  const sockets = new Set<Socket>();

  afterEach(async () => {
    for (const socket of sockets) socket.destroy();
    sockets.clear();
    await children.killAll();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    dataDir = undefined;
  });

  it('SDK listeners reconnect with backoff and serve again, with no operator action', async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'remoted-faults-restart-'));
    const port = await freePort();
    const keys = { server: randomToken(), client: randomToken() };
    let relay: FaultChild = await startRelayProcess(children, { port, dataDir, keys });
    const paths = ['/a', '/b', '/c'];
    const listeners = paths.map((path) =>
      children.spawnNode(SDK_LISTENER, [], {
        LISTEN_URL: `rws://${keys.server}@127.0.0.1:${port}${path}`,
        MODE: 'echo',
        RECONNECT_INITIAL_MS: String(RECONNECT_INITIAL_MS),
        RECONNECT_MAX_MS: String(RECONNECT_MAX_MS),
      }),
    );
    await Promise.all(listeners.map((l) => l.nextEvent('listening')));
    const dialUrl = (path: string): string => `rwr://${keys.client}@127.0.0.1:${port}${path}`;
    for (const path of paths) expect(await within(echo(dialUrl(path), `before ${path}`), 5000, `echo on ${path}`)).toBe(`before ${path}`);

    // A link that is up when the relay dies is closed, not left hanging.
    const live = await dial(dialUrl('/a'), { timeoutMs: 5000 });
    sockets.add(live);
    live.on('error', () => undefined);
    // The relay's FIN reaches the dialer as 'end' (sockets are half-open capable), a reset as 'close'.
    const liveEnded = new Promise<void>((resolve) => {
      live.once('end', () => resolve());
      live.once('close', () => resolve());
    });
    live.resume();

    const marks = listeners.map((l) => l.events.length);
    await relay.kill('SIGKILL');
    await Promise.all(listeners.map((l, i) => l.nextEvent('route:lost', 5000, marks[i])));
    await within(liveEnded, 2000, 'the live link ending with the relay');
    await expect(dial(dialUrl('/a'), { timeoutMs: 2000 })).rejects.toMatchObject({ code: 'ECONNREFUSED' });

    // Down for a while: the listeners keep retrying, each delay capped.
    await new Promise((r) => setTimeout(r, 1500));
    relay = await startRelayProcess(children, { port, dataDir, keys });
    // From the moment the port answers (the process start is not the listeners' time).
    const restartAt = Date.now();
    const reopened = await Promise.all(
      listeners.map(async (l, i) => {
        const event = await l.nextEvent('route:open', 10_000, marks[i]);
        return { event, at: Date.now() };
      }),
    );
    for (const { event } of reopened) expect(event.reconnected).toBe(true);
    const slowest = Math.max(...reopened.map((r) => r.at)) - restartAt;

    for (const [i, l] of listeners.entries()) {
      const retries = l.events.slice(marks[i]).filter((e) => e.event === 'route:retry');
      expect(retries.length).toBeGreaterThan(1);
      for (const retry of retries) {
        expect(typeof retry.delayMs).toBe('number');
        expect(retry.delayMs as number).toBeLessThanOrEqual(RECONNECT_MAX_MS);
      }
      // Attempts count up while the relay is down (backoff, not a tight loop).
      expect(retries.map((e) => e.attempt)).toEqual(retries.map((_, n) => n + 1));
      expect(retries.length).toBeLessThan(40);
      expect(l.events.some((e) => e.event === 'error')).toBe(false);
    }
    for (const path of paths) expect(await within(echo(dialUrl(path), `after ${path}`), 5000, `echo on ${path}`)).toBe(`after ${path}`);
    const retryCounts = listeners.map((l, i) => l.events.slice(marks[i]).filter((e) => e.event === 'route:retry').length);
    // A figure, not a pass mark (speed is the bench's): the delays above are what is bounded.
    process.stdout.write(`[faults] relay restart: ${paths.length} listeners back ${slowest} ms after the relay's port answered; retries while down: ${retryCounts.join(', ')}\n`);
  });
});
