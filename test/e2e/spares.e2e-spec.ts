/**
 * Spare dial-backs (docs/protocol.md, spares) as raw requests: held, taken
 * by a dial with no notify message, bounded, refused, expired, ended.
 */
import { randomBytes } from 'node:crypto';
import { connectTo, buildRequest, rawRequest, readBytes, readResponse, type RawResponse, webRouteHeaders } from '../helpers/raw-http';
import { linkedSocket, startDial, TestListener } from '../helpers/relay-peers';
import { type StartedRelay, startRelay } from '../helpers/start-relay';
import { waitFor } from '../helpers/wait-for';
import { randomToken, webRouteAccept } from '@remoted/sdk/protocol';
import type { Config } from '../../src/config/config';
import type { DeepPartial } from '../../src/config/load-config';
import { RelayAdmin } from '../../src/relay/relay-admin';

const SPARE_FEATURES: { headers: Record<string, string> } = { headers: { 'X-Remoted-Features': 'spare, drain' } };

describe('spares', () => {
  let relay: StartedRelay;
  const open: TestListener[] = [];

  async function start(overrides: DeepPartial<Config> = {}): Promise<void> {
    relay = await startRelay({ sweepIntervalMs: 50, ...overrides });
  }
  async function listen(path: string, options = SPARE_FEATURES): Promise<{ listener: TestListener; id: string }> {
    const listener = await TestListener.openUrl(`ws://127.0.0.1:${relay.port}${path}`, relay.keys.server, options);
    open.push(listener);
    return { listener, id: String(listener.upgradeHeaders['x-remoted-listener-id']) };
  }
  /** Sends a spare request; its response comes only when it is taken or ended. */
  async function spare(path: string, listenerId: string, key = relay.keys.server, id = randomToken()) {
    const socket = await connectTo(relay.port);
    socket.write(buildRequest(path, 'GET', webRouteHeaders(key, id, { 'X-Remoted-Spare': listenerId, 'X-Remoted-Features': 'early-data' })));
    return { id, socket, response: readResponse(socket, 10_000) };
  }
  const spareCount = (): number => relay.app.get(RelayAdmin).counts().spares;
  afterEach(async () => {
    await Promise.all(open.splice(0).map((l) => l.close()));
    await relay.close();
  });

  it('grants spares with their bound in the 101, and links a dial to a spare at once with no notify message', async () => {
    await start();
    const { listener, id: listenerId } = await listen('/warm');
    expect(listener.upgradeHeaders['x-remoted-features']).toBe('drain, spare');
    expect(listener.upgradeHeaders['x-remoted-spares']).toBe('16');
    const held = await spare('/warm', listenerId);
    await waitFor(() => spareCount() === 1, 'spare held');

    const dial = startDial(relay.port, '/warm', relay.keys.client, { extra: 'early', headers: { 'WebRoute-Timeout': '90' } });
    const dialer = await dial.response;
    const taken = await held.response;
    expect(dialer.status).toBe(101);
    expect(dialer.headers['sec-webroute-accept']).toBe(webRouteAccept(dial.id));
    expect(taken.status).toBe(101);
    expect(taken.headers['sec-webroute-accept']).toBe(webRouteAccept(held.id));
    expect(taken.headers['x-remoted-dialer-id']).toBe(dial.id);
    expect(taken.headers['x-remoted-dialer-address']).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(taken.headers['webroute-timeout']).toBe('90');
    expect(listener.rawNotices).toEqual([]);
    expect(spareCount()).toBe(0);

    const a = linkedSocket(dialer);
    const b = linkedSocket(taken);
    expect((await readBytes(b, 5)).toString()).toBe('early');
    const block = randomBytes(64 * 1024);
    b.write(block);
    expect((await readBytes(a, block.length)).equals(block)).toBe(true);

    // With no spare left, the next dial takes the notify path.
    const next = startDial(relay.port, '/warm', relay.keys.client);
    expect((await listener.nextNotice()).id).toBe(next.id);
    next.response.catch(() => undefined);
  });

  it('refuses a spare for another server key, another path, an unknown id, a plain listener, or past the bounds', async () => {
    await start({ routes: { sparesPerListener: 2, sparesPerRoute: 3 } });
    const { id } = await listen('/mine');
    const { id: otherPathId } = await listen('/other');
    const plain = await listen('/plain', { headers: {} });
    const plainId = String(relay.app.get(RelayAdmin).routes({ path: '/plain' })[0].listenerId);
    expect(plain.id).toBe('undefined');
    const otherKey = await relay.store.create({ role: 'server' });

    const refusals: Array<Promise<RawResponse>> = [
      (await spare('/mine', id, otherKey.secret)).response,
      (await spare('/mine', otherPathId)).response,
      (await spare('/mine', 'lsn_nope')).response,
      (await spare('/plain', plainId)).response,
    ];
    for (const response of await Promise.all(refusals)) {
      expect(response.status).toBe(400);
      expect(JSON.parse(response.body).errorcode).toBe('invalid_request');
    }
    // A client key with the marker is just a dial, answered by the route's listener.
    await spare('/mine', id);
    await spare('/mine', id);
    const third = await (await spare('/mine', id)).response;
    expect(third.status).toBe(503);
    expect(JSON.parse(third.body).error).toContain('holds its 2 spares');
    const { id: secondListener } = await listen('/mine2');
    await spare('/mine2', secondListener);
    await waitFor(() => spareCount() === 3, 'three spares held');
    expect(relay.app.get(RelayAdmin).routes({ path: '/mine' })[0].spares).toBe(2);
  });

  it('answers a spare 504 past its age, and 502 when its listener goes away or drains', async () => {
    await start({ routes: { spareMaxAgeSeconds: 1 } });
    const { id } = await listen('/age');
    const started = Date.now();
    const old = await (await spare('/age', id)).response;
    expect(old.status).toBe(504);
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);

    const draining = await listen('/drains');
    const before = await spare('/drains', draining.id);
    await waitFor(() => spareCount() === 1, 'spare held');
    draining.listener.ws.send(JSON.stringify({ op: 'drain' }));
    expect((await before.response).status).toBe(502);
    const after = await (await spare('/drains', draining.id)).response;
    expect(after.status).toBe(400);

    const leaving = await listen('/leaves');
    const held = await spare('/leaves', leaving.id);
    await waitFor(() => spareCount() === 1, 'spare held');
    leaving.listener.ws.terminate();
    const gone = await held.response;
    expect(gone.status).toBe(502);
    expect(JSON.parse(gone.body).errorcode).toBe('missing_destination');
  });

  it('drops a spare that sends a byte or closes before it is answered', async () => {
    await start();
    const { id } = await listen('/quiet');
    const talker = await spare('/quiet', id);
    const quitter = await spare('/quiet', id);
    await waitFor(() => spareCount() === 2, 'spares held');
    talker.socket.write('x');
    // The relay ends it without an answer.
    await expect(talker.response).rejects.toThrow('connection closed before a response head (0 bytes)');
    expect(spareCount()).toBe(1);
    quitter.socket.end();
    await expect(quitter.response).rejects.toThrow('connection closed before a response head (0 bytes)');
    await waitFor(() => spareCount() === 0, 'spares dropped');
    talker.socket.destroy();
    quitter.socket.destroy();
  });

  it('sends bytes written with a spare request to nobody: it is refused', async () => {
    await start();
    const { id } = await listen('/early');
    const response = await rawRequest(relay.port, '/early', {
      headers: webRouteHeaders(relay.keys.server, randomToken(), { 'X-Remoted-Spare': id }),
      extra: 'too soon',
    });
    expect(response.status).toBe(400);
  });
});
