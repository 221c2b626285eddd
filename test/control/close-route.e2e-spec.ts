/**
 * CloseRoute's two modes, over real gRPC, with `remoted expose` and `remoted
 * disconnect route` as real processes: a kick lets expose come back; closing
 * for good makes it exit 8 with the operator's reason, without a retry.
 */
import { status } from '@grpc/grpc-js';
import { createServer, type Server } from 'node:net';
import { CloseRouteMode } from '@remoted/sdk/gen/remoted/admin/v1/route_service_pb';
import { type CliProcess, runCli } from '../helpers/cli-process';
import { TestListener } from '../helpers/relay-peers';
import { type StartedRelay, startRelay } from '../helpers/start-relay';
import { waitFor } from '../helpers/wait-for';
import { RelayAdmin } from '../../src/relay/relay-admin';
import { adminClientFor, expectStatus } from './control-helpers';

describe('CloseRoute: kick or close for good', () => {
  let relay: StartedRelay;
  let service: Server;
  let servicePort: number;
  const clis: CliProcess[] = [];

  beforeAll(async () => {
    relay = await startRelay();
    service = createServer((socket) => socket.pipe(socket));
    await new Promise<void>((resolve) => service.listen(0, '127.0.0.1', resolve));
    servicePort = (service.address() as { port: number }).port;
  });
  afterEach(async () => {
    for (const cli of clis.splice(0)) await cli.stop();
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => service.close(() => resolve()));
    await relay.close();
  });

  const listenersOn = (path: string): number => relay.app.get(RelayAdmin).routes({ path }).length;

  function expose(path: string): CliProcess {
    const cli = runCli(['expose', relay.url('rws', path), '--to', `127.0.0.1:${servicePort}`]);
    clis.push(cli);
    return cli;
  }

  function disconnect(...args: string[]): CliProcess {
    const cli = runCli(['disconnect', 'route', ...args, '--address', `127.0.0.1:${relay.grpcPort}`], { REMOTED_ADMIN_KEY: relay.keys.admin });
    clis.push(cli);
    return cli;
  }

  it('a kick (the default): the CLI says so, and expose comes back on the route', async () => {
    const exposing = expose('/kick');
    await exposing.waitForLog(/listening on/);
    const kick = disconnect('/kick');
    expect(await kick.exited).toBe(0);
    expect(kick.stdout()).toBe('kicked route /kick: its listener may reconnect (use --for-good to keep it away); closed 0 links\n');
    await exposing.waitForLog(/lost the route \S+ \(1008 closed by the operator\)/);
    await exposing.waitForLog(/listening again on/);
    expect(listenersOn('/kick')).toBe(1);
    expect(exposing.child.exitCode).toBeNull();
  });

  it('for good, with a reason: the CLI says so, expose exits 8 printing the reason and does not reconnect', async () => {
    const exposing = expose('/good');
    await exposing.waitForLog(/listening on/);
    const close = disconnect('/good', '--for-good', '--reason', 'moved to /good2, see ticket 42');
    expect(await close.exited).toBe(0);
    expect(close.stdout()).toBe('closed route /good for good (moved to /good2, see ticket 42): a listener of our SDK does not come back; closed 0 links\n');
    expect(await exposing.exited).toBe(8);
    expect(exposing.stderr()).toMatch(/^remoted: route_closed: The relay's operator closed the route for good: moved to \/good2, see ticket 42 \(4004\)\.$/m);
    expect(exposing.stderr()).not.toMatch(/reconnect|listening again/);
    expect(listenersOn('/good')).toBe(0);
  });

  it('a raw listener sees close 4004 with the reason, or "closed by the operator"; the reply names the mode', async () => {
    const admin = adminClientFor(relay);
    try {
      const raw = await TestListener.open(relay.port, '/raw', relay.keys.server);
      const closed = await admin.routes.closeRoute({ path: '/raw', mode: CloseRouteMode.FOR_GOOD });
      expect(closed.mode).toBe(CloseRouteMode.FOR_GOOD);
      expect(await raw.closed()).toBe(4004);
      expect(raw.closeReason).toBe('closed by the operator');

      const kicked = await TestListener.open(relay.port, '/raw', relay.keys.server);
      expect((await admin.routes.closeRoute({ path: '/raw' })).mode).toBe(CloseRouteMode.KICK);
      expect(await kicked.closed()).toBe(1008);
      await waitFor(() => listenersOn('/raw') === 0, 'the route freed');
    } finally {
      admin.close();
    }
  });

  it('refuses a reason that would not fit a close frame or is not one line, and an unknown mode', async () => {
    const admin = adminClientFor(relay);
    const raw = await TestListener.open(relay.port, '/checked', relay.keys.server);
    try {
      const tooLong = await expectStatus(admin.routes.closeRoute({ path: '/checked', mode: CloseRouteMode.FOR_GOOD, reason: 'é'.repeat(61) }), status.INVALID_ARGUMENT);
      expect(tooLong).toMatch(/^reason: is 122 bytes of UTF-8; at most 120$/);
      await expectStatus(admin.routes.closeRoute({ path: '/checked', mode: CloseRouteMode.FOR_GOOD, reason: 'two\nlines' }), status.INVALID_ARGUMENT);
      await expectStatus(admin.routes.closeRoute({ path: '/checked', mode: 7 as CloseRouteMode }), status.INVALID_ARGUMENT);
      // Nothing was closed by the refused calls.
      expect(listenersOn('/checked')).toBe(1);
    } finally {
      admin.close();
      await raw.close();
    }
  });
});
