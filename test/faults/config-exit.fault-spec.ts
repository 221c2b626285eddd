/**
 * The relay as an operator starts it (`node dist/main.js`): a setting that is
 * bad against the machine (a CIDR, half a TLS pair, a file it cannot read)
 * stops the start with exit 2 and one message naming the setting, like every
 * other bad setting, and not "failed to start" (exit 1). So does a port that
 * is taken: the message names the setting to change.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RELAY_MAIN } from './helpers/children';

function runRelay(args: string[], base: string[] = ['--port', '0', '--grpc-port', '0']): Promise<{ code: number | null; stderr: string; stdout: string }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'remoted-config-exit-'));
  const child = spawn(process.execPath, [RELAY_MAIN, ...base, '--data-dir', dataDir, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, REMOTED_STATUS_PORT: '0' } });
  let stderr = '';
  let stdout = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      rmSync(dataDir, { recursive: true, force: true });
      resolve({ code, stderr, stdout });
    });
  });
}

describe('bad settings found at start', () => {
  it.each([
    [['--trusted-proxies', '10.0.0.0/99'], /REMOTED_TRUSTED_PROXIES \(--trusted-proxies\): .*10\.0\.0\.0\/99/],
    [['--tls-cert', '/nonexistent/cert.pem'], /REMOTED_TLS_KEY \(--tls-key\): missing/],
    [['--grpc-tls-cert', '/nonexistent/c.pem', '--grpc-tls-key', '/nonexistent/k.pem'], /REMOTED_GRPC_TLS_CERT \(--grpc-tls-cert\): cannot read \/nonexistent\/c\.pem \(ENOENT\)/],
  ])('%j exits 2 naming the setting', async (args, message) => {
    const { code, stderr } = await runRelay(args);
    expect(code).toBe(2);
    expect(stderr).toMatch(/^remoted: invalid configuration:/);
    expect(stderr).toMatch(message);
    expect(stderr).not.toMatch(/failed to start/);
  });
});

describe('a port already taken', () => {
  let holder: Server;
  let taken: number;
  beforeAll(async () => {
    holder = createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    taken = (holder.address() as { port: number }).port;
  });
  afterAll(() => new Promise<void>((resolve) => holder.close(() => resolve())));

  it.each([
    ['the data port', ['--port', 'TAKEN', '--grpc-port', '0'], 'REMOTED_PORT, --port'],
    ['the control plane port', ['--port', '0', '--grpc-port', 'TAKEN'], 'REMOTED_GRPC_PORT, --grpc-port'],
    ['the metrics port', ['--port', '0', '--grpc-port', '0', '--metrics-port', 'TAKEN'], 'REMOTED_METRICS_PORT, --metrics-port'],
  ])('%s: exit 2, naming the setting to change', async (_what, base, setting) => {
    const { code, stderr, stdout } = await runRelay(['--host', '127.0.0.1', '--grpc-host', '127.0.0.1', '--log-level', 'silent'], base.map((a) => (a === 'TAKEN' ? String(taken) : a)));
    expect(code).toBe(2);
    expect(stderr).toBe(
      `remoted: invalid configuration:\n  port ${taken} (${setting}) is in use on 127.0.0.1: stop what holds it, or set ${setting} to a free port (0 picks one)\n`,
    );
    // Nothing was announced: no first-start keys for a relay that did not start.
    expect(stdout).toBe('');
  });

  it('the data port binds first: a relay that cannot have it announces no control plane', async () => {
    const { code, stderr } = await runRelay(['--host', '127.0.0.1', '--grpc-host', '127.0.0.1', '--log-level', 'info'], ['--port', String(taken), '--grpc-port', '0']);
    expect(code).toBe(2);
    expect(stderr).toMatch(/^ {2}port \d+ \(REMOTED_PORT, --port\) is in use/m);
    expect(stderr).not.toMatch(/control plane listening/);
  });
});
