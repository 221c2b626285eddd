/**
 * server.drain() and an operator's drain with the SDK against the real relay:
 * an in-flight transfer finishes intact (SHA-256) while new dials go to
 * another listener, and the server closes only once its links are done.
 */
import { randomBytes } from 'node:crypto';
import type { Socket } from 'node:net';
import { dial, listen, RemotedError, type DrainEvent, type RemotedServer, type RouteOpenEvent } from '@remoted/sdk';
import { createAdminClient } from '@remoted/sdk/admin';
import { startRelay, type StartedRelay } from '../helpers/start-relay';
import { waitFor } from '../helpers/wait-for';
import { closeServer, type HashingApp, hashingApp, listenersOn, sha256, sparesHeld } from './listener-helpers';
import { nextEvent, readAll } from './sdk-helpers';

const MiB = 1024 * 1024;

describe('drain', () => {
  let relay: StartedRelay;
  const servers: Array<{ server: RemotedServer; app: HashingApp }> = [];
  const sockets: Socket[] = [];

  afterEach(async () => {
    for (const socket of sockets.splice(0)) socket.destroy();
    for (const { server, app } of servers.splice(0)) await closeServer(server, app);
    await relay.close();
  });

  async function listener(path: string, spares = 0): Promise<{ server: RemotedServer; app: HashingApp; open: RouteOpenEvent }> {
    const server = listen(relay.url('rws', path), { spares });
    const app = hashingApp(server);
    servers.push({ server, app });
    const open = await nextEvent<RouteOpenEvent>(server, 'route:open');
    return { server, app, open };
  }

  /** A dial that sends `data`, ends, and resolves with the hash the listener answered. */
  async function hashThrough(path: string, data: Buffer | string): Promise<string> {
    const socket = await dial(relay.url('rwr', path), { timeoutMs: 5000 });
    sockets.push(socket);
    socket.end(data);
    return (await readAll(socket)).toString();
  }

  it('finishes an in-flight transfer intact while new dials go to another pool member', async () => {
    relay = await startRelay({ routes: { policy: 'pool' } });
    // A joins first and holds spares, so the first dial is A's.
    const a = await listener('/pool', 2);
    const b = await listener('/pool');
    await waitFor(() => sparesHeld(relay, a.open.listenerId) === 2, 'A holds its spares');

    const transfer = await dial(relay.url('rwr', '/pool'), { timeoutMs: 5000 });
    sockets.push(transfer);
    const digest = readAll(transfer, 20_000).then((data) => data.toString());
    const payload = randomBytes(4 * MiB);
    transfer.write(payload.subarray(0, MiB));
    await waitFor(() => a.app.accepted === 1, 'the transfer is A\'s');

    const drainEvent = nextEvent<DrainEvent>(a.server, 'drain');
    let drained = false;
    const draining = a.server.drain().then(() => {
      drained = true;
    });
    expect(await drainEvent).toEqual({ by: 'listener' });
    expect(a.server.listening).toBe(false);
    await waitFor(() => listenersOn(relay, '/pool').find((l) => l.listenerId === a.open.listenerId)?.state === 'draining', 'the relay sees A draining');
    // The relay answers a draining listener's spares (502); A opens no new ones.
    await waitFor(() => sparesHeld(relay, a.open.listenerId) === 0, 'A\'s spares are gone');

    for (let i = 0; i < 5; i++) expect(await hashThrough('/pool', `new dial ${i}`)).toBe(sha256(`new dial ${i}`));
    expect(b.app.accepted).toBe(5);
    expect(a.app.accepted).toBe(1);
    expect(drained).toBe(false);

    transfer.end(payload.subarray(MiB));
    expect(await digest).toBe(sha256(payload));
    await draining;
    expect(listenersOn(relay, '/pool').map((l) => l.listenerId)).toEqual([b.open.listenerId]);
    expect(await hashThrough('/pool', 'after the drain')).toBe(sha256('after the drain'));
  });

  it('lets a new listener take an exclusive path while the old one drains (a deploy)', async () => {
    relay = await startRelay();
    const old = await listener('/deploy', 1);
    await waitFor(() => sparesHeld(relay, old.open.listenerId) === 1, 'the old listener holds a spare');
    const transfer = await dial(relay.url('rwr', '/deploy'), { timeoutMs: 5000 });
    sockets.push(transfer);
    const digest = readAll(transfer).then((data) => data.toString());
    transfer.write('first half, ');
    await waitFor(() => old.app.accepted === 1, 'the transfer is the old listener\'s');

    const draining = old.server.drain();
    await waitFor(() => listenersOn(relay, '/deploy')[0]?.state === 'draining', 'the relay sees the drain');
    const fresh = await listener('/deploy');
    expect(await hashThrough('/deploy', 'to the new one')).toBe(sha256('to the new one'));
    expect(fresh.app.accepted).toBe(1);

    transfer.end('second half');
    expect(await digest).toBe(sha256('first half, second half'));
    await draining;
    expect(old.app.accepted).toBe(1);
  });

  it('resolves at once with no link open, and drain() twice is one drain', async () => {
    relay = await startRelay();
    const { server } = await listener('/idle', 2);
    const first = server.drain();
    expect(server.drain()).toBe(first);
    const closed = nextEvent(server, 'close', 5000);
    await first;
    await closed;
    await waitFor(() => listenersOn(relay, '/idle').length === 0, 'the path is free');
  });

  it('an operator\'s drain (control plane): a \'drain\' event, no new dials, close once the link ends', async () => {
    relay = await startRelay();
    const { server, app, open } = await listener('/ops', 1);
    await waitFor(() => sparesHeld(relay, open.listenerId) === 1, 'a spare held');
    const transfer = await dial(relay.url('rwr', '/ops'), { timeoutMs: 5000 });
    sockets.push(transfer);
    const digest = readAll(transfer).then((data) => data.toString());
    transfer.write('before the drain, ');
    await waitFor(() => app.accepted === 1, 'the link is up');

    const admin = createAdminClient({ address: `127.0.0.1:${relay.grpcPort}`, key: relay.keys.admin });
    try {
      const drainEvent = nextEvent<DrainEvent>(server, 'drain');
      await admin.routes.drainRoute({ name: `routes/${open.listenerId}` });
      expect(await drainEvent).toEqual({ by: 'operator' });
    } finally {
      admin.close();
    }
    let closed = false;
    server.once('close', () => (closed = true));
    await expect(dial(relay.url('rwr', '/ops'), { timeoutMs: 5000 })).rejects.toMatchObject({ code: 'missing_destination' });
    expect(closed).toBe(false);

    transfer.end('after it');
    expect(await digest).toBe(sha256('before the drain, after it'));
    await waitFor(() => closed, 'the server closes once its link ended');
    expect(app.accepted).toBe(1);
  });

  it('a dial refused while the only listener drains is a RemotedError', async () => {
    relay = await startRelay();
    const { server } = await listener('/only');
    const transfer = await dial(relay.url('rwr', '/only'), { timeoutMs: 5000 });
    sockets.push(transfer);
    void server.drain();
    await waitFor(() => listenersOn(relay, '/only')[0]?.state === 'draining', 'draining');
    const refused = await dial(relay.url('rwr', '/only'), { timeoutMs: 5000 }).catch((err: unknown) => err);
    expect(refused).toBeInstanceOf(RemotedError);
    expect((refused as RemotedError).code).toBe('missing_destination');
  });
});
