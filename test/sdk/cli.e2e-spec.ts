/** The built `remoted` CLI against the real relay: expose + forward, dial over stdio, errors and exit codes. */
import { createHash, randomBytes } from 'node:crypto';
import { createServer, get, request, type Server } from 'node:http';
import { connect, createServer as createNetServer, type Socket } from 'node:net';
import { listen, type RemotedServer } from '@remoted/sdk';
import { startRelay, type StartedRelay } from '../helpers/start-relay';
import { waitFor } from '../helpers/wait-for';
import { RelayAdmin } from '../../src/relay/relay-admin';
import { type CliProcess as Cli, runCli, stop } from '../helpers/cli-process';
import { echoConnections, nextEvent } from './sdk-helpers';

const BLOB_BYTES = 32 * 1024 * 1024;

/** A port nothing listens on: bound, then given back. */
async function freePort(): Promise<number> {
  const server = createNetServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

describe('remoted CLI', () => {
  let relay: StartedRelay;
  const clis: Cli[] = [];
  beforeAll(async () => {
    relay = await startRelay();
  });
  afterEach(async () => {
    for (const cli of clis.splice(0)) await stop(cli);
  });
  afterAll(() => relay.close());

  function cli(args: string[], env?: NodeJS.ProcessEnv): Cli {
    const started = runCli(args, env);
    clis.push(started);
    return started;
  }

  describe('expose + forward carrying a real HTTP server', () => {
    let app: Server;
    let appPort: number;
    const blob = randomBytes(BLOB_BYTES);
    const blobSha = sha256(blob);

    beforeAll(async () => {
      app = createServer((req, res) => {
        if (req.method === 'GET' && req.url === '/blob') {
          res.writeHead(200, { 'content-length': blob.length });
          res.end(blob);
          return;
        }
        const hash = createHash('sha256');
        let size = 0;
        req.on('data', (chunk: Buffer) => {
          size += chunk.length;
          hash.update(chunk);
        });
        req.on('end', () => res.end(JSON.stringify({ size, sha256: hash.digest('hex') })));
      });
      await new Promise<void>((resolve) => app.listen(0, '127.0.0.1', resolve));
      appPort = (app.address() as { port: number }).port;
    });
    afterAll(async () => {
      app.closeAllConnections();
      await new Promise<void>((resolve) => app.close(() => resolve()));
    });

    it('serves 32 MiB each way intact (sha256), and both exit 0 on SIGTERM', async () => {
      const expose = cli(['expose', relay.url('rws', '/web'), '--to', `127.0.0.1:${appPort}`]);
      await expose.waitForLog(/listening on rws:\/\/127\.0\.0\.1:\d+\/web/);
      const forward = cli(['forward', relay.url('rwr', '/web'), '--listen', '127.0.0.1:0']);
      const [, port] = await forward.waitForLog(/forwarding 127\.0\.0\.1:(\d+) to/);

      const downloaded = await new Promise<Buffer>((resolve, reject) => {
        get({ host: '127.0.0.1', port: Number(port), path: '/blob' }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () => resolve(Buffer.concat(chunks)));
          res.on('error', reject);
        }).on('error', reject);
      });
      expect(downloaded.length).toBe(BLOB_BYTES);
      expect(sha256(downloaded)).toBe(blobSha);

      const uploaded = await new Promise<string>((resolve, reject) => {
        const req = request({ host: '127.0.0.1', port: Number(port), path: '/upload', method: 'POST' }, (res) => {
          let text = '';
          res.on('data', (chunk: Buffer) => (text += chunk.toString()));
          res.on('end', () => resolve(text));
        });
        req.on('error', reject);
        req.end(blob);
      });
      expect(JSON.parse(uploaded)).toEqual({ size: BLOB_BYTES, sha256: blobSha });

      expect(await stop(forward)).toBe(0);
      expect(await stop(expose)).toBe(0);
    });
  });

  describe('dial over stdio', () => {
    let server: RemotedServer;
    const links = new Set<Socket>();
    beforeAll(async () => {
      server = listen(relay.url('rws', '/echo'));
      echoConnections(server, links);
      await nextEvent(server, 'listening');
    });
    afterAll(async () => {
      for (const link of links) link.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    });

    it('is the link: stdin goes out, the answer comes to stdout, exit 0 after the far end closes', async () => {
      // The key from the environment: a key in the URL would add its warning to stderr.
      const dial = cli(['dial', `rwr://127.0.0.1:${relay.port}/echo`], { REMOTED_KEY: relay.keys.client });
      let stdout = '';
      dial.child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      dial.child.stdin.end('ping over stdio\n');
      expect(await dial.exited).toBe(0);
      expect(stdout).toBe('ping over stdio\n');
      expect(dial.stderr()).toBe('');
    });
  });

  describe('errors and exit codes', () => {
    it('a path with no listener: exit 4, one line missing_destination', async () => {
      const dial = cli(['dial', `rwr://127.0.0.1:${relay.port}/nobody`], { REMOTED_KEY: relay.keys.client });
      expect(await dial.exited).toBe(4);
      expect(dial.stderr()).toMatch(/^remoted: missing_destination: .+\n$/);
    });

    it('a bad key: exit 3, invalid_missing_apikey', async () => {
      const dial = cli(['dial', relay.url('rwr', '/x', 'wrong')]);
      expect(await dial.exited).toBe(3);
      expect(dial.stderr()).toMatch(/^remoted: invalid_missing_apikey: /m);
    });

    it('expose on a path in use: exit 4, path_in_use, no retry loop', async () => {
      const first = cli(['expose', relay.url('rws', '/busy'), '--to', '127.0.0.1:9']);
      await first.waitForLog(/listening on/);
      const second = cli(['expose', relay.url('rws', '/busy'), '--to', '127.0.0.1:9']);
      expect(await second.exited).toBe(4);
      expect(second.stderr()).toMatch(/remoted: path_in_use: /);
      expect(second.stderr()).not.toMatch(/reconnect/);
    });

    it('expose --to a dead port refuses each dial: dial exits 7 with one destination_unreachable line, forward reports it', async () => {
      const deadPort = await freePort();
      const expose = cli(['expose', relay.url('rws', '/dead'), '--to', `127.0.0.1:${deadPort}`]);
      await expose.waitForLog(/listening on/);
      // Spares are on by default: the first dial is linked to one, whose 101 came before expose could try
      // its service, so no 502 can be sent any more and the link is closed. expose then drops its spares.
      await waitFor(() => relay.app.get(RelayAdmin).counts().spares === 2, 'the relay holds expose\'s 2 spares');
      const dialUrl = `rwr://127.0.0.1:${relay.port}/dead`;
      const client = { REMOTED_KEY: relay.keys.client };
      const first = cli(['dial', dialUrl], client);
      expect(await first.exited).toBe(0);
      await waitFor(() => relay.app.get(RelayAdmin).counts().spares === 0, 'expose dropped its spares');

      // From then on each dial takes the notify path and is refused before any dial-back.
      const dial = cli(['dial', dialUrl], client);
      expect(await dial.exited).toBe(7);
      expect(dial.stderr()).toMatch(/^remoted: destination_unreachable: The listener could not serve this dial: the local service is unreachable \(ECONNREFUSED\)\n$/);
      // The dialer learns no local address; the expose side logs it.
      expect(dial.stderr()).not.toContain(String(deadPort));
      await expose.waitForLog(new RegExp(`refused the dial from 127\\.0\\.0\\.1:\\d+: cannot reach 127\\.0\\.0\\.1:${deadPort}: connect ECONNREFUSED`));

      const forward = cli(['forward', relay.url('rwr', '/dead'), '--listen', '127.0.0.1:0']);
      const [, port] = await forward.waitForLog(/forwarding 127\.0\.0\.1:(\d+)/);
      const local = connect(Number(port), '127.0.0.1');
      await new Promise<void>((resolve) => local.once('close', () => resolve()).on('error', () => undefined));
      await forward.waitForLog(/connection #1: dial failed: destination_unreachable: The listener could not serve this dial: /);
    });

    it('an admin command with no control plane at the address: exit 6, one line naming the address and the setting', async () => {
      const closed = createNetServer();
      await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
      const { port } = closed.address() as { port: number };
      await new Promise<void>((resolve) => closed.close(() => resolve()));
      const routes = cli(['routes', '--address', `127.0.0.1:${port}`], { REMOTED_ADMIN_KEY: relay.keys.admin });
      expect(await routes.exited).toBe(6);
      expect(routes.stderr()).toBe(
        `remoted: unavailable: cannot reach the control plane at 127.0.0.1:${port} (connection refused): is the relay running, and is this its gRPC address? (--address, env REMOTED_ADMIN_ADDRESS)\n`,
      );
    });

    it('usage errors: exit 2', async () => {
      const missing = cli(['expose', relay.url('rws', '/u')]);
      expect(await missing.exited).toBe(2);
      expect(missing.stderr()).toMatch(/^remoted: usage: .*--to/);
      const badUrl = cli(['dial', 'http://example/x']);
      expect(await badUrl.exited).toBe(2);
      expect(badUrl.stderr()).toMatch(/^remoted: invalid_url: /);
    });

    it('--help on every command exits 0 and prints to stdout', async () => {
      for (const args of [['--help'], ['expose', '--help'], ['forward', '--help'], ['dial', '--help']]) {
        const help = cli(args);
        let stdout = '';
        help.child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
        expect(await help.exited).toBe(0);
        expect(stdout).toMatch(/^Usage: remoted/);
      }
    });
  });
});
