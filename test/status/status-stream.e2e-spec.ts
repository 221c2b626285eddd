/**
 * The page's event stream under a page that cannot keep up: a real EventHub
 * (a started relay's), real relay events, a real HTTP socket whose reader has
 * stopped reading. The stream is dropped once its unsent bytes pass the bound,
 * rather than buffered, and the shared subscription ends with it.
 */
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { EventHub } from '../../src/control/event-hub';
import { RelayEvents } from '../../src/relay/context/relay-events';
import { StatusStreams } from '../../src/status/status-stream';
import { startRelay, type StartedRelay } from '../helpers/start-relay';
import { waitFor } from '../helpers/wait-for';

describe('StatusStreams with a page that stopped reading', () => {
  let relay: StartedRelay;
  let server: Server;
  let client: Socket;

  afterEach(async () => {
    client?.destroy();
    server?.closeAllConnections();
    server?.close();
    await relay?.close();
  });

  it('drops the stream past maxBufferedBytes and unsubscribes when it was the last', async () => {
    relay = await startRelay();
    const hub = relay.app.get(EventHub);
    const streams = new StatusStreams(
      hub,
      { closedTotals: () => ({ bytesIn: 0, bytesOut: 0, dials: 0 }), gauges: () => ({ routes: 0, links: 0, waitingDialers: 0 }), refusals: () => ({}), linkBytes: () => [] },
      { maxStreams: 4, tickMs: 20, historyTicks: 10, eventRingSize: 10, maxEventsPerTick: 20_000, maxBufferedBytes: 64 * 1024 },
    );
    server = createServer((_req, res) => void streams.open(res, () => true));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    client = connect((server.address() as AddressInfo).port, '127.0.0.1');
    await once(client, 'connect');
    client.write('GET /stream HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    await once(client, 'data');
    client.pause();
    expect(streams.openStreams).toBe(1);
    expect(hub.watcherCount).toBe(1);

    // Far more than the kernel's socket buffers hold, in a few ticks: each event is ~150 bytes of JSON.
    const events = relay.app.get(RelayEvents);
    const path = `/${'p'.repeat(200)}`;
    const flood = setInterval(() => {
      for (let i = 0; i < 10_000; i++) events.emit('dialback:slow', { path, listenerId: 'lst_flood' });
    }, 20);
    try {
      await waitFor(() => streams.openStreams === 0, 'the stream that does not read is dropped', 20_000);
    } finally {
      clearInterval(flood);
    }
    expect(hub.watcherCount).toBe(0);
    expect(streams.isRunning).toBe(false);
  });
});
