/**
 * A dialer that does not read while the listener writes 1 GiB: the relay (a
 * real process) holds no more than its socket buffers, the writer is held
 * back, and once the dialer reads every byte arrives, in order.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dial, listen, type RemotedServer } from '@remoted/sdk';
import { randomToken } from '@remoted/sdk/protocol';
import { waitFor } from '../helpers/wait-for';
import { ChildSet, freePort, MIB, rssOf, startRelayProcess, within } from './helpers/children';

const TOTAL_BYTES = 1024 * MIB;
const CHUNK_BYTES = MIB;
const MAX_RELAY_GROWTH_BYTES = 64 * MIB;
/** The busy link moves to the relay's splice worker, a Node process of its own (~45 MiB before it holds anything), counted with the relay. */
const SPLICE_WORKER_ALLOWANCE = 64 * MIB;

describe('a dialer that never reads', () => {
  const children = new ChildSet();
  let dataDir: string | undefined;
  let server: RemotedServer | undefined;
  const sockets = new Set<Socket>();

  afterEach(async () => {
    for (const socket of sockets) socket.destroy();
    sockets.clear();
    if (server) await new Promise<void>((resolve) => server?.close(() => resolve()));
    server = undefined;
    await children.killAll();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    dataDir = undefined;
  });

  it('1 GiB from the listener: relay memory stays bounded while blocked, nothing lost on resume', async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'remoted-faults-bp-'));
    const port = await freePort();
    const keys = { server: randomToken(), client: randomToken() };
    const relay = await startRelayProcess(children, { port, dataDir, keys });

    const connection = new Promise<Socket>((resolve) => {
      server = listen(`rws://${keys.server}@127.0.0.1:${port}/bulk`, { pingIntervalMs: 0 });
      server.on('connection', (socket: Socket) => {
        sockets.add(socket);
        resolve(socket);
      });
    });
    const dialer = await dial(`rwr://${keys.client}@127.0.0.1:${port}/bulk`, { timeoutMs: 5000 });
    sockets.add(dialer);
    dialer.pause();
    const writer = await within(connection, 5000, 'the link on the listener side');
    const relayRssAtLink = rssOf(relay.pid);

    // The writer: 1 MiB chunks, each stamped with its index, honouring write() === false.
    const base = randomBytes(CHUNK_BYTES);
    const sentHash = createHash('sha256');
    let written = 0;
    let blocked = false;
    let lastProgressAt = Date.now();
    const writerDone = new Promise<void>((resolve, reject) => {
      writer.on('error', reject);
      const pump = (): void => {
        blocked = false;
        while (written < TOTAL_BYTES) {
          const chunk = Buffer.from(base);
          chunk.writeUInt32BE(written / CHUNK_BYTES, 0);
          chunk.writeUInt32BE(written / CHUNK_BYTES, CHUNK_BYTES - 4);
          sentHash.update(chunk);
          written += chunk.length;
          lastProgressAt = Date.now();
          if (!writer.write(chunk)) {
            blocked = true;
            writer.once('drain', pump);
            return;
          }
        }
        writer.end(resolve);
      };
      pump();
    });

    // Wait until the writer is held back and nothing moves for a second.
    await waitFor(() => blocked && Date.now() - lastProgressAt > 1000, 'the writer blocked by backpressure', 20_000, 50);
    let stalledPeak = 0;
    const writtenAtStall = written;
    for (let i = 0; i < 20; i++) {
      stalledPeak = Math.max(stalledPeak, rssOf(relay.pid));
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(written).toBe(writtenAtStall);
    expect(blocked).toBe(true);

    // Resume: read everything, count and hash it, watch the relay's RSS meanwhile.
    let transferPeak = 0;
    const sampler = setInterval(() => {
      transferPeak = Math.max(transferPeak, rssOf(relay.pid));
    }, 50);
    const receivedHash = createHash('sha256');
    let received = 0;
    const resumedAt = Date.now();
    try {
      await within(
        new Promise<void>((resolve, reject) => {
          dialer.on('data', (chunk: Buffer) => {
            received += chunk.length;
            receivedHash.update(chunk);
          });
          dialer.once('end', resolve);
          dialer.once('error', reject);
          dialer.resume();
        }),
        90_000,
        'the whole 1 GiB at the dialer',
      );
      await within(writerDone, 5000, 'the writer finishing');
    } finally {
      clearInterval(sampler);
    }
    const seconds = (Date.now() - resumedAt) / 1000;
    const sent = sentHash.digest('hex');
    const got = receivedHash.digest('hex');
    dialer.end();

    process.stdout.write(
      `[faults] backpressure: writer held at ${(writtenAtStall / MIB).toFixed(1)} MiB of 1024; relay RSS at link ${(relayRssAtLink / MIB).toFixed(1)} MiB, ` +
        `peak while blocked ${(stalledPeak / MIB).toFixed(1)} MiB (+${((stalledPeak - relayRssAtLink) / MIB).toFixed(1)}), peak during transfer ${(transferPeak / MIB).toFixed(1)} MiB (+${((transferPeak - relayRssAtLink) / MIB).toFixed(1)}); ` +
        `1 GiB read in ${seconds.toFixed(1)} s (${(TOTAL_BYTES / MIB / seconds).toFixed(0)} MiB/s), sha256 ${got.slice(0, 16)}\n`,
    );
    // Held back well before the end: the bytes in flight are socket buffers, not relay memory.
    expect(writtenAtStall).toBeLessThan(MAX_RELAY_GROWTH_BYTES);
    expect(stalledPeak - relayRssAtLink).toBeLessThan(MAX_RELAY_GROWTH_BYTES + SPLICE_WORKER_ALLOWANCE);
    // While bytes flow, garbage waits for GC: a looser bound, still far below what was sent.
    expect(transferPeak - relayRssAtLink).toBeLessThan(2 * MAX_RELAY_GROWTH_BYTES + SPLICE_WORKER_ALLOWANCE);
    expect(received).toBe(TOTAL_BYTES);
    expect(got).toBe(sent);
  });
});
