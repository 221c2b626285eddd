/**
 * 1,000 SDK listeners (in a few child processes) and a relay restart: every
 * one comes back by itself, with its reconnect delays under the recovery cap,
 * and the relay's accept queue does not overflow while they arrive (the
 * kernel's TcpExt ListenOverflows counter stays put). How long until all are
 * back is printed, not asserted (speed lives in `npm run bench`).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_RECONNECT } from '@remoted/sdk';
import { randomToken } from '@remoted/sdk/protocol';
import { ChildSet, type FaultChild, freePort, startRelayProcess } from './helpers/children';

const HERD_FIXTURE = join(__dirname, 'fixtures', 'sdk-listener-herd.js');
const LISTENERS = 1000;
const PROCESSES = 4;
/** Down long enough that a plain exponential backoff would have grown past the recovery cap. */
const DOWNTIME_MS = 3000;

/** TcpExt ListenOverflows from /proc/net/netstat: SYNs and ACKs dropped because an accept queue was full. */
function listenOverflows(): number {
  const lines = readFileSync('/proc/net/netstat', 'utf8').split('\n');
  const header = lines.find((l) => l.startsWith('TcpExt:'))?.split(/\s+/) ?? [];
  const values = lines.filter((l) => l.startsWith('TcpExt:'))[1]?.split(/\s+/) ?? [];
  const index = header.indexOf('ListenOverflows');
  if (index < 0) throw new Error('no TcpExt ListenOverflows in /proc/net/netstat');
  return Number(values[index]);
}

describe('1,000 listeners and a relay restart', () => {
  const children = new ChildSet();
  let dataDir: string | undefined;

  afterEach(async () => {
    await children.killAll();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    dataDir = undefined;
  });

  it('all come back, delays under the recovery cap, no accept-queue overflow', async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'remoted-faults-herd-'));
    const port = await freePort();
    const keys = { server: randomToken(), client: randomToken() };
    let relay: FaultChild = await startRelayProcess(children, { port, dataDir, keys });
    const perProcess = LISTENERS / PROCESSES;
    const herds = Array.from({ length: PROCESSES }, (_, n) =>
      children.spawnNode(HERD_FIXTURE, [], {
        RELAY: `rws://127.0.0.1:${port}`,
        REMOTED_KEY: keys.server,
        PATH_PREFIX: '/herd',
        COUNT: String(perProcess),
        FIRST: String(n * perProcess),
      }),
    );
    await Promise.all(herds.map((h) => h.nextEvent('all-open', 60_000)));
    const marks = herds.map((h) => h.events.length);

    await relay.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, DOWNTIME_MS));
    // Read before the new relay binds: its first accepts may come before the port check below answers.
    const overflowsBefore = listenOverflows();
    relay = await startRelayProcess(children, { port, dataDir, keys });
    // The port answers: from here on, the listeners' attempts are accepted.
    const acceptingAt = Date.now();
    const back = await Promise.all(herds.map((h, i) => h.nextEvent('all-open', 60_000, marks[i])));
    const overflowsAfter = listenOverflows();

    for (const h of herds) expect(h.events.filter((e) => e.event === 'error')).toEqual([]);
    for (const b of back) expect(b.maxDelayMs as number).toBeLessThan(DEFAULT_RECONNECT.recoveryMaxDelayMs);
    expect(overflowsAfter - overflowsBefore).toBe(0);
    const allBackMs = Math.max(...back.map((b) => b.at as number)) - acceptingAt;
    const retries = back.reduce((sum, b) => sum + (b.retries as number), 0);
    process.stdout.write(
      `[faults] herd: ${LISTENERS} listeners in ${PROCESSES} processes all back ${allBackMs} ms after the relay's port answered ` +
        `(down ${DOWNTIME_MS} ms; ${retries} retries in all; ListenOverflows +${overflowsAfter - overflowsBefore})\n`,
    );
  });
});
