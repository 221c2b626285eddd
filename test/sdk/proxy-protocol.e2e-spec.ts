/**
 * `remoted expose --proxy-protocol v1|v2` in front of Debian's nginx with a
 * `proxy_protocol` listener: the built CLI exposes nginx through a real
 * relay, an SDK dialer makes an HTTP request, and nginx answers with the
 * address it read from the PROXY header: the dialer's own, not the CLI's.
 * Skipped only where nginx is missing and CI is not set.
 */
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import { join } from 'node:path';
import { dial } from '@remoted/sdk';
import { describeWithNginx, nginxConfigHead, type NginxPaths, type StartedNginx, startNginx } from '../helpers/nginx';
import { type StartedRelay, startRelay } from '../helpers/start-relay';
import { readAll } from './sdk-helpers';

const CLI = join(__dirname, '..', '..', 'sdk', 'dist', 'cli', 'main.js');

/** An http server on a proxy_protocol listener whose body is the PROXY header's source. */
function proxyProtocolConfig({ dir, port }: NginxPaths): string {
  return `${nginxConfigHead(dir, { errorLogLevel: 'info', accessLog: `${dir}/access.log`, workerConnections: 64 })}  server {
    listen 127.0.0.1:${port} proxy_protocol;
    location / {
      default_type text/plain;
      return 200 "$proxy_protocol_addr:$proxy_protocol_port";
    }
  }
}
`;
}

interface Expose {
  child: ChildProcessWithoutNullStreams;
  exited: Promise<number | null>;
  stderr(): string;
}

/** Resolves once the CLI logged that it listens (or rejects with its stderr). */
function waitForListening(cli: Expose, timeoutMs = 10_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const check = (): void => {
      const line = /listening on .*\n/.exec(cli.stderr());
      if (!line) return;
      done();
      resolve(line[0]);
    };
    const fail = (): void => {
      done();
      reject(new Error(`expose did not listen within ${timeoutMs} ms (exit ${cli.child.exitCode}); stderr: ${cli.stderr()}`));
    };
    const timer = setTimeout(fail, timeoutMs);
    const done = (): void => {
      clearTimeout(timer);
      cli.child.stderr.off('data', check);
      cli.child.off('exit', fail);
    };
    cli.child.stderr.on('data', check);
    cli.child.once('exit', fail);
    check();
  });
}

/** One HTTP/1.1 GET on the link; the whole answer, up to nginx's FIN. */
async function httpGet(link: Socket): Promise<{ status: number; body: string }> {
  const answer = readAll(link);
  link.write('GET / HTTP/1.1\r\nHost: hidden\r\nConnection: close\r\n\r\n');
  const text = (await answer).toString('latin1');
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0);
  const body = text.slice(text.indexOf('\r\n\r\n') + 4);
  return { status, body };
}

describeWithNginx('PROXY protocol e2e')('remoted expose --proxy-protocol to nginx', () => {
  let relay: StartedRelay;
  let nginx: StartedNginx | undefined;
  const clis: Expose[] = [];
  const links: Socket[] = [];

  beforeAll(async () => {
    relay = await startRelay();
    nginx = await startNginx(proxyProtocolConfig);
  });

  afterEach(async () => {
    for (const link of links.splice(0)) link.destroy();
    for (const cli of clis.splice(0)) {
      if (cli.child.exitCode === null && cli.child.signalCode === null) cli.child.kill('SIGTERM');
      await cli.exited;
    }
  });

  afterAll(async () => {
    await nginx?.stop();
    await relay?.close();
  });

  function expose(path: string, extra: string[]): Expose {
    if (!nginx) throw new Error('nginx did not start');
    const child = spawn(process.execPath, [CLI, 'expose', relay.url('rws', path), '--to', `127.0.0.1:${nginx.port}`, ...extra], { stdio: 'pipe' });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const cli = { child, exited, stderr: () => stderr };
    clis.push(cli);
    return cli;
  }

  async function dialAndGet(path: string): Promise<{ status: number; body: string; localPort: number }> {
    const link = await dial(relay.url('rwr', path), { timeoutMs: 10_000 });
    links.push(link);
    // The relay saw this socket's own address: 127.0.0.1 and its local port.
    const localPort = link.localPort ?? -1;
    return { ...(await httpGet(link)), localPort };
  }

  it.each(['v1', 'v2'])('--proxy-protocol %s: nginx reads the dialer address from the header', async (version) => {
    const path = `/pp-${version}`;
    const cli = expose(path, ['--proxy-protocol', version]);
    expect(await waitForListening(cli)).toContain(`with PROXY protocol ${version}`);

    for (let i = 0; i < 2; i++) {
      const { status, body, localPort } = await dialAndGet(path);
      expect(status).toBe(200);
      expect(localPort).toBeGreaterThan(0);
      expect(body).toBe(`127.0.0.1:${localPort}`);
    }
  });

  it('is off by default: nginx gets no header, says so in its log and answers nothing', async () => {
    const cli = expose('/pp-off', []);
    expect(await waitForListening(cli)).not.toContain('PROXY');
    const link = await dial(relay.url('rwr', '/pp-off'), { timeoutMs: 10_000 });
    links.push(link);
    // nginx closes at once; through the relay that is a FIN or, with bytes unread, a reset.
    const answer = await httpGet(link).catch(() => ({ status: 0, body: '' }));
    expect(answer).toEqual({ status: 0, body: '' });
    expect(readFileSync(nginx?.errorLog ?? '', 'utf8')).toMatch(/broken header: "GET \/ HTTP\/1\.1/);
  });
});
