/** The listener's WebSocket comes back by itself after a relay restart, with backoff events, and gives up when told to. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Socket } from 'node:net';
import { backoffDelayMs, dial, DEFAULT_RECONNECT, listen, type RemotedServer, type RouteOpenEvent, type RouteRetryEvent } from '@remoted/sdk';
import { startRelay, type StartedRelay } from '../helpers/start-relay';
import { echoConnections, nextEvent, readAll } from './sdk-helpers';

async function echoOnce(url: string, text: string): Promise<string> {
  const socket = await dial(url, { timeoutMs: 5000 });
  socket.end(text);
  return (await readAll(socket)).toString();
}

describe('listener reconnect', () => {
  let dataDir: string;
  let relay: StartedRelay | undefined;
  let server: RemotedServer | undefined;
  const links = new Set<Socket>();

  beforeEach(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'remoted-sdk-restart-'));
  });
  afterEach(async () => {
    for (const link of links) link.destroy();
    if (server) await new Promise<void>((resolve) => server?.close(() => resolve()));
    server = undefined;
    await relay?.close();
    relay = undefined;
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('survives a relay restart on the same port and data and serves again', async () => {
    relay = await startRelay({}, { dataDir });
    const { port } = relay;
    const listenUrl = relay.url('rws', '/svc');
    const dialUrl = relay.url('rwr', '/svc');
    server = listen(listenUrl, { reconnect: { initialDelayMs: 20, maxDelayMs: 200 } });
    echoConnections(server, links);
    await nextEvent(server, 'listening');
    expect(await echoOnce(dialUrl, 'before')).toBe('before');

    const retries: RouteRetryEvent[] = [];
    server.on('route:retry', (e: RouteRetryEvent) => retries.push(e));
    const lost = nextEvent(server, 'route:lost');
    await relay.close();
    await lost;
    expect(server.listening).toBe(false);

    const reopened = nextEvent<RouteOpenEvent>(server, 'route:open', 10_000);
    relay = await startRelay({ port }, { dataDir });
    expect((await reopened).reconnected).toBe(true);
    expect(server.listening).toBe(true);
    expect(retries.length).toBeGreaterThan(0);
    for (const retry of retries) expect(retry.delayMs).toBeLessThanOrEqual(200);
    // The same keys (same data) on the new relay.
    expect(await echoOnce(dialUrl, 'after')).toBe('after');
  });

  it('gives up after maxAttempts with an error event, then close', async () => {
    relay = await startRelay({}, { dataDir });
    server = listen(relay.url('rws', '/svc'), { reconnect: { initialDelayMs: 10, maxDelayMs: 20, maxAttempts: 2 } });
    server.on('error', () => undefined); // asserted below through nextEvent
    await nextEvent(server, 'listening');
    let attempts = 0;
    server.on('route:retry', () => attempts++);
    const failed = nextEvent<Error & { code?: string }>(server, 'error');
    const closed = nextEvent(server, 'close');
    await relay.close();
    relay = undefined;
    const err = await failed;
    await closed;
    expect(attempts).toBe(2);
    // The last try met either a relay still shutting down (503) or none at all.
    expect(['over_capacity', 'ECONNREFUSED']).toContain(err.code);
  });

  it('full jitter: each delay is in [0, min(max, initial * 2^(n-1)))', () => {
    const options = { ...DEFAULT_RECONNECT, initialDelayMs: 100, maxDelayMs: 1000 };
    expect(backoffDelayMs(1, options, () => 0.999)).toBe(99);
    expect(backoffDelayMs(3, options, () => 0.5)).toBe(200);
    expect(backoffDelayMs(10, options, () => 0.999)).toBe(999);
    expect(backoffDelayMs(100, options, () => 0)).toBe(0);
  });
});
