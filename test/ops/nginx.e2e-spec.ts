/**
 * The relay behind Debian's nginx, as docs/deployment.md sets it up: a
 * listener and a dialer reach it through nginx, they are linked, and the
 * listener is told the dialer's own address (X-Forwarded-For from a trusted
 * proxy), not nginx's. Skipped only where nginx is missing and CI is not set.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectTo, readBytes, webRouteHeaders } from '../helpers/raw-http';
import { TestListener } from '../helpers/relay-peers';
import { type StartedRelay, startRelay } from '../helpers/start-relay';
import { connectFrom, requestOn, writeIn } from './ops-helpers';
import { nginxTestConfig } from './nginx-config';

const NGINX_CANDIDATES = ['/usr/sbin/nginx', '/usr/bin/nginx', '/usr/local/sbin/nginx', '/usr/local/nginx/sbin/nginx'];
const nginxBinary = NGINX_CANDIDATES.find((path) => existsSync(path));

if (!nginxBinary && !process.env.CI) {
  // eslint-disable-next-line no-console
  console.warn('nginx e2e skipped: nginx is not installed (apt-get install nginx); in CI (CI set) this test runs and fails without it');
}
const describeWithNginx = nginxBinary || process.env.CI ? describe : describe.skip;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

async function waitForPort(port: number, nginx: ChildProcess, errorLog: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (nginx.exitCode !== null) throw new Error(`nginx exited (${nginx.exitCode}): ${existsSync(errorLog) ? readFileSync(errorLog, 'utf8') : ''}`);
    try {
      const socket = await connectTo(port);
      socket.destroy();
      return;
    } catch {
      if (Date.now() > deadline) throw new Error(`nginx did not listen on ${port} within 10 s`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

describeWithNginx('behind nginx', () => {
  let relay: StartedRelay;
  let nginx: ChildProcess;
  let dir: string;
  let port: number;
  const sockets: Socket[] = [];

  beforeAll(async () => {
    if (!nginxBinary) throw new Error('CI is set but nginx is not installed: .ci/run installs it with apt-get');
    relay = await startRelay({ trustedProxies: '127.0.0.1' });
    dir = mkdtempSync(join(tmpdir(), 'remoted-nginx-'));
    port = await freePort();
    const conf = writeIn(dir, 'nginx.conf', nginxTestConfig({ dir, listenPort: port, relayPort: relay.port }));
    const errorLog = join(dir, 'error.log');
    nginx = spawn(nginxBinary, ['-c', conf, '-p', dir, '-e', errorLog], { stdio: ['ignore', 'ignore', 'pipe'] });
    nginx.stderr?.resume();
    await waitForPort(port, nginx, errorLog);
  });

  afterAll(async () => {
    for (const socket of sockets) socket.destroy();
    if (nginx && nginx.exitCode === null) {
      const exited = new Promise((resolve) => nginx.once('exit', resolve));
      nginx.kill('SIGTERM');
      await exited;
    }
    await relay?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('links a dialer and a listener through nginx, telling the listener the dialer address', async () => {
    const listener = await TestListener.open(port, '/through-nginx', relay.keys.server);
    // The dialer comes from 127.0.0.2; nginx (127.0.0.1, trusted) forwards it.
    const dialSocket = await connectFrom(port, '127.0.0.2');
    sockets.push(dialSocket);
    const dialed = requestOn(dialSocket, '/through-nginx', webRouteHeaders(relay.keys.client));
    const notice = await listener.nextNotice();
    expect(notice.ipaddr).toBe('127.0.0.2:0');

    const backSocket = await connectTo(port);
    sockets.push(backSocket);
    const back = await requestOn(backSocket, '/through-nginx', webRouteHeaders(relay.keys.server, notice.id));
    const dial = await dialed;
    expect([dial.status, back.status]).toEqual([101, 101]);

    dialSocket.write('ping through nginx');
    expect((await readBytes(backSocket, 18, back.rest)).toString()).toBe('ping through nginx');
    backSocket.write('pong');
    expect((await readBytes(dialSocket, 4, dial.rest)).toString()).toBe('pong');
    await listener.close();
  });

  it('passes refusals through unchanged', async () => {
    const dialSocket = await connectTo(port);
    sockets.push(dialSocket);
    const refused = await requestOn(dialSocket, '/nobody', webRouteHeaders(relay.keys.client));
    expect(refused.status).toBe(502);
    expect(JSON.parse(refused.body)).toMatchObject({ errorcode: 'missing_destination' });
  });
});
