/** Graceful shutdown: no new connections, listeners told "going away", links drain for the grace period. */
import { connectTo, readBytes } from '../helpers/raw-http';
import { linkedSocket, makeLink, TestListener } from '../helpers/relay-peers';
import { type StartedRelay, startRelay } from '../helpers/start-relay';
import { ended, waitFor } from '../helpers/wait-for';
import { RelayService } from '../../src/relay/relay.service';
import { getText } from './ops-helpers';

function openListener(relay: StartedRelay): Promise<TestListener> {
  return TestListener.open(relay.port, '/svc', relay.keys.server);
}

function closeCode(listener: TestListener): Promise<number> {
  return new Promise((resolve) => listener.ws.once('close', (code: number) => resolve(code)));
}

describe('graceful shutdown', () => {
  it('lets a link mid-transfer finish within the grace period, then exits promptly', async () => {
    const relay = await startRelay({ shutdownGraceMs: 5000 });
    const listener = await openListener(relay);
    const pair = await makeLink(relay.port, '/svc', listener, relay.keys);
    const dialer = linkedSocket(pair.dialer);
    const server = linkedSocket(pair.listenerSide);
    dialer.write('part one;');
    expect((await readBytes(server, 9)).toString()).toBe('part one;');

    const startedAt = Date.now();
    const code = closeCode(listener);
    const closing = relay.close();
    // The listener is told the relay is going away (1001), and the port stops taking connections.
    expect(await code).toBe(1001);
    await waitFor(() => !relay.app.get(RelayService).isAccepting, 'relay stops accepting');
    await expect(connectTo(relay.port)).rejects.toMatchObject({ code: 'ECONNREFUSED' });

    // The link still carries bytes both ways, and ends on its own.
    dialer.end('part two');
    expect((await readBytes(server, 8)).toString()).toBe('part two');
    await ended(server);
    server.end('done');
    expect((await readBytes(dialer, 4)).toString()).toBe('done');
    await ended(dialer);
    await closing;
    expect(Date.now() - startedAt).toBeLessThan(4000);
  });

  it('closes links still open when the grace period ends', async () => {
    const relay = await startRelay({ shutdownGraceMs: 300 });
    const listener = await openListener(relay);
    const pair = await makeLink(relay.port, '/svc', listener, relay.keys);
    const dialer = linkedSocket(pair.dialer);
    const startedAt = Date.now();
    await relay.close();
    await ended(dialer);
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(250);
    pair.listenerSide.socket.destroy();
  });

  it('reports not ready (for /readyz) from the moment shutdown begins', async () => {
    const relay = await startRelay({ shutdownGraceMs: 2000, metrics: { token: 't' } });
    const listener = await openListener(relay);
    const pair = await makeLink(relay.port, '/svc', listener, relay.keys);
    expect((await getText(relay.port, '/readyz')).status).toBe(200);
    const closing = relay.close();
    await waitFor(() => !relay.app.get(RelayService).isAccepting, 'relay stops accepting');
    pair.dialer.socket.destroy();
    pair.listenerSide.socket.destroy();
    await closing;
  });
});
