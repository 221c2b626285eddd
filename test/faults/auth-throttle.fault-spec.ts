/**
 * 100 wrong keys from one address: past the failure limit that address is
 * answered 429 with Retry-After, while a right key from another address
 * still links at once.
 */
import { connect, type Socket } from 'node:net';
import WebSocket from 'ws';
import { type NotifyMessage, randomToken } from '@remoted/sdk/protocol';
import { buildRequest, type RawResponse, readBytes, readResponse, webRouteHeaders } from '../helpers/raw-http';
import { startRelay, type StartedRelay } from '../helpers/start-relay';
import { waitFor } from '../helpers/wait-for';
import { within } from './helpers/children';
import { relayCounts, sameCounts } from './helpers/relay-state';

const ATTACKER = '127.0.0.1';
const CLIENT = '127.0.0.2';
const SERVER = '127.0.0.3';
const WRONG_KEYS = 100;

/** A raw request from a chosen local address. */
function requestFrom(localAddress: string, port: number, path: string, headers: Record<string, string | undefined>): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const socket: Socket = connect({ port, host: '127.0.0.1', localAddress, allowHalfOpen: true }, () => {
      socket.write(buildRequest(path, 'GET', headers));
      readResponse(socket, 5000).then(resolve, reject);
    });
    socket.once('error', reject);
  });
}

/** A listener (WebSocket) from a chosen local address, with its notify messages. */
function listenFrom(localAddress: string, port: number, path: string, key: string): Promise<{ ws: WebSocket; notices: NotifyMessage[] }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}${path}`, { headers: { 'X-Remoted-APIKey': key }, localAddress });
    const notices: NotifyMessage[] = [];
    ws.on('message', (data) => notices.push(JSON.parse(data.toString()) as NotifyMessage));
    ws.once('open', () => resolve({ ws, notices }));
    ws.once('error', reject);
  });
}

describe('failed-auth throttling', () => {
  let relay: StartedRelay | undefined;
  let listenerWs: WebSocket | undefined;
  const sockets = new Set<Socket>();

  afterEach(async () => {
    for (const socket of sockets) socket.destroy();
    sockets.clear();
    listenerWs?.terminate();
    listenerWs = undefined;
    await relay?.close();
    relay = undefined;
  });

  it(`${WRONG_KEYS} wrong keys from one address are throttled (429); a right key from another address links at once`, async () => {
    relay = await startRelay();
    const r = relay;
    const { authFailureLimit, authFailureWindowMs } = r.config.limits;
    const listener = await listenFrom(SERVER, r.port, '/svc', r.keys.server);
    listenerWs = listener.ws;

    const statuses = new Map<number, number>();
    const throttled: RawResponse[] = [];
    const startedAt = Date.now();
    for (let i = 0; i < WRONG_KEYS; i++) {
      const response = await requestFrom(ATTACKER, r.port, '/svc', webRouteHeaders(randomToken()));
      response.socket.destroy();
      statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
      if (response.status === 429) throttled.push(response);
    }
    const attackMs = Date.now() - startedAt;
    process.stdout.write(`[faults] throttle: ${WRONG_KEYS} wrong keys in ${attackMs} ms -> ${JSON.stringify(Object.fromEntries(statuses))}; Retry-After ${throttled[0]?.headers['retry-after']} s\n`);
    // The first `authFailureLimit` are refused as wrong keys; every later one is throttled.
    expect(statuses.get(403)).toBe(authFailureLimit);
    expect(statuses.get(429)).toBe(WRONG_KEYS - authFailureLimit);
    for (const response of throttled) {
      const retryAfter = Number(response.headers['retry-after']);
      expect(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= Math.ceil(authFailureWindowMs / 1000)).toBe(true);
      expect(response.headers.connection).toBe('close');
      expect(JSON.parse(response.body)).toMatchObject({ success: false, errorcode: 'too_many_requests' });
    }
    // While throttled, the address learns nothing, not even from a right key.
    const rightKeyFromAttacker = await requestFrom(ATTACKER, r.port, '/svc', webRouteHeaders(r.keys.client));
    rightKeyFromAttacker.socket.destroy();
    expect(rightKeyFromAttacker.status).toBe(429);
    expect(listener.notices).toHaveLength(0);

    // Another address with the right key links at once.
    const dialStartedAt = Date.now();
    const id = randomToken();
    const dial = requestFrom(CLIENT, r.port, '/svc', webRouteHeaders(r.keys.client, id));
    await waitFor(() => listener.notices.length === 1, 'the listener told of the dialer', 1000, 2);
    const notice = listener.notices[0];
    expect(notice.id).toBe(id);
    expect(notice.ipaddr.startsWith(`${CLIENT}:`)).toBe(true);
    const back = await within(requestFrom(SERVER, r.port, '/svc', webRouteHeaders(r.keys.server, id)), 1000, 'the dial-back');
    const dialer = await within(dial, 1000, 'the dialer linked');
    const linkMs = Date.now() - dialStartedAt;
    sockets.add(dialer.socket).add(back.socket);
    expect(back.status).toBe(101);
    expect(dialer.status).toBe(101);
    process.stdout.write(`[faults] throttle: right key from ${CLIENT} linked in ${linkMs} ms\n`);
    expect(linkMs).toBeLessThan(500);

    if (dialer.rest.length > 0) dialer.socket.unshift(dialer.rest);
    if (back.rest.length > 0) back.socket.unshift(back.rest);
    back.socket.write('through');
    expect((await readBytes(dialer.socket, 7)).toString()).toBe('through');
    expect(relayCounts(r)).toEqual({ listeners: 1, waitingDialers: 0, links: 1, sockets: 3 });
    dialer.socket.destroy();
    back.socket.destroy();
    await waitFor(() => sameCounts(relayCounts(r), { listeners: 1, waitingDialers: 0, links: 0, sockets: 1 }), 'link closed', 2000);
  });
});
