/**
 * `remoted expose` (a real CLI process) across five restarts of a real relay
 * process on the same port, SIGTERM and SIGKILL in turn: after each one the
 * route comes back by itself and a dial links to the local service, and every
 * reconnect delay it logged stays under the SDK's recovery cap (2 s), though
 * the relay was down long enough for plain exponential backoff to pass it.
 * Time from the relay's port answering to `listening again` is printed
 * (median and worst), not asserted.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dial, DEFAULT_RECONNECT } from '@remoted/sdk';
import { randomToken } from '@remoted/sdk/protocol';
import { type CliProcess as Cli, runCli, stop } from '../helpers/cli-process';
import { startEchoServer } from '../sdk/sdk-helpers';
import { ChildSet, type FaultChild, freePort, startRelayProcess, within } from './helpers/children';

const RESTARTS = 5;
const DOWNTIME_MS = 3000;

async function echoOnce(url: string, key: string, text: string): Promise<string> {
  const socket = await dial(url, { key, timeoutMs: 5000 });
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.once('end', () => {
      socket.destroy();
      resolve(Buffer.concat(chunks).toString());
    });
    socket.once('error', reject);
    socket.end(text);
  });
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

describe('remoted expose across relay restarts', () => {
  const children = new ChildSet();
  let dataDir: string | undefined;
  let expose: Cli | undefined;
  let echo: Awaited<ReturnType<typeof startEchoServer>> | undefined;

  afterEach(async () => {
    if (expose) await stop(expose);
    expose = undefined;
    await children.killAll();
    await echo?.close();
    echo = undefined;
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    dataDir = undefined;
  });

  it('comes back after each of 5 restarts, links again, and never waits past the recovery cap', async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'remoted-faults-expose-'));
    echo = await startEchoServer();
    const port = await freePort();
    const keys = { server: randomToken(), client: randomToken() };
    let relay: FaultChild = await startRelayProcess(children, { port, dataDir, keys });
    const cli = runCli(['expose', `rws://127.0.0.1:${port}/svc`, '--to', `127.0.0.1:${echo.port}`], { REMOTED_KEY: keys.server });
    expose = cli;
    await cli.waitForLog(/listening on rws:\/\/127\.0\.0\.1:\d+\/svc/);
    const dialUrl = `rwr://127.0.0.1:${port}/svc`;
    expect(await echoOnce(dialUrl, keys.client, 'before')).toBe('before');

    const backMs: number[] = [];
    for (let n = 1; n <= RESTARTS; n++) {
      await relay.kill(n % 2 === 1 ? 'SIGTERM' : 'SIGKILL');
      await cli.waitForLog(new RegExp(`(?:lost the route[^\\n]*\\n[\\s\\S]*){${n}}`));
      await new Promise((r) => setTimeout(r, DOWNTIME_MS));
      relay = await startRelayProcess(children, { port, dataDir, keys });
      const acceptingAt = Date.now();
      await cli.waitForLog(new RegExp(`(?:listening again on[^\\n]*\\n[\\s\\S]*){${n}}`), 30_000);
      backMs.push(Date.now() - acceptingAt);
      expect(await within(echoOnce(dialUrl, keys.client, `after restart ${n}`), 10_000, `a dial after restart ${n}`)).toBe(`after restart ${n}`);
    }

    const delays = [...cli.stderr().matchAll(/reconnect attempt \d+ in (\d+) ms/g)].map((m) => Number(m[1]));
    expect(delays.length).toBeGreaterThanOrEqual(RESTARTS);
    for (const delay of delays) expect(delay).toBeLessThan(DEFAULT_RECONNECT.recoveryMaxDelayMs);
    expect(cli.child.exitCode).toBeNull();
    process.stdout.write(
      `[faults] expose restarts: back ${backMs.join(', ')} ms after the relay's port answered; median ${median(backMs)} ms, worst ${Math.max(...backMs)} ms; ` +
        `${delays.length} retries, largest delay ${Math.max(...delays)} ms\n`,
    );
  });
});
