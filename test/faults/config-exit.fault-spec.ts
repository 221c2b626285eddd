/**
 * The relay as an operator starts it (`node dist/main.js`): a setting that is
 * bad against the machine (a CIDR, half a TLS pair, a file it cannot read)
 * stops the start with exit 2 and one message naming the setting, like every
 * other bad setting, and not "failed to start" (exit 1).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RELAY_MAIN } from './helpers/children';

function runRelay(args: string[]): Promise<{ code: number | null; stderr: string }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'remoted-config-exit-'));
  const child = spawn(process.execPath, [RELAY_MAIN, '--port', '0', '--grpc-port', '0', '--data-dir', dataDir, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      rmSync(dataDir, { recursive: true, force: true });
      resolve({ code, stderr });
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
