/**
 * The relay's first start prints its generated keys with commands to use them
 * (src/keys/bootstrap-keys.ts). Each command is run here exactly as printed,
 * through a shell in the checkout: `npx remoted routes` and `npx buf curl`
 * answer, `npx remoted expose` listens and `npx remoted forward` forwards.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, RELAY_MAIN, REPO_ROOT } from './helpers/children';

interface Shell {
  child: ChildProcess;
  out: () => string;
  exited: Promise<number | null>;
}

/** `sh -c line` in its own process group, so that npx and what it starts end together. */
function shell(line: string): Shell {
  const child = spawn('sh', ['-c', line], { cwd: REPO_ROOT, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout?.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (out += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, out: () => out, exited };
}

async function waitForOutput(sh: Shell, pattern: RegExp, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!pattern.test(sh.out())) {
    if (sh.child.exitCode !== null) throw new Error(`exited ${sh.child.exitCode} before ${pattern}: ${sh.out()}`);
    if (Date.now() > deadline) throw new Error(`no ${pattern} within ${timeoutMs} ms: ${sh.out()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('the first-start hint', () => {
  const started: ChildProcess[] = [];
  let dataDir: string | undefined;

  afterEach(async () => {
    for (const child of started.splice(0)) {
      if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) continue;
      const gone = new Promise((resolve) => child.once('exit', resolve));
      process.kill(-child.pid, 'SIGKILL');
      await gone;
    }
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    dataDir = undefined;
  });

  it('prints npx remoted and npx buf curl commands that run as printed', async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'remoted-faults-hint-'));
    const [port, grpcPort] = [await freePort(), await freePort()];
    const relay = spawn(process.execPath, [RELAY_MAIN, '--port', String(port), '--grpc-port', String(grpcPort), '--data-dir', dataDir, '--log-level', 'warn'], {
      detached: true,
      env: { ...process.env, REMOTED_STATUS_PORT: '0' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    started.push(relay);
    let hint = '';
    relay.stdout?.on('data', (chunk: Buffer) => (hint += chunk.toString()));
    const relayShell: Shell = { child: relay, out: () => hint, exited: new Promise((r) => relay.once('exit', r)) };
    await waitForOutput(relayShell, /run the npx commands/);

    const command = (pattern: RegExp): string => {
      const line = hint.split('\n').find((l) => pattern.test(l));
      if (!line) throw new Error(`no ${pattern} in the hint:\n${hint}`);
      return line.replace(/^\s*(administer|listen with|dial with)?\s*/, '');
    };
    expect(hint).toMatch(new RegExp(`grpcurl -plaintext -H 'authorization: Bearer \\w+' 127\\.0\\.0\\.1:${grpcPort} remoted\\.admin\\.v1\\.RouteService/ListRoutes`));

    const expose = shell(command(/npx remoted expose/));
    started.push(expose.child);
    await waitForOutput(expose, new RegExp(`listening on rws://127\\.0\\.0\\.1:${port}/ssh`));

    const routes = shell(command(/npx remoted routes/));
    expect(await routes.exited).toBe(0);
    expect(routes.out()).toMatch(/^PATH\s+ROUTE/m);
    expect(routes.out()).toMatch(/^\/ssh\s/m);

    const curl = shell(command(/npx buf curl/));
    expect(await curl.exited).toBe(0);
    expect(JSON.parse(curl.out()) as { routes: Array<{ path: string }> }).toMatchObject({ routes: [{ path: '/ssh' }] });

    // The one change to a printed command: port 0 for the local port, which another test may hold.
    const forward = shell(command(/npx remoted forward/).replace('--listen 127.0.0.1:2222', '--listen 127.0.0.1:0'));
    started.push(forward.child);
    await waitForOutput(forward, new RegExp(`forwarding 127\\.0\\.0\\.1:\\d+ to rwr://127\\.0\\.0\\.1:${port}/ssh`));
  });
});
