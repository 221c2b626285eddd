/**
 * 5,000 links opened and closed in waves against an in-process relay: the
 * relay keeps no socket, registry entry, handle or memory from any of them.
 * Needs `node --expose-gc` (npm run test:faults does that).
 */
import type { Socket } from 'node:net';
import { dial, listen, type RemotedServer } from '@remoted/sdk';
import { startRelay, type StartedRelay } from '../helpers/start-relay';
import { waitFor } from '../helpers/wait-for';
import { MIB, within } from './helpers/children';
import { relayCounts, sameCounts, ZERO } from './helpers/relay-state';

const WAVES = 10;
const LINKS_PER_WAVE = 500;

function collectGarbage(): void {
  if (!global.gc) throw new Error('run this suite with node --expose-gc (npm run test:faults)');
  for (let i = 0; i < 3; i++) global.gc();
}

/** Handles keeping the event loop alive, by kind (TCPSocketWrap, Timeout, ...). */
function handleCounts(): Map<string, number> {
  const counts = new Map<string, number>();
  for (const kind of process.getActiveResourcesInfo()) counts.set(kind, (counts.get(kind) ?? 0) + 1);
  return counts;
}

function total(counts: Map<string, number>): number {
  let n = 0;
  for (const v of counts.values()) n += v;
  return n;
}

async function settle(): Promise<void> {
  await new Promise((r) => setTimeout(r, 200));
  collectGarbage();
  await new Promise((r) => setImmediate(r));
  collectGarbage();
}

/** One link: dial, send a line, read its echo to the end, close. */
async function echoLink(url: string, text: string): Promise<void> {
  const socket = await dial(url, { timeoutMs: 20_000 });
  const echoed = await new Promise<string>((resolve, reject) => {
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.once('end', () => resolve(Buffer.concat(chunks).toString()));
    socket.once('error', reject);
    socket.end(text);
  });
  socket.destroy();
  if (echoed !== text) throw new Error(`echo mismatch: sent ${JSON.stringify(text)}, got ${JSON.stringify(echoed)}`);
}

describe('5,000 links in waves', () => {
  let relay: StartedRelay | undefined;
  let server: RemotedServer | undefined;
  const served = new Set<Socket>();

  afterEach(async () => {
    for (const socket of served) socket.destroy();
    served.clear();
    if (server) await new Promise<void>((resolve) => server?.close(() => resolve()));
    server = undefined;
    await relay?.close();
    relay = undefined;
  });

  it('leaves no socket, handle, registry entry or memory behind', async () => {
    relay = await startRelay();
    const r = relay;
    // No spares: their number follows demand, and this counts the relay's sockets and our handles exactly.
    const srv = listen(r.url('rws', '/echo'), { pingIntervalMs: 0, spares: 0 });
    server = srv;
    srv.on('connection', (socket: Socket) => {
      served.add(socket);
      socket.on('close', () => served.delete(socket));
      socket.on('error', () => socket.destroy());
      socket.pipe(socket);
    });
    await within(new Promise<void>((resolve) => srv.once('listening', () => resolve())), 5000, 'listening');
    const url = r.url('rwr', '/echo');
    const idle = { listeners: 1, waitingDialers: 0, links: 0, sockets: 1 };

    // Warm-up (not counted): first-use allocations, JIT, pools.
    await Promise.all(Array.from({ length: 100 }, (_, i) => echoLink(url, `warm-up ${i}`)));
    await waitFor(() => sameCounts(relayCounts(r), idle) && served.size === 0, 'warm-up links closed', 10_000);
    await settle();
    const handlesBefore = handleCounts();
    const rssBefore = process.memoryUsage().rss;
    const heapBefore = process.memoryUsage().heapUsed;

    const startedAt = Date.now();
    let peakRelaySockets = 0;
    for (let wave = 0; wave < WAVES; wave++) {
      const links = Array.from({ length: LINKS_PER_WAVE }, (_, i) => echoLink(url, `wave ${wave} link ${i}`));
      const sampler = setInterval(() => {
        peakRelaySockets = Math.max(peakRelaySockets, relayCounts(r).sockets);
      }, 5);
      try {
        await within(Promise.all(links), 60_000, `wave ${wave}`);
      } finally {
        clearInterval(sampler);
      }
      await waitFor(() => sameCounts(relayCounts(r), idle), `wave ${wave}: relay back to idle (now ${JSON.stringify(relayCounts(r))})`, 10_000);
    }
    const elapsedMs = Date.now() - startedAt;
    await waitFor(() => served.size === 0, 'served sockets closed', 5000);
    await settle();
    const handlesAfter = handleCounts();
    const rssAfter = process.memoryUsage().rss;
    const heapAfter = process.memoryUsage().heapUsed;

    const fmt = (m: Map<string, number>): string => JSON.stringify(Object.fromEntries(m));
    process.stdout.write(
      `[faults] ${WAVES * LINKS_PER_WAVE} links in ${WAVES} waves: ${elapsedMs} ms (${Math.round((WAVES * LINKS_PER_WAVE * 1000) / elapsedMs)} links/s), peak relay sockets ${peakRelaySockets}\n` +
        `[faults]   handles before ${total(handlesBefore)} ${fmt(handlesBefore)}, after ${total(handlesAfter)} ${fmt(handlesAfter)}\n` +
        `[faults]   rss before ${(rssBefore / MIB).toFixed(1)} MiB, after ${(rssAfter / MIB).toFixed(1)} MiB (${(((rssAfter - rssBefore) / rssBefore) * 100).toFixed(1)} %); heap used ${(heapBefore / MIB).toFixed(1)} -> ${(heapAfter / MIB).toFixed(1)} MiB\n`,
    );

    // The waves really ran in parallel: many links were up at once.
    expect(peakRelaySockets).toBeGreaterThan(100);
    expect(relayCounts(r)).toEqual(idle);
    expect(handlesAfter.get('TCPSocketWrap') ?? 0).toBe(handlesBefore.get('TCPSocketWrap') ?? 0);
    expect(Math.abs(total(handlesAfter) - total(handlesBefore))).toBeLessThanOrEqual(5);
    expect(rssAfter).toBeLessThanOrEqual(rssBefore * 1.1);

    // And with the listener gone, the relay holds nothing at all.
    await new Promise<void>((resolve) => srv.close(() => resolve()));
    server = undefined;
    await waitFor(() => sameCounts(relayCounts(r), ZERO), `relay empty (now ${JSON.stringify(relayCounts(r))})`, 5000);
  });
});
