/**
 * A pool of listener processes on one path loses a member to SIGKILL while
 * dials keep coming: every dial made once the relay has seen the member go
 * is linked by the others, and only links the dead member held are lost.
 */
import { randomBytes } from 'node:crypto';
import { dial } from '@remoted/sdk';
import { startRelay, type StartedRelay } from '../helpers/start-relay';
import { waitFor } from '../helpers/wait-for';
import { ChildSet, SDK_LISTENER, within } from './helpers/children';
import { relayCounts } from './helpers/relay-state';

const DIALERS = 8;
const RUN_MS = 3000;
const KILL_AT_MS = 1000;

interface DialOutcome {
  startedAt: number;
  ok: boolean;
}

/** One dial, 1 KiB echoed, closed. */
async function echoOnce(url: string): Promise<boolean> {
  try {
    const socket = await dial(url, { timeoutMs: 5000 });
    socket.on('error', () => undefined);
    const block = randomBytes(1024);
    const echoed = await within(
      new Promise<Buffer>((resolve, reject) => {
        let got = Buffer.alloc(0);
        socket.on('data', (chunk: Buffer) => {
          got = Buffer.concat([got, chunk]);
          if (got.length >= block.length) resolve(got);
        });
        socket.once('close', () => reject(new Error('closed before the echo')));
        socket.write(block);
      }),
      5000,
      'the echo',
    );
    socket.destroy();
    return echoed.equals(block);
  } catch {
    return false;
  }
}

describe('pool member killed', () => {
  const children = new ChildSet();
  let relay: StartedRelay | undefined;

  afterEach(async () => {
    await children.killAll();
    await relay?.close();
    relay = undefined;
  });

  for (const spares of [0, 4]) {
    it(`SIGKILL of one of three members (spares ${spares}): dials keep being linked by the others`, async () => {
      relay = await startRelay({ routes: { policy: 'pool', poolSize: 3, poolDialbackDeadlineMs: 500 }, sweepIntervalMs: 50 });
      const r = relay;
      const members = [0, 1, 2].map(() => children.spawnNode(SDK_LISTENER, [], { LISTEN_URL: r.url('rws', '/pool'), MODE: 'echo', SPARES: String(spares) }));
      await Promise.all(members.map((m) => m.nextEvent('listening')));
      expect(relayCounts(r).listeners).toBe(3);

      const outcomes: DialOutcome[] = [];
      const started = Date.now();
      const workers = Array.from({ length: DIALERS }, async () => {
        while (Date.now() - started < RUN_MS) {
          const startedAt = Date.now();
          outcomes.push({ startedAt, ok: await echoOnce(r.url('rwr', '/pool')) });
        }
      });
      await new Promise((resolve) => setTimeout(resolve, KILL_AT_MS));
      const victim = members[0];
      await victim.kill('SIGKILL');
      await waitFor(() => relayCounts(r).listeners === 2, 'the relay dropping the dead member', 2000);
      const seenAt = Date.now();
      await Promise.all(workers);

      const after = outcomes.filter((o) => o.startedAt >= seenAt);
      const failed = outcomes.filter((o) => !o.ok);
      process.stdout.write(
        `[faults] pool member SIGKILL (spares ${spares}): ${outcomes.length} dials, ${failed.length} failed (all started before the relay saw the kill: ${failed.every((o) => o.startedAt < seenAt)}), ${after.length} after, seen ${seenAt - started - KILL_AT_MS} ms after the kill\n`,
      );
      expect(after.length).toBeGreaterThan(20);
      expect(after.every((o) => o.ok)).toBe(true);
      // At most the dials in flight on the dead member at the kill are lost.
      expect(failed.length).toBeLessThanOrEqual(DIALERS);
      expect(members.slice(1).every((m) => m.running)).toBe(true);
    });
  }
});
