/**
 * Fuzzed upgrade requests (fast-check): random methods, paths, header names
 * and values, lengths and trailing bytes, written in pieces with small
 * delays. Each gets a status of the protocol's table (or a valid 101) or a
 * close; never a crash, never a hang, and a live link keeps echoing.
 */
import { connect, type Socket } from 'node:net';
import fc from 'fast-check';
import { ERROR_STATUS, isErrorCode, randomToken } from '@remoted/sdk/protocol';
import { readBytes } from '../helpers/raw-http';
import { linkedSocket, makeLink, TestListener } from '../helpers/relay-peers';
import { startRelay, type StartedRelay } from '../helpers/start-relay';
import { waitFor } from '../helpers/wait-for';
import { within } from './helpers/children';
import { relayCounts, sameCounts } from './helpers/relay-state';

const RUNS = 300;
const CHECK_EVERY = 25;
const HEADER_TIMEOUT_MS = 300;
/** Statuses of PROTOCOL.md's error table, the 504 of a dialer's timeout, and 429 of throttling (extension). */
const SPEC_STATUSES = new Set([400, 403, 409, 426, 429, 431, 502, 503, 504]);

interface FuzzRequest {
  /** The method, when the bytes are a request head at all. */
  method: string | undefined;
  bytes: Buffer;
  splits: number[];
  delaysMs: number[];
}

type Outcome = { kind: 'closed' } | { kind: 'status'; status: number; head: string; body: string; closed: boolean };

function requestArbitrary(keys: { server: string; client: string }): fc.Arbitrary<FuzzRequest> {
  const token = fc.stringMatching(/^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,24}$/);
  // Mostly plausible requests, so that most reach the relay's own checks, not only Node's parser.
  const method = fc.oneof(
    { weight: 8, arbitrary: fc.constantFrom('GET', 'GET', 'GET', 'GET', 'POST', 'PUT', 'HEAD', 'DELETE', 'OPTIONS', 'PATCH', 'CONNECT', 'TRACE', 'get', 'PRI') },
    { weight: 1, arbitrary: token },
    { weight: 1, arbitrary: fc.string({ maxLength: 8, unit: 'binary' }) },
  );
  const path = fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom('/fz', '/fz/a?b=c', '/', '*', '//fz', '/fz%00', 'http://h/fz', '/fz#x', '?q') },
    { weight: 3, arbitrary: fc.stringMatching(/^\/f[\x21-\x7e]{0,40}$/) },
    { weight: 1, arbitrary: fc.string({ maxLength: 30, unit: 'binary' }) },
  );
  const headerName = fc.oneof(
    { weight: 8, arbitrary: fc.constantFrom(
      'Upgrade', 'Connection', 'WebRoute-Version', 'WebRoute-ID', 'WebRoute-Timeout', 'X-Remoted-APIKey', 'Sec-WebSocket-Key',
      'Sec-WebSocket-Version', 'Host', 'Content-Length', 'Transfer-Encoding', 'X-Remoted-Features', 'X-Forwarded-For', 'Origin', 'Expect',
    ) },
    { weight: 3, arbitrary: token },
    { weight: 1, arbitrary: fc.string({ maxLength: 20, unit: 'binary' }) },
  );
  const headerValue = fc.oneof(
    { weight: 8, arbitrary: fc.constantFrom(
      'websocket', 'webroute', 'Upgrade', 'keep-alive, Upgrade', '1', '2', '0', '-1', '13', '99999999999999999999', keys.client, keys.server,
      'dGhlIHNhbXBsZSBub25jZQ==', 'chunked', '100000', 'early-data', '100-continue',
    ) },
    { weight: 3, arbitrary: fc.string({ maxLength: 100 }) },
    { weight: 1, arbitrary: fc.string({ maxLength: 40, unit: 'binary' }) },
    { weight: 1, arbitrary: fc.integer({ min: 0, max: 24_000 }).map((n) => 'v'.repeat(n)) },
  );
  const template = fc.constantFrom('webroute-client', 'webroute-server', 'websocket-server', 'websocket-client', 'none');
  const head = fc
    .record({
      method,
      path,
      version: fc.oneof({ weight: 12, arbitrary: fc.constant('HTTP/1.1') }, { weight: 3, arbitrary: fc.constantFrom('HTTP/1.0', 'HTTP/2.0', 'HTTP/1.1x', '') }),
      template,
      keep: fc.array(fc.integer({ min: 0, max: 3 }).map((n) => n > 0), { minLength: 8, maxLength: 8 }),
      extra: fc.array(fc.tuple(headerName, headerValue), { maxLength: 4 }),
      eol: fc.oneof({ weight: 9, arbitrary: fc.constant('\r\n') }, { weight: 1, arbitrary: fc.constant('\n') }),
      terminated: fc.integer({ min: 0, max: 9 }).map((n) => n > 0),
      trailing: fc.oneof({ weight: 2, arbitrary: fc.constant(new Uint8Array(0)) }, { weight: 1, arbitrary: fc.uint8Array({ maxLength: 300 }) }),
    })
    .map(({ method, path, version, template, keep, extra, eol, terminated, trailing }) => {
      const base: Array<[string, string]> = [['Host', '127.0.0.1']];
      if (template.startsWith('webroute')) {
        base.push(['Connection', 'keep-alive, Upgrade'], ['Upgrade', 'webroute'], ['WebRoute-Version', '1'], ['WebRoute-ID', randomToken()]);
      } else if (template.startsWith('websocket')) {
        base.push(['Connection', 'Upgrade'], ['Upgrade', 'websocket'], ['Sec-WebSocket-Version', '13'], ['Sec-WebSocket-Key', 'dGhlIHNhbXBsZSBub25jZQ==']);
      }
      if (template.endsWith('client')) base.push(['X-Remoted-APIKey', keys.client]);
      if (template.endsWith('server')) base.push(['X-Remoted-APIKey', keys.server]);
      const headers = [...base.filter((_, i) => i === 0 || keep[i % keep.length]), ...extra];
      let text = `${method} ${path} ${version}`.trimEnd() + eol;
      for (const [name, value] of headers) text += `${name}: ${value}${eol}`;
      if (terminated) text += eol;
      return { method, bytes: Buffer.concat([Buffer.from(text, 'utf8'), Buffer.from(trailing)]) };
    });
  const raw = fc.uint8Array({ minLength: 1, maxLength: 2000 }).map((a) => ({ method: undefined, bytes: Buffer.from(a) }));
  const message = fc.oneof({ weight: 9, arbitrary: head }, { weight: 1, arbitrary: raw });
  return fc.record({
    message,
    splits: fc.array(fc.nat(), { maxLength: 6 }),
    delaysMs: fc.array(fc.integer({ min: 0, max: 5 }), { minLength: 6, maxLength: 6 }),
  }).map(({ message, splits, delaysMs }) => ({ ...message, splits, delaysMs }));
}

/** Writes the request in pieces, then waits for a response head or a close. */
async function send(port: number, request: FuzzRequest): Promise<Outcome> {
  const socket: Socket = connect({ port, host: '127.0.0.1' });
  socket.on('error', () => undefined);
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  let received = Buffer.alloc(0);
  let closed = false;
  socket.on('data', (chunk: Buffer) => {
    received = Buffer.concat([received, chunk]);
  });
  socket.once('close', () => {
    closed = true;
  });
  const { bytes } = request;
  const cuts = [...new Set(request.splits.map((s) => s % (bytes.length + 1)))].sort((a, b) => a - b);
  let from = 0;
  for (const [i, cut] of [...cuts, bytes.length].entries()) {
    if (closed) break;
    if (cut > from) socket.write(bytes.subarray(from, cut));
    from = Math.max(from, cut);
    const delay = request.delaysMs[i % request.delaysMs.length];
    if (delay > 0) await new Promise((r) => setTimeout(r, delay));
  }
  const headEnd = (): number => received.indexOf('\r\n\r\n');
  const is101 = (): boolean => /^HTTP\/1\.1 101 /.test(received.toString('latin1', 0, 16));
  // A refusal is written and closed at once; an unfinished request is closed after the
  // header timeout. A response that is not followed by a close gets a short grace.
  const deadline = Date.now() + HEADER_TIMEOUT_MS + 3000;
  let headSeenAt: number | undefined;
  try {
    while (!closed && !is101()) {
      if (headSeenAt === undefined && headEnd() !== -1) headSeenAt = Date.now();
      if (headSeenAt !== undefined && Date.now() - headSeenAt > 500) break;
      if (Date.now() > deadline) throw new Error(`neither a response nor a close within ${HEADER_TIMEOUT_MS + 3000} ms`);
      await new Promise((r) => setTimeout(r, 5));
    }
  } finally {
    socket.destroy();
  }
  if (received.length === 0) return { kind: 'closed' };
  const text = received.toString('latin1');
  const end = headEnd();
  // Each header line of `head` ends with CRLF, the last one too.
  const head = end === -1 ? text : text.slice(0, end + 2);
  const match = /^HTTP\/1\.1 (\d{3}) /.exec(head);
  return { kind: 'status', status: match ? Number(match[1]) : NaN, head, body: end === -1 ? '' : text.slice(end + 4), closed };
}

/** The protocol's refusal: its status, a JSON body with a matching errorcode (or the 426/504 form), and a close. */
function checkRefusal(outcome: Extract<Outcome, { kind: 'status' }>, method: string | undefined): void {
  const line = outcome.head.split('\r\n')[0];
  expect(SPEC_STATUSES.has(outcome.status) ? outcome.status : line).toBe(outcome.status);
  expect(outcome.closed ? 'closed' : `not closed after: ${line}`).toBe('closed');
  expect(outcome.head).toMatch(/\r\nConnection: close\r\n/i);
  if (outcome.status === 426 || outcome.status === 504) {
    expect(outcome.head).toMatch(/\r\nWebRoute-Version: 1\r\n/i);
    return;
  }
  expect(outcome.head).toMatch(/\r\nContent-Type: application\/json\r\n/i);
  expect(outcome.head).toMatch(/\r\nCache-Control: no-cache/i);
  // A response to HEAD has no body.
  if (method === 'HEAD') return;
  const body = JSON.parse(outcome.body) as { success: unknown; errorcode: unknown };
  expect(body.success).toBe(false);
  expect(typeof body.errorcode === 'string' && isErrorCode(body.errorcode) ? ERROR_STATUS[body.errorcode] : body.errorcode).toBe(outcome.status);
}

describe('fuzzed upgrade requests', () => {
  let relay: StartedRelay | undefined;
  let listener: TestListener | undefined;
  const sockets = new Set<Socket>();

  afterEach(async () => {
    for (const socket of sockets) socket.destroy();
    sockets.clear();
    await listener?.close();
    listener = undefined;
    await relay?.close();
    relay = undefined;
  });

  it(`${RUNS} random requests: a spec status or a close each, and a live link keeps echoing`, async () => {
    relay = await startRelay({ limits: { headerTimeoutMs: HEADER_TIMEOUT_MS } });
    const r = relay;
    // The live route's name cannot come out of the generators.
    const livePath = `/live-${randomToken(16)}`;
    const l = await TestListener.open(r.port, livePath, r.keys.server);
    listener = l;
    const pair = await makeLink(r.port, livePath, l, r.keys);
    const a = linkedSocket(pair.dialer);
    const b = linkedSocket(pair.listenerSide);
    sockets.add(a).add(b);
    b.on('data', (chunk: Buffer) => b.write(chunk)).resume();
    let roundTrips = 0;
    const roundTrip = async (): Promise<void> => {
      const text = `ping ${roundTrips++}`;
      a.write(text);
      expect((await readBytes(a, text.length, undefined, 2000)).toString()).toBe(text);
    };
    const steady = { listeners: 1, waitingDialers: 0, links: 1, sockets: 3 };

    const tally = new Map<string, number>();
    let run = 0;
    const startedAt = Date.now();
    await fc.assert(
      fc.asyncProperty(requestArbitrary(r.keys), async (request) => {
        const outcome = await send(r.port, request);
        const label = outcome.kind === 'closed' ? 'close' : String(outcome.status);
        tally.set(label, (tally.get(label) ?? 0) + 1);
        if (outcome.kind === 'status') {
          if (outcome.status === 101) {
            // Only a complete, valid WebSocket handshake with a server key may be switched.
            expect(outcome.head).toMatch(/\r\nUpgrade: websocket\r\n/i);
            expect(outcome.head).toMatch(/\r\nSec-WebSocket-Accept: /i);
          } else {
            checkRefusal(outcome, request.method);
          }
        }
        // Whatever the request opened (a listener, a waiting dialer) is gone once its socket is.
        await waitFor(() => sameCounts(relayCounts(r), steady), `relay back to steady (now ${JSON.stringify(relayCounts(r))})`, 2000, 5);
        if (++run % CHECK_EVERY === 0) await roundTrip();
      }),
      { numRuns: RUNS, endOnFailure: true },
    );
    const elapsedMs = Date.now() - startedAt;
    await roundTrip();
    expect(l.notices).toHaveLength(0);
    // And a new link is made as usual afterwards.
    const again = await within(makeLink(r.port, livePath, l, r.keys, { dialerExtra: 'new' }), 5000, 'a new link');
    sockets.add(again.dialer.socket).add(again.listenerSide.socket);
    expect((await readBytes(linkedSocket(again.listenerSide), 3)).toString()).toBe('new');
    process.stdout.write(`[faults] fuzz: ${run} requests in ${elapsedMs} ms, outcomes ${JSON.stringify(Object.fromEntries([...tally].sort()))}, ${roundTrips} live round trips\n`);
    expect(run).toBe(RUNS);
  });

  // Found by this fuzz: Express or Node answered these plain requests themselves.
  it('plain requests that miss the fallback get the protocol 400 and a close', async () => {
    relay = await startRelay({ limits: { headerTimeoutMs: HEADER_TIMEOUT_MS } });
    const cases: Array<[string, string]> = [
      ['GET', 'GET * HTTP/1.1\r\nHost: x\r\n\r\n'],
      ['OPTIONS', 'OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n'],
      ['GET', 'GET /%zz HTTP/1.1\r\nHost: x\r\n\r\n'],
      ['GET', 'GET /x HTTP/1.1\r\nHost: x\r\nExpect: foo\r\n\r\n'],
      ['GET', 'GET /x HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n\r\n'],
    ];
    for (const [method, text] of cases) {
      const outcome = await send(relay.port, { method, bytes: Buffer.from(text), splits: [], delaysMs: [0] });
      expect(outcome.kind).toBe('status');
      if (outcome.kind !== 'status') continue;
      expect(outcome.status).toBe(400);
      checkRefusal(outcome, method);
    }
  });
});
