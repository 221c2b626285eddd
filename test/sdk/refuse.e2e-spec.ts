/**
 * The SDK on both ends of a refused dial (feature `refuse`): a listener whose
 * openTarget fails tells the relay instead of dialing back, and the dialer
 * rejects with destination_unreachable; when openTarget succeeds the target
 * comes with the connection; a dial linked to a spare is closed instead.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { dial, type DialRefusedEvent, listen, RemotedError, type RemotedServer } from '@remoted/sdk';
import { startRelay, type StartedRelay } from '../helpers/start-relay';
import { waitFor } from '../helpers/wait-for';
import { nextEvent, readAll } from './sdk-helpers';

describe('refusing a dial', () => {
  let relay: StartedRelay;
  const servers: RemotedServer[] = [];
  let echo: Server;
  let echoPort: number;

  beforeAll(async () => {
    relay = await startRelay();
    echo = createServer((socket) => socket.pipe(socket));
    await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', resolve));
    echoPort = (echo.address() as { port: number }).port;
  });
  afterEach(async () => {
    for (const server of servers.splice(0)) await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => echo.close(() => resolve()));
    await relay.close();
  });

  function listenWith(path: string, openTarget: () => Promise<Duplex>, spares = 0): Promise<RemotedServer> {
    const server = listen(relay.url('rws', path), { openTarget, spares });
    servers.push(server);
    return nextEvent(server, 'listening').then(() => server);
  }

  function connectEcho(): Promise<Socket> {
    return new Promise((resolve, reject) => {
      const socket = connect(echoPort, '127.0.0.1', () => resolve(socket));
      socket.once('error', reject);
    });
  }

  it('openTarget fails: the relay is told, no dial-back, the dialer rejects with destination_unreachable and the reason', async () => {
    const server = await listenWith('/down', () => Promise.reject(new Error('the local service is unreachable (ECONNREFUSED)')));
    let connections = 0;
    server.on('connection', () => connections++);
    const refused = nextEvent<DialRefusedEvent>(server, 'dial:refused');
    const err = await dial(relay.url('rwr', '/down')).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(RemotedError);
    expect(err).toMatchObject({ code: 'destination_unreachable', status: 502 });
    expect((err as Error).message).toMatch(/the local service is unreachable \(ECONNREFUSED\)$/);
    expect(await refused).toMatchObject({ told: true, dialerAddress: expect.stringMatching(/^127\.0\.0\.1:\d+$/) });
    expect(connections).toBe(0);
  });

  it('openTarget succeeds: its target comes with the connection, and the link works', async () => {
    const server = await listenWith('/up', connectEcho);
    server.on('connection', (link, target) => {
      link.pipe(target!).pipe(link);
    });
    const socket = await dial(relay.url('rwr', '/up'));
    socket.end('through the target');
    expect((await readAll(socket)).toString()).toBe('through the target');
  });

  it('a dial linked to a spare is readied after the link, and closed when openTarget fails', async () => {
    const server = await listenWith('/spare-down', () => Promise.reject(new Error('down')), 1);
    await waitFor(() => server.spareCount === 1, 'a spare held');
    const refused = nextEvent<DialRefusedEvent>(server, 'dial:refused');
    const socket = await dial(relay.url('rwr', '/spare-down'));
    expect(await refused).toMatchObject({ told: false });
    expect((await readAll(socket)).length).toBe(0);
  });

  it('drops its spares while openTarget fails (the next dial is refused, not cut), and keeps them again once it succeeds', async () => {
    let up = false;
    const server = await listenWith('/flaky', () => (up ? connectEcho() : Promise.reject(new Error('down'))), 2);
    server.on('connection', (link, target) => {
      link.pipe(target!).pipe(link);
    });
    await waitFor(() => server.spareCount === 2, 'two spares held');
    const cut = await dial(relay.url('rwr', '/flaky'));
    expect((await readAll(cut)).length).toBe(0);
    await waitFor(() => server.spareCount === 0, 'spares dropped');
    // No spare to link it: the notify path, where a refusal reaches the dialer.
    await expect(dial(relay.url('rwr', '/flaky'))).rejects.toMatchObject({ code: 'destination_unreachable' });

    up = true;
    const served = await dial(relay.url('rwr', '/flaky'));
    served.end('back up');
    expect((await readAll(served)).toString()).toBe('back up');
    await waitFor(() => server.spareCount === 2, 'spares held again');
  });
});
