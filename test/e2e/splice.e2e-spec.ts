/**
 * Busy links through the whole relay move to its splice worker: the bytes,
 * the FINs, the counts the control plane reads, forced close and shutdown
 * keep working as for a link that stays.
 */
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import type { Socket } from 'node:net';
import { RelayAdmin } from '../../src/relay/relay-admin';
import { RelayEvents } from '../../src/relay/context/relay-events';
import { linkedSocket, makeLink, TestListener } from '../helpers/relay-peers';
import { type StartedRelay, startRelay } from '../helpers/start-relay';
import { ended, waitFor } from '../helpers/wait-for';

const MiB = 1024 * 1024;

describe('links moved to the splice worker', () => {
  let relay: StartedRelay;
  let listener: TestListener;
  let admin: RelayAdmin;

  beforeEach(async () => {
    relay = await startRelay({ shutdownGraceMs: 2000 });
    listener = await TestListener.open(relay.port, '/bulk', relay.keys.server);
    admin = relay.app.get(RelayAdmin);
  });
  afterEach(async () => {
    await listener.close();
    await relay.close();
  });

  async function pair(): Promise<{ a: Socket; b: Socket }> {
    const { dialer, listenerSide } = await makeLink(relay.port, '/bulk', listener, relay.keys);
    return { a: linkedSocket(dialer), b: linkedSocket(listenerSide) };
  }

  const onlyLink = () => admin.links()[0];

  /** Writes `total` random bytes, slowly after the first quarter until the link has moved; resolves to their SHA-256. */
  async function send(socket: Socket, total: number): Promise<string> {
    const hash = createHash('sha256');
    for (let sent = 0; sent < total; ) {
      const slow = sent >= total / 4 && !onlyLink()?.moved;
      const chunk = randomBytes(Math.min(slow ? 64 * 1024 : MiB, total - sent));
      hash.update(chunk);
      sent += chunk.length;
      if (!socket.write(chunk)) await once(socket, 'drain');
      if (slow) await new Promise((r) => setTimeout(r, 2));
    }
    return hash.digest('hex');
  }

  async function receive(socket: Socket): Promise<string> {
    const hash = createHash('sha256');
    socket.on('data', (chunk: Buffer) => hash.update(chunk));
    await ended(socket, 60_000);
    return hash.digest('hex');
  }

  it('moves a busy link: 64 MiB each way intact, FINs passed on, counts in the close event', async () => {
    const { a, b } = await pair();
    const events = relay.app.get(RelayEvents);
    const closes: { reason: string; bytesToListener: number; bytesToDialer: number }[] = [];
    events.on('link:close', (e) => closes.push(e));
    const atB = receive(b);
    const atA = receive(a);
    const [fromA, fromB] = await Promise.all([send(a, 64 * MiB), send(b, 64 * MiB)]);
    expect(onlyLink().moved).toBe(true);
    a.end();
    expect(await atB).toBe(fromA);
    b.end();
    expect(await atA).toBe(fromB);
    await waitFor(() => closes.length === 1, 'the link closes');
    expect(closes[0]).toMatchObject({ reason: 'closed', bytesToListener: 64 * MiB, bytesToDialer: 64 * MiB });
    expect(admin.counts().links).toBe(0);
  }, 60_000);

  it('ends a moved link at shutdown after the grace, and the relay closes', async () => {
    const { a, b } = await pair();
    b.resume();
    const sending = send(a, 16 * MiB);
    await sending;
    expect(onlyLink().moved).toBe(true);
    const started = Date.now();
    await relay.close();
    expect(Date.now() - started).toBeLessThan(5000);
    await ended(b);
  }, 30_000);
});
