/**
 * A listener that negotiates nothing (the original SDKs: a plain ws client
 * without X-Remoted-Features) sees exactly the base protocol, whatever the
 * relay's route policy: no extension header in its 101, only notify messages
 * (keys in order), no op frame even when an operator drains it, no
 * spares, and a `refuse` frame from it changes nothing. The same steps with the header show what it would have seen.
 */
import { once } from 'node:events';
import type { IncomingHttpHeaders } from 'node:http';
import WebSocket from 'ws';
import { createAdminClient } from '@remoted/sdk/admin';
import { randomToken } from '@remoted/sdk/protocol';
import { rawRequest, webRouteHeaders } from '../helpers/raw-http';
import { dialBack, startDial } from '../helpers/relay-peers';
import { startRelay, type StartedRelay } from '../helpers/start-relay';
import { waitFor } from '../helpers/wait-for';
import { listenersOn } from './listener-helpers';

interface RawListener {
  ws: WebSocket;
  headers: IncomingHttpHeaders;
  frames: string[];
}

function openRawListener(relay: StartedRelay, path: string, features?: string): Promise<RawListener> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { 'X-Remoted-APIKey': relay.keys.server };
    if (features !== undefined) headers['X-Remoted-Features'] = features;
    const ws = new WebSocket(`ws://127.0.0.1:${relay.port}${path}`, { headers });
    const frames: string[] = [];
    let upgradeHeaders: IncomingHttpHeaders = {};
    ws.on('upgrade', (res) => (upgradeHeaders = res.headers));
    ws.on('message', (data) => frames.push(data.toString()));
    ws.once('open', () => resolve({ ws, headers: upgradeHeaders, frames }));
    ws.once('error', reject);
  });
}

function extensionHeaders(headers: IncomingHttpHeaders): string[] {
  return Object.keys(headers).filter((name) => name.startsWith('x-remoted-'));
}

async function drainByOperator(relay: StartedRelay, listenerId: string): Promise<void> {
  const admin = createAdminClient({ address: `127.0.0.1:${relay.grpcPort}`, key: relay.keys.admin });
  try {
    await admin.routes.drainRoute({ name: `routes/${listenerId}` });
  } finally {
    admin.close();
  }
}

describe.each(['exclusive', 'takeover', 'pool'] as const)('a listener that negotiates nothing (relay policy %s)', (policy) => {
  let relay: StartedRelay;
  const listeners: WebSocket[] = [];

  beforeEach(async () => {
    relay = await startRelay({ routes: { policy } });
  });
  afterEach(async () => {
    for (const ws of listeners.splice(0)) ws.terminate();
    await relay.close();
  });

  it('gets no extension header, plain notify messages, no op frame when drained, no spares; its refuse frame is ignored', async () => {
    const listener = await openRawListener(relay, '/legacy');
    listeners.push(listener.ws);
    expect(extensionHeaders(listener.headers)).toEqual([]);

    const dialing = startDial(relay.port, '/legacy', relay.keys.client);
    await waitFor(() => listener.frames.length === 1, 'a notify message');
    expect(listener.frames[0]).toMatch(/^\{"ipaddr":"127\.0\.0\.1:\d+","id":"[A-Za-z0-9]{64}","timeout":60\}$/);
    // Not negotiated, so not heard: the pong (frames of one socket are read in order) shows the relay read it first.
    listener.ws.send(JSON.stringify({ op: 'refuse', id: dialing.id, reason: 'down' }));
    listener.ws.ping();
    await once(listener.ws, 'pong');
    const back = await dialBack(relay.port, '/legacy', relay.keys.server, dialing.id);
    const dialer = await dialing.response;
    expect([back.status, dialer.status]).toEqual([101, 101]);
    expect(extensionHeaders(back.headers)).toEqual([]);
    back.socket.destroy();
    dialer.socket.destroy();

    const [route] = listenersOn(relay, '/legacy');
    const spare = await rawRequest(relay.port, '/legacy', { headers: webRouteHeaders(relay.keys.server, randomToken(), { 'X-Remoted-Spare': route.listenerId }) });
    spare.socket.destroy();
    expect(spare.status).toBe(400);

    await drainByOperator(relay, route.listenerId);
    const refused = await startDial(relay.port, '/legacy', relay.keys.client).response;
    refused.socket.destroy();
    expect(refused.status).toBe(502);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(listener.frames).toHaveLength(1);
    expect(listener.ws.readyState).toBe(WebSocket.OPEN);
  });

  it('control: with X-Remoted-Features the same listener is granted features and told of the drain', async () => {
    const listener = await openRawListener(relay, '/modern', 'drain, spare');
    listeners.push(listener.ws);
    expect(extensionHeaders(listener.headers).sort()).toEqual(['x-remoted-features', 'x-remoted-listener-id', 'x-remoted-spares']);
    const id = String(listener.headers['x-remoted-listener-id']);
    await drainByOperator(relay, id);
    await waitFor(() => listener.frames.length === 1, 'an op frame');
    expect(JSON.parse(listener.frames[0])).toEqual({ op: 'draining', by: 'operator' });
  });
});
