/**
 * The listeners' WebSocket as a Nest gateway (src/relay/listener-gateway.ts,
 * listener-ws-adapter.ts): the upgrade router stays the relay port's only
 * 'upgrade' handler, so WebRoute requests on any path still reach it, and
 * the frames a listener sends are dispatched on their `op` to its connection.
 */
import { once } from 'node:events';
import type { Server } from 'node:http';
import { RelayAdmin } from '../../src/relay/relay-admin';
import { linkedSocket, makeLink, TestListener } from '../helpers/relay-peers';
import { readBytes } from '../helpers/raw-http';
import { type StartedRelay, startRelay } from '../helpers/start-relay';

describe('the listener gateway', () => {
  let relay: StartedRelay;
  const listeners: TestListener[] = [];

  beforeAll(async () => {
    relay = await startRelay();
  });
  afterEach(async () => {
    for (const listener of listeners.splice(0)) await listener.close();
  });
  afterAll(() => relay.close());

  async function listen(path: string, features?: string): Promise<TestListener> {
    const headers: Record<string, string> = features ? { 'X-Remoted-Features': features } : {};
    const listener = await TestListener.openUrl(`ws://127.0.0.1:${relay.port}${path}`, relay.keys.server, { headers });
    listeners.push(listener);
    return listener;
  }

  function stateOf(path: string): string | undefined {
    return relay.app.get(RelayAdmin).routes({ path })[0]?.state;
  }

  it('leaves the relay port one upgrade handler, and links on a path no gateway names', async () => {
    expect((relay.app.getHttpServer() as Server).listeners('upgrade')).toHaveLength(1);
    const listener = await listen('/any/path/at/all');
    const pair = await makeLink(relay.port, '/any/path/at/all', listener, relay.keys);
    linkedSocket(pair.dialer).write('ping');
    expect((await readBytes(linkedSocket(pair.listenerSide), 4)).toString()).toBe('ping');
    pair.dialer.socket.destroy();
    pair.listenerSide.socket.destroy();
  });

  it('hands a drain op to the listener that negotiated drain, which is then told it drains', async () => {
    const listener = await listen('/gw-drain', 'drain');
    const told = new Promise<string>((resolve) => listener.ws.once('message', (data) => resolve(data.toString())));
    listener.ws.send('{"op":"drain"}');
    expect(JSON.parse(await told)).toEqual({ op: 'draining', by: 'listener' });
    expect(stateOf('/gw-drain')).toBe('draining');
  });

  it('ignores ops from a listener that did not negotiate them, and binary frames', async () => {
    const plain = await listen('/gw-plain');
    const binary = await listen('/gw-binary', 'drain');
    plain.ws.send('{"op":"drain"}');
    binary.ws.send(Buffer.from('{"op":"drain"}'), { binary: true });
    // The relay answers a ping after it has read (and dispatched) the frames before it.
    for (const listener of [plain, binary]) {
      const pong = once(listener.ws, 'pong');
      listener.ws.ping();
      await pong;
    }
    expect(stateOf('/gw-plain')).toBe('active');
    expect(stateOf('/gw-binary')).toBe('active');
  });
});
