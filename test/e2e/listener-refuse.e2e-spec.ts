/**
 * Extension `refuse` (docs/protocol.md, listener features), spoken by a raw
 * WebSocket listener: a dial it refuses is answered at once with 502
 * destination_unreachable carrying its reason, and counted as a dialer end;
 * a refusal that is not the listener's to make changes nothing.
 */
import { dialBack, startDial, TestListener } from '../helpers/relay-peers';
import { type StartedRelay, startRelay } from '../helpers/start-relay';
import { waitFor } from '../helpers/wait-for';
import { getText, sample } from '../ops/ops-helpers';

function openRefusing(relay: StartedRelay, path: string, features = 'refuse'): Promise<TestListener> {
  return TestListener.openUrl(`ws://127.0.0.1:${relay.port}${path}`, relay.keys.server, { headers: { 'X-Remoted-Features': features } });
}

function refuse(listener: TestListener, id: string, reason: string): void {
  listener.ws.send(JSON.stringify({ op: 'refuse', id, reason }));
}

describe('a listener refuses a dial (feature refuse)', () => {
  let relay: StartedRelay;
  const listeners: TestListener[] = [];

  afterEach(async () => {
    for (const listener of listeners.splice(0)) await listener.close();
    await relay.close();
  });

  async function open(path: string, features?: string): Promise<TestListener> {
    const listener = await openRefusing(relay, path, features);
    listeners.push(listener);
    return listener;
  }

  it('is granted on request; the dialer gets 502 destination_unreachable with the reason, counted as a dialer end', async () => {
    relay = await startRelay({ metrics: { port: 0 } });
    const listener = await open('/svc');
    expect(listener.upgradeHeaders['x-remoted-features']).toBe('refuse');

    const dialing = startDial(relay.port, '/svc', relay.keys.client);
    const notice = await listener.nextNotice();
    refuse(listener, notice.id, 'the local service is unreachable (ECONNREFUSED)\r\nX-Injected: 1');
    const answer = await dialing.response;
    answer.socket.destroy();
    expect(answer.status).toBe(502);
    expect(answer.headers['content-type']).toBe('application/json');
    expect(answer.headers['x-injected']).toBeUndefined();
    expect(JSON.parse(answer.body)).toEqual({
      success: false,
      error: 'The listener could not serve this dial: the local service is unreachable (ECONNREFUSED) X-Injected: 1',
      errorcode: 'destination_unreachable',
    });

    // The dial is gone: a dial-back for it finds nobody.
    const late = await dialBack(relay.port, '/svc', relay.keys.server, notice.id);
    late.socket.destroy();
    expect(late.status).toBe(400);

    const metrics = await getText(relay.metricsPort!, '/metrics');
    expect(sample(metrics.body, 'remoted_dials_total', { outcome: 'refused' })).toBe(1);
    expect(sample(metrics.body, 'remoted_refusals_total', { status: '502', code: 'destination_unreachable' })).toBe(1);
  });

  it('ignores a refusal of an id it was not told of, and from a listener that did not negotiate refuse', async () => {
    relay = await startRelay();
    const refusing = await open('/a');
    const drainOnly = await open('/b', 'drain');
    expect(drainOnly.upgradeHeaders['x-remoted-features']).toBe('drain');

    // /a refuses the dial waiting on /b: not its own.
    const onB = startDial(relay.port, '/b', relay.keys.client);
    const notice = await drainOnly.nextNotice();
    refuse(refusing, notice.id, 'not mine');
    refuse(refusing, 'no-such-dial', 'unknown id');
    refuse(drainOnly, notice.id, 'not negotiated');
    // Frames of one socket are read in order: the relay's answer to the drain (or to /a's own refusal) shows the ones before were read.
    drainOnly.ws.send(JSON.stringify({ op: 'drain' }));
    await waitFor(() => drainOnly.rawNotices.includes('{"op":"draining","by":"listener"}'), 'the drain answered');
    const onA = startDial(relay.port, '/a', relay.keys.client);
    const noticeA = await refusing.nextNotice();
    refuse(refusing, noticeA.id, 'down');
    const refusedA = await onA.response;
    refusedA.socket.destroy();
    expect(refusedA.status).toBe(502);

    // The dial on /b still waits for (and is linked to) the dial-back of the listener it was told to; a draining listener may still dial back.

    const back = await dialBack(relay.port, '/b', relay.keys.server, notice.id);
    const dialer = await onB.response;
    expect([back.status, dialer.status]).toEqual([101, 101]);
    back.socket.destroy();
    dialer.socket.destroy();
  });

  it('in a pool, offers a refused dial to the member not told yet; the last refusal answers the dialer', async () => {
    relay = await startRelay({ routes: { policy: 'pool' } });
    const members = [await open('/pool'), await open('/pool')];
    const dialing = startDial(relay.port, '/pool', relay.keys.client);

    await waitFor(() => members.some((m) => m.rawNotices.length === 1), 'a member told');
    const first = members.find((m) => m.rawNotices.length === 1)!;
    const second = members.find((m) => m !== first)!;
    const { id } = JSON.parse(first.rawNotices[0]) as { id: string };
    refuse(first, id, 'first is down');

    await waitFor(() => second.rawNotices.length === 1, 'the other member told');
    expect(JSON.parse(second.rawNotices[0])).toMatchObject({ id });
    refuse(second, id, 'second is down too');
    const answer = await dialing.response;
    answer.socket.destroy();
    expect(answer.status).toBe(502);
    expect(JSON.parse(answer.body)).toMatchObject({ errorcode: 'destination_unreachable', error: expect.stringMatching(/second is down too$/) });
    expect(first.rawNotices).toHaveLength(1);
  });
});
