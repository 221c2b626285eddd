/** One measurement each, against any target; run.ts repeats and interleaves them. */
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { cpuSeconds, rssBytes } from './proc-stats';
import { percentile } from './stats';
import type { Target } from './targets';

const CHUNK = Buffer.alloc(1024 * 1024, 0x61);
const MB = 1e6;
const GIB = 1024 ** 3;

function readExactly(socket: Socket, n: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let got = 0;
    const onData = (chunk: Buffer): void => {
      chunks.push(chunk);
      got += chunk.length;
      if (got >= n) {
        socket.off('data', onData);
        socket.off('error', reject);
        socket.pause();
        resolve(Buffer.concat(chunks).subarray(0, n));
      }
    };
    socket.on('data', onData);
    socket.once('error', reject);
    socket.resume();
  });
}

/** Sends `bytes` one way to the sink on each of `streams` links; MB/s of all together, and the relay's CPU s per GiB. */
export async function throughput(target: Target, bytes: number, streams: number): Promise<{ mbPerS: number; cpuPerGiB: number | undefined }> {
  const sockets = await Promise.all(Array.from({ length: streams }, () => target.connect('sink')));
  const perStream = Math.floor(bytes / streams);
  const cpuBefore = target.relayPid ? cpuSeconds(target.relayPid) : 0;
  const started = performance.now();
  await Promise.all(
    sockets.map(async (socket) => {
      const answer = readExactly(socket, 8);
      let left = perStream;
      while (left > 0) {
        const chunk = left >= CHUNK.length ? CHUNK : CHUNK.subarray(0, left);
        left -= chunk.length;
        if (!socket.write(chunk)) await new Promise((r) => socket.once('drain', r));
      }
      socket.end();
      const counted = Number((await answer).readBigUInt64BE());
      if (counted !== perStream) throw new Error(`${target.name}: sink counted ${counted} of ${perStream} bytes`);
      socket.destroy();
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const cpuPerGiB = target.relayPid ? (cpuSeconds(target.relayPid) - cpuBefore) / ((perStream * streams) / GIB) : undefined;
  return { mbPerS: (perStream * streams) / MB / seconds, cpuPerGiB };
}

const FIRST_BYTE = Buffer.from('x');

/** Dial (or connect) to the first echoed byte, one link after another: µs each. */
export async function setupLatencies(target: Target, count: number): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < count; i++) {
    const started = performance.now();
    const socket = await target.connectSending('echo', FIRST_BYTE);
    await readExactly(socket, 1);
    samples.push((performance.now() - started) * 1000);
    socket.destroy();
  }
  return samples.sort((a, b) => a - b);
}

/** Links made and used (one echoed byte) per second with `concurrency` dialers at once. */
export async function linksPerSecond(target: Target, concurrency: number, total: number): Promise<number> {
  let started = 0;
  const begin = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (started < total) {
        started++;
        const socket = await target.connectSending('echo', FIRST_BYTE);
        await readExactly(socket, 1);
        socket.destroy();
      }
    }),
  );
  return total / ((performance.now() - begin) / 1000);
}

/** 64-byte messages echoed one at a time on one link: µs each, sorted. */
export async function roundTrips(target: Target, messages: number, socket?: Socket): Promise<number[]> {
  const link = socket ?? (await target.connect('echo'));
  const message = Buffer.alloc(64, 0x62);
  const samples: number[] = [];
  for (let i = 0; i < messages; i++) {
    const started = performance.now();
    link.write(message);
    await readExactly(link, message.length);
    samples.push((performance.now() - started) * 1000);
  }
  if (!socket) link.destroy();
  return samples.sort((a, b) => a - b);
}

export interface IdleResult {
  rssPerLinkBytes: number | undefined;
  openSeconds: number;
  rttP50WithIdleUs: number;
}

/** Opens `count` links and holds them idle: relay RSS per link, time to open them, and a busy link's round trip meanwhile. */
export async function idleLinks(target: Target, count: number, rttMessages: number): Promise<IdleResult> {
  const busy = await target.connect('echo');
  await roundTrips(target, 200, busy);
  const rssBefore = target.relayPid ? rssBytes(target.relayPid) : NaN;
  const held: Socket[] = [];
  const begin = performance.now();
  let opened = 0;
  await Promise.all(
    Array.from({ length: 64 }, async () => {
      while (opened < count) {
        opened++;
        const socket = await target.connect('echo');
        socket.write('i');
        await readExactly(socket, 1);
        held.push(socket);
      }
    }),
  );
  const openSeconds = (performance.now() - begin) / 1000;
  await new Promise((r) => setTimeout(r, 500));
  const rssAfter = target.relayPid ? rssBytes(target.relayPid) : NaN;
  const rtt = await roundTrips(target, rttMessages, busy);
  for (const socket of held) socket.destroy();
  busy.destroy();
  await new Promise((r) => setTimeout(r, 500));
  return {
    rssPerLinkBytes: target.relayPid ? (rssAfter - rssBefore) / count : undefined,
    openSeconds,
    rttP50WithIdleUs: percentile(rtt, 50),
  };
}
