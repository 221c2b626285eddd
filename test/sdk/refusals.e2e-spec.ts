/** Every refusal surfaces as a RemotedError with the relay's code and status. */
import { createServer, type Server, type Socket } from 'node:net';
import { PassThrough } from 'node:stream';
import { WebSocket } from 'ws';
import { dial, listen, RemotedError, type RemotedServer } from '@remoted/sdk';
import { WIRE_HEADER_API_KEY, webRouteAccept } from '@remoted/sdk/protocol';
import { startRelay, type StartedRelay } from '../helpers/start-relay';
import { nextEvent } from './sdk-helpers';

async function rejection(promise: Promise<unknown>): Promise<RemotedError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(RemotedError);
  return err as RemotedError;
}

describe('refusals by the relay', () => {
  let relay: StartedRelay;
  const servers: RemotedServer[] = [];
  const sockets: WebSocket[] = [];

  beforeAll(async () => {
    relay = await startRelay({ defaultTimeoutSeconds: 1 });
  });
  afterEach(async () => {
    for (const s of servers.splice(0)) await new Promise<void>((resolve) => s.close(() => resolve()));
    for (const ws of sockets.splice(0)) ws.terminate();
  });
  afterAll(() => relay.close());

  it('dial with a bad key: 403 invalid_missing_apikey', async () => {
    const err = await rejection(dial(relay.url('rwr', '/x', 'not-a-key')));
    expect(err.code).toBe('invalid_missing_apikey');
    expect(err.status).toBe(403);
  });

  it('a WebRoute request with a server key and no waiting dialer: 400 invalid_request', async () => {
    // A server key's WebRoute request is a dial-back; with no dialer waiting on that id it is refused.
    const err = await rejection(dial(relay.url('rwr', '/x', relay.keys.server)));
    expect([err.code, err.status]).toEqual(['invalid_request', 400]);
  });

  it('dial a path nobody listens on: 502 missing_destination', async () => {
    const err = await rejection(dial(relay.url('rwr', '/nobody')));
    expect([err.code, err.status]).toEqual(['missing_destination', 502]);
  });

  it('dial a listener that never dials back: 504 becomes code timeout', async () => {
    // A bare WebSocket listener that ignores its notify messages.
    const ws = new WebSocket(`ws://127.0.0.1:${relay.port}/mute`, { headers: { [WIRE_HEADER_API_KEY]: relay.keys.server } });
    sockets.push(ws);
    await nextEvent(ws, 'open');
    const err = await rejection(dial(relay.url('rwr', '/mute'), { timeoutMs: 10_000 }));
    expect([err.code, err.status]).toEqual(['timeout', 504]);
  });

  it("the dial's own timeout: code timeout, no status", async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${relay.port}/mute2`, { headers: { [WIRE_HEADER_API_KEY]: relay.keys.server } });
    sockets.push(ws);
    await nextEvent(ws, 'open');
    const started = Date.now();
    const err = await rejection(dial(relay.url('rwr', '/mute2'), { timeoutMs: 150 }));
    expect(err.code).toBe('timeout');
    expect(err.status).toBeUndefined();
    expect(Date.now() - started).toBeLessThan(900);
  });

  it('an AbortSignal cancels a dial with an AbortError', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${relay.port}/mute3`, { headers: { [WIRE_HEADER_API_KEY]: relay.keys.server } });
    sockets.push(ws);
    await nextEvent(ws, 'open');
    const controller = new AbortController();
    const dialing = dial(relay.url('rwr', '/mute3'), { signal: controller.signal });
    await nextEvent(ws, 'message'); // the relay holds the dial: now abort it
    controller.abort();
    await expect(dialing).rejects.toMatchObject({ name: 'AbortError' });
    await expect(dial(relay.url('rwr', '/mute3'), { signal: AbortSignal.abort() })).rejects.toMatchObject({ name: 'AbortError' });
  });

  it('listen with a bad key: an error event with 403 invalid_missing_apikey, then close, no retry', async () => {
    const server = listen(relay.url('rws', '/a', 'bad-key'));
    servers.push(server);
    let retries = 0;
    server.on('route:retry', () => retries++);
    const closed = nextEvent(server, 'close');
    const err = await nextEvent<RemotedError>(server, 'error');
    await closed;
    expect(err).toBeInstanceOf(RemotedError);
    expect([err.code, err.status]).toEqual(['invalid_missing_apikey', 403]);
    expect(retries).toBe(0);
  });

  it('listen on a path in use: an error event with 409 path_in_use', async () => {
    const first = listen(relay.url('rws', '/taken'));
    servers.push(first);
    await nextEvent(first, 'listening');
    const second = listen(relay.url('rws', '/taken'));
    servers.push(second);
    const err = await nextEvent<RemotedError>(second, 'error');
    expect([err.code, err.status]).toEqual(['path_in_use', 409]);
    expect(first.listening).toBe(true);
  });

  it('listen with a client key: 400 invalid_request', async () => {
    const server = listen(relay.url('rws', '/role', relay.keys.client));
    servers.push(server);
    const err = await nextEvent<RemotedError>(server, 'error');
    expect([err.code, err.status]).toEqual(['invalid_request', 400]);
  });
});

/**
 * A minimal peer that answers each WebRoute request with fixed bytes in ONE
 * write, so that what comes in the same read as the head is certain (the
 * real relay's segments are up to the kernel). It speaks the protocol's
 * answers, as the original server would.
 */
describe('answers in a single segment', () => {
  let peer: Server;
  let port: number;
  let answer: (id: string) => string;
  let endAfterAnswer = false;
  let lastRequest = '';
  const accepted: Socket[] = [];

  beforeAll(async () => {
    peer = createServer((socket) => {
      accepted.push(socket);
      let text = '';
      socket.on('data', (chunk: Buffer) => {
        text += chunk.toString('latin1');
        if (!text.includes('\r\n\r\n')) return;
        lastRequest = text;
        const id = /WebRoute-ID: (\S+)/i.exec(text)?.[1] ?? '';
        socket.write(answer(id));
        if (endAfterAnswer) socket.end();
      });
      socket.on('error', () => socket.destroy());
    });
    await new Promise<void>((resolve) => peer.listen(0, '127.0.0.1', resolve));
    port = (peer.address() as { port: number }).port;
  });
  afterAll(async () => {
    for (const s of accepted) s.destroy();
    await new Promise<void>((resolve) => peer.close(() => resolve()));
  });

  it('keeps bytes that came in the same segment as the 101, for a data listener and for pipe()', async () => {
    answer = (id) =>
      `HTTP/1.1 101 Switching Protocols\r\nUpgrade: webroute\r\nConnection: Upgrade\r\nSec-WebRoute-Accept: ${webRouteAccept(id)}\r\n\r\nSAME-SEGMENT`;
    const socket = await dial(`rwr://k@127.0.0.1:${port}/p`);
    // It tells the relay so (extension): no need to hold bytes back after the 101.
    expect(lastRequest).toMatch(/\r\nX-Remoted-Features: early-data\r\n/);
    const received = await new Promise<string>((resolve) => socket.once('data', (chunk: Buffer) => resolve(chunk.toString())));
    socket.destroy();
    expect(received).toBe('SAME-SEGMENT');
    const piped = await dial(`rwr://k@127.0.0.1:${port}/p`);
    const sink = new PassThrough();
    piped.pipe(sink);
    const viaPipe = await new Promise<string>((resolve) => sink.once('data', (chunk: Buffer) => resolve(chunk.toString())));
    piped.destroy();
    expect(viaPipe).toBe('SAME-SEGMENT');
  });

  it('refuses a 101 whose Sec-WebRoute-Accept is wrong: protocol_error', async () => {
    answer = () => 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: webroute\r\nConnection: Upgrade\r\nSec-WebRoute-Accept: AAAA\r\n\r\n';
    const err = await rejection(dial(`rwr://k@127.0.0.1:${port}/p`));
    expect(err.code).toBe('protocol_error');
  });

  it('426 becomes code upgrade_required', async () => {
    answer = () => 'HTTP/1.1 426 Upgrade Required\r\nWebRoute-Version: 1\r\nContent-Length: 0\r\nConnection: close\r\n\r\n';
    const err = await rejection(dial(`rwr://k@127.0.0.1:${port}/p`));
    expect([err.code, err.status]).toEqual(['upgrade_required', 426]);
  });

  it('an error body without Content-Length is read to the end', async () => {
    answer = () => 'HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\n\r\n{"success":false,"error":"Busy.","errorcode":"over_capacity"}';
    endAfterAnswer = true;
    const err = await rejection(dial(`rwr://k@127.0.0.1:${port}/p`));
    expect([err.code, err.status, err.message]).toEqual(['over_capacity', 503, 'Busy.']);
  });
});
