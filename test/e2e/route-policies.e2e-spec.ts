/**
 * Several listeners on a path (docs/protocol.md, route policies) and drain,
 * with listeners written from the protocol text (raw ws and sockets).
 */
import { randomBytes } from 'node:crypto';
import { readBytes } from '../helpers/raw-http';
import { dialBack, linkedSocket, makeLink, startDial, TestListener } from '../helpers/relay-peers';
import { type StartedRelay, startRelay } from '../helpers/start-relay';
import { waitFor } from '../helpers/wait-for';
import { RelayAdmin } from '../../src/relay/relay-admin';
import type { DeepPartial } from '../../src/config/load-config';
import type { Config } from '../../src/config/config';

const DRAIN_FEATURE = { headers: { 'X-Remoted-Features': 'drain' } };

async function refusal(promise: Promise<unknown>): Promise<{ status: number; body: string }> {
  try {
    await promise;
  } catch (err) {
    return err as { status: number; body: string };
  }
  throw new Error('the listener was accepted');
}

/** Both ends of a fresh link echo one random block: the link works. */
async function echoes(pair: { dialer: Parameters<typeof linkedSocket>[0]; listenerSide: Parameters<typeof linkedSocket>[0] }): Promise<void> {
  const a = linkedSocket(pair.dialer);
  const b = linkedSocket(pair.listenerSide);
  const block = randomBytes(4096);
  a.write(block);
  expect((await readBytes(b, block.length)).equals(block)).toBe(true);
  b.write(block);
  expect((await readBytes(a, block.length)).equals(block)).toBe(true);
}

describe('route policies', () => {
  let relay: StartedRelay;
  let admin: RelayAdmin;
  const open: TestListener[] = [];

  async function start(overrides: DeepPartial<Config>): Promise<void> {
    relay = await startRelay({ sweepIntervalMs: 50, ...overrides });
    admin = relay.app.get(RelayAdmin);
  }
  async function listen(path: string, key = relay.keys.server, options = {}): Promise<TestListener> {
    const listener = await TestListener.openUrl(`ws://127.0.0.1:${relay.port}${path}`, key, options);
    open.push(listener);
    return listener;
  }
  afterEach(async () => {
    await Promise.all(open.splice(0).map((l) => l.close()));
    await relay.close();
  });

  it('exclusive (the default): a second listener is refused 409, with the same key or another', async () => {
    await start({});
    await listen('/x');
    const other = await relay.store.create({ role: 'server' });
    for (const key of [relay.keys.server, other.secret]) {
      const refused = await refusal(listen('/x', key));
      expect(refused.status).toBe(409);
      expect(JSON.parse(refused.body)).toMatchObject({ success: false, errorcode: 'path_in_use' });
    }
    expect(admin.routes({ path: '/x' })).toHaveLength(1);
  });

  it('takeover: the new listener replaces the old (close 4000), whose link stays up; its untold dialers move over', async () => {
    await start({ routes: { policy: 'takeover' } });
    const first = await listen('/t');
    const pair = await makeLink(relay.port, '/t', first, relay.keys);
    const waiting = startDial(relay.port, '/t', relay.keys.client);
    await first.nextNotice();

    const second = await listen('/t');
    expect(await first.closed()).toBe(4000);
    expect(first.closeReason).toBe('replaced by a new listener');
    expect(admin.routes({ path: '/t' }).map((l) => l.listenerId)).toHaveLength(1);
    // The dialer first told to the old listener is told to the new one, with the same id.
    const moved = await second.nextNotice();
    expect(moved.id).toBe(waiting.id);
    expect((await dialBack(relay.port, '/t', relay.keys.server, moved.id)).status).toBe(101);
    expect((await waiting.response).status).toBe(101);
    await echoes(pair);
    await echoes(await makeLink(relay.port, '/t', second, relay.keys));
  });

  it('takeover never lets another key take the path', async () => {
    await start({ routes: { policy: 'takeover' } });
    const first = await listen('/t2');
    const other = await relay.store.create({ role: 'server' });
    expect((await refusal(listen('/t2', other.secret))).status).toBe(409);
    expect(first.ws.readyState).toBe(first.ws.OPEN);
  });

  it('pool: members up to the pool size share the path; each dial goes to the one with the fewest links', async () => {
    await start({ routes: { policy: 'pool', poolSize: 2 } });
    const a = await listen('/p');
    const b = await listen('/p');
    const full = await refusal(listen('/p'));
    expect(full.status).toBe(409);
    expect(JSON.parse(full.body).error).toContain('pool on this path is full (2 of 2');

    // A tie goes to the first joined (neither was offered a dial yet); then the one with fewer links.
    const first = await makeLink(relay.port, '/p', a, relay.keys);
    const second = await makeLink(relay.port, '/p', b, relay.keys);
    await echoes(first);
    await echoes(second);
    const byId = new Map(admin.routes({ path: '/p' }).map((l) => [l.listenerId, l.activeLinks]));
    expect([...byId.values()]).toEqual([1, 1]);
    expect(a.notices).toHaveLength(0);
    expect(b.notices).toHaveLength(0);
  });

  it('pool: short links one after another spread over the members (ties go to the least recently offered)', async () => {
    await start({ routes: { policy: 'pool', poolSize: 3 } });
    const members = [await listen('/rr'), await listen('/rr'), await listen('/rr')];
    const order: number[] = [];
    for (let i = 0; i < 6; i++) {
      const before = members.map((m) => m.rawNotices.length);
      const dial = startDial(relay.port, '/rr', relay.keys.client);
      await waitFor(() => members.some((m, index) => m.rawNotices.length > before[index]), 'a member told');
      const index = members.findIndex((m, at) => m.rawNotices.length > before[at]);
      order.push(index);
      const told = JSON.parse(members[index].rawNotices[before[index]]) as { id: string };
      const listenerSide = await dialBack(relay.port, '/rr', relay.keys.server, told.id);
      const dialer = await dial.response;
      dialer.socket.destroy();
      listenerSide.socket.destroy();
      await waitFor(() => admin.counts().links === 0, 'link closed');
    }
    expect(order).toEqual([0, 1, 2, 0, 1, 2]);
  });

  it('pool: a member that does not dial back in time is counted slow and the dial goes to another', async () => {
    await start({ routes: { policy: 'pool', poolSize: 3, poolDialbackDeadlineMs: 200 } });
    const slow = await listen('/s');
    const quick = await listen('/s');
    const dial = startDial(relay.port, '/s', relay.keys.client);
    const told = await slow.nextNotice();
    const started = Date.now();
    const retold = await quick.nextNotice(3000);
    expect(Date.now() - started).toBeGreaterThanOrEqual(150);
    expect(retold).toEqual(told);
    expect((await dialBack(relay.port, '/s', relay.keys.server, retold.id)).status).toBe(101);
    expect((await dial.response).status).toBe(101);
    // The late one gets nothing: the first dial-back won.
    expect((await dialBack(relay.port, '/s', relay.keys.server, told.id)).status).toBe(400);
    const [slowState] = admin.routes({ path: '/s' });
    expect(slowState.slowDialbacks).toBe(1);
  });

  it('pool: the dialers of a member that dies are told to another', async () => {
    await start({ routes: { policy: 'pool', poolSize: 2, poolDialbackDeadlineMs: 60_000 } });
    const dying = await listen('/d');
    const survivor = await listen('/d');
    const dial = startDial(relay.port, '/d', relay.keys.client);
    const told = await dying.nextNotice();
    dying.ws.terminate();
    const retold = await survivor.nextNotice();
    expect(retold.id).toBe(told.id);
    expect((await dialBack(relay.port, '/d', relay.keys.server, retold.id)).status).toBe(101);
    expect((await dial.response).status).toBe(101);
  });
});

describe('drain', () => {
  let relay: StartedRelay;
  let admin: RelayAdmin;
  const open: TestListener[] = [];

  beforeEach(async () => {
    relay = await startRelay({ routes: { policy: 'pool', poolSize: 4 } });
    admin = relay.app.get(RelayAdmin);
  });
  afterEach(async () => {
    await Promise.all(open.splice(0).map((l) => l.close()));
    await relay.close();
  });
  async function listen(path: string, options = {}): Promise<TestListener> {
    const listener = await TestListener.openUrl(`ws://127.0.0.1:${relay.port}${path}`, relay.keys.server, options);
    open.push(listener);
    return listener;
  }

  it('grants drain only to a listener that asks, with its id in the 101', async () => {
    const plain = await listen('/plain');
    expect(Object.keys(plain.upgradeHeaders).filter((name) => name.startsWith('x-remoted'))).toEqual([]);
    const asking = await listen('/asks', DRAIN_FEATURE);
    expect(asking.upgradeHeaders['x-remoted-features']).toBe('drain');
    expect(asking.upgradeHeaders['x-remoted-listener-id']).toBe(admin.routes({ path: '/asks' })[0].listenerId);
    expect(asking.upgradeHeaders['x-remoted-spares']).toBeUndefined();
  });

  it('a draining listener keeps its link, gets no new dials, and the others take them', async () => {
    const draining = await listen('/dr', DRAIN_FEATURE);
    const pair = await makeLink(relay.port, '/dr', draining, relay.keys);
    const other = await listen('/dr');
    // One notify message so far, for the link above.
    expect(draining.rawNotices).toHaveLength(1);
    draining.ws.send(JSON.stringify({ op: 'drain' }));
    await waitFor(() => draining.rawNotices.length > 1, 'draining answer');
    expect(JSON.parse(draining.rawNotices[1])).toEqual({ op: 'draining', by: 'listener' });
    expect(admin.routes({ path: '/dr' })[0].state).toBe('draining');

    await echoes(await makeLink(relay.port, '/dr', other, relay.keys));
    await echoes(pair);
    expect(draining.rawNotices).toHaveLength(2);
  });

  it('a path whose listeners all drain answers 502, and takes a new listener even when exclusive', async () => {
    await relay.close();
    relay = await startRelay({});
    admin = relay.app.get(RelayAdmin);
    const draining = await listen('/only', DRAIN_FEATURE);
    draining.ws.send(JSON.stringify({ op: 'drain' }));
    await waitFor(() => admin.routes({ path: '/only' })[0]?.state === 'draining', 'draining');
    const refused = await startDial(relay.port, '/only', relay.keys.client).response;
    expect(refused.status).toBe(502);
    expect(JSON.parse(refused.body).error).toBe('Every listener on this path is draining.');
    const next = await listen('/only');
    await echoes(await makeLink(relay.port, '/only', next, relay.keys));
  });

  it('ignores a drain request from a listener that did not negotiate it (base protocol)', async () => {
    const plain = await listen('/base');
    plain.ws.send(JSON.stringify({ op: 'drain' }));
    await echoes(await makeLink(relay.port, '/base', plain, relay.keys));
    expect(admin.routes({ path: '/base' })[0].state).toBe('active');
    expect(plain.rawNotices.every((text) => !text.includes('"op"'))).toBe(true);
  });
});
