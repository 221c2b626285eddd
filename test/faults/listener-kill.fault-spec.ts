/**
 * A listener process that dies (SIGKILL) or freezes (SIGSTOP) while it holds a
 * route: dialers hear of it promptly, the route is freed, nothing is left behind.
 */
import type { Socket } from 'node:net';
import { dial } from '@remoted/sdk';
import { TestListener } from '../helpers/relay-peers';
import { startRelay, type StartedRelay } from '../helpers/start-relay';
import { waitFor } from '../helpers/wait-for';
import { ChildSet, MIB, SDK_LISTENER, within } from './helpers/children';
import { relayCounts, sameCounts, ZERO } from './helpers/relay-state';

const PING_INTERVAL_MS = 200;

function endedOrClosed(socket: Socket): Promise<number> {
  return new Promise((resolve) => {
    const done = (): void => resolve(Date.now());
    socket.once('end', done);
    socket.once('close', done);
  });
}

describe('listener process killed', () => {
  const children = new ChildSet();
  let relay: StartedRelay | undefined;
  const sockets = new Set<Socket>();

  afterEach(async () => {
    for (const socket of sockets) socket.destroy();
    sockets.clear();
    await children.killAll();
    await relay?.close();
    relay = undefined;
  });

  it('SIGKILL mid-transfer: the dialer sees the end at once, the route is freed, registries return to zero', async () => {
    relay = await startRelay({ listenerPingIntervalMs: PING_INTERVAL_MS, sweepIntervalMs: 50 });
    const r = relay;
    const listener = children.spawnNode(SDK_LISTENER, [], { LISTEN_URL: r.url('rws', '/stream'), MODE: 'stream' });
    await listener.nextEvent('listening');

    const socket = await dial(r.url('rwr', '/stream'), { timeoutMs: 5000 });
    sockets.add(socket);
    socket.on('error', () => undefined);
    let received = 0;
    socket.on('data', (chunk: Buffer) => {
      received += chunk.length;
    });
    await waitFor(() => received >= 8 * MIB, 'the first 8 MiB from the listener', 10_000);
    expect(relayCounts(r)).toEqual({ listeners: 1, waitingDialers: 0, links: 1, sockets: 3 });

    const seen = endedOrClosed(socket);
    const killedAt = Date.now();
    await listener.kill('SIGKILL');
    const seenAt = await within(seen, 2000, 'the dialer seeing the listener go');
    const atKill = received;
    // The application closes its side, as it would on 'end'.
    socket.end();
    await waitFor(() => sameCounts(relayCounts(r), ZERO), `registries back to zero (now ${JSON.stringify(relayCounts(r))})`, 2 * PING_INTERVAL_MS + 1000);
    const freedAt = Date.now();
    process.stdout.write(`[faults] listener SIGKILL: dialer saw end/close after ${seenAt - killedAt} ms, registries zero after ${freedAt - killedAt} ms, ${(atKill / MIB).toFixed(1)} MiB received\n`);
    expect(seenAt - killedAt).toBeLessThan(1000);

    // The route is free: a dial is refused at once, and a new listener may take the path.
    await expect(dial(r.url('rwr', '/stream'), { timeoutMs: 2000 })).rejects.toMatchObject({ code: 'missing_destination' });
    const next = await TestListener.open(r.port, '/stream', r.keys.server);
    expect(relayCounts(r).listeners).toBe(1);
    await next.close();
    await waitFor(() => sameCounts(relayCounts(r), ZERO), 'registries zero after the new listener left', 2000);
  });

  it('SIGSTOP (no FIN, no pong): the route is freed within two ping intervals and its waiting dialer is answered 502', async () => {
    relay = await startRelay({ listenerPingIntervalMs: PING_INTERVAL_MS, sweepIntervalMs: 50 });
    const r = relay;
    const listener = children.spawnNode(SDK_LISTENER, [], { LISTEN_URL: r.url('rws', '/frozen'), MODE: 'echo' });
    await listener.nextEvent('listening');
    expect(relayCounts(r)).toEqual({ listeners: 1, waitingDialers: 0, links: 0, sockets: 1 });

    listener.process.kill('SIGSTOP');
    const stoppedAt = Date.now();
    const waiting = dial(r.url('rwr', '/frozen'), { timeoutMs: 10_000 });
    await waitFor(() => relayCounts(r).waitingDialers === 1 || relayCounts(r).listeners === 0, 'the dialer waiting', 2000);
    await expect(waiting).rejects.toMatchObject({ code: 'missing_destination' });
    const answeredAt = Date.now();
    await waitFor(() => sameCounts(relayCounts(r), ZERO), `registries back to zero (now ${JSON.stringify(relayCounts(r))})`, 1000);
    process.stdout.write(`[faults] listener SIGSTOP: route freed and waiting dialer answered 502 after ${answeredAt - stoppedAt} ms (ping interval ${PING_INTERVAL_MS} ms)\n`);
    // Dropped at the first ping round that finds the previous ping unanswered: at most two intervals, plus scheduling slack.
    expect(answeredAt - stoppedAt).toBeLessThan(2 * PING_INTERVAL_MS + 300);
    await expect(dial(r.url('rwr', '/frozen'), { timeoutMs: 2000 })).rejects.toMatchObject({ code: 'missing_destination' });
  });
});
