/**
 * What the control port lets anyone hold: calls per connection, calls
 * without a key over all connections, and connections. Real grpc-js clients
 * and sockets on 127.0.0.1; every count is small and every wait bounded.
 */
import { connect, type Socket } from 'node:net';
import { Client, type ClientReadableStream, credentials, status } from '@grpc/grpc-js';
import { toGrpcServiceDefinition } from '@remoted/sdk/admin';
import { Health, type HealthCheckResponse } from '@remoted/sdk/gen/grpc/health/v1/health_pb';
import { type StartedRelay, startRelay } from '../helpers/start-relay';
import { adminClientFor, expectStatus } from './control-helpers';

const { watch, check } = toGrpcServiceDefinition(Health);

interface OpenWatch {
  stream: ClientReadableStream<HealthCheckResponse>;
  /** Resolves with the first message, rejects with the call's error. */
  first: Promise<HealthCheckResponse>;
  /** Set once the first message came. */
  served: () => boolean;
}

function openWatch(client: Client): OpenWatch {
  const stream = client.makeServerStreamRequest(watch.path, watch.requestSerialize, watch.responseDeserialize, { service: '' }) as ClientReadableStream<HealthCheckResponse>;
  let served = false;
  const first = new Promise<HealthCheckResponse>((resolve, reject) => {
    stream.once('data', (message: HealthCheckResponse) => {
      served = true;
      resolve(message);
    });
    stream.once('error', reject);
  });
  // A cancelled stream reports CANCELLED: expected here.
  first.catch(() => undefined);
  return { stream, first, served: () => served };
}

function healthCheck(client: Client): Promise<HealthCheckResponse> {
  return new Promise((resolve, reject) =>
    client.makeUnaryRequest(check.path, check.requestSerialize, check.responseDeserialize, { service: '' }, (err, res) => (err ? reject(err) : resolve(res as HealthCheckResponse))),
  );
}

const newClient = (relay: StartedRelay): Client =>
  // A channel option of its own keeps each client on a connection of its own.
  new Client(`127.0.0.1:${relay.grpcPort}`, credentials.createInsecure(), { 'grpc.channel_id': Math.random() } as Record<string, number>);

describe('control plane bounds', () => {
  it('serves at most maxConcurrentStreams calls at once on one connection; the next waits for one to end', async () => {
    const relay = await startRelay({ grpc: { maxConcurrentStreams: 4, maxUnauthenticatedCalls: 100 } });
    const client = newClient(relay);
    try {
      const served = Array.from({ length: 4 }, () => openWatch(client));
      await Promise.all(served.map((w) => w.first));
      const fifth = openWatch(client);
      // A round trip on another connection: the server has had the time to
      // see the fifth stream, had the client been allowed to open it.
      const other = newClient(relay);
      await healthCheck(other);
      other.close();
      expect(fifth.served()).toBe(false);
      served[0].stream.cancel();
      await fifth.first;
      for (const w of [...served, fifth]) w.stream.cancel();
    } finally {
      client.close();
      await relay.close();
    }
  });

  it('answers RESOURCE_EXHAUSTED past maxUnauthenticatedCalls open calls without a key, over all connections; admin calls go on', async () => {
    const relay = await startRelay({ grpc: { maxConcurrentStreams: 100, maxUnauthenticatedCalls: 6 } });
    const clients = [newClient(relay), newClient(relay), newClient(relay)];
    const admin = adminClientFor(relay);
    try {
      const held = [0, 0, 0, 1, 1, 1].map((i) => openWatch(clients[i]));
      await Promise.all(held.map((w) => w.first));
      await expectStatus(openWatch(clients[2]).first, status.RESOURCE_EXHAUSTED);
      await expectStatus(healthCheck(clients[2]), status.RESOURCE_EXHAUSTED);
      await expect(admin.stats.getStats({})).resolves.toBeDefined();
      // One ends: its place is free again (the cancel reaches the server in its own time).
      held[0].stream.cancel();
      let answer: HealthCheckResponse | undefined;
      for (let attempt = 0; attempt < 50 && !answer; attempt++) answer = await healthCheck(clients[2]).catch(() => undefined);
      expect(answer).toBeDefined();
      for (const w of held) w.stream.cancel();
    } finally {
      for (const c of clients) c.close();
      admin.close();
      await relay.close();
    }
  });

  it('closes connections past maxConnections as they arrive, and takes new ones once one is gone', async () => {
    const relay = await startRelay({ grpc: { maxConnections: 3 } });
    const sockets: Socket[] = [];
    const open = (): Promise<Socket> =>
      new Promise((resolve, reject) => {
        const socket = connect(relay.grpcPort, '127.0.0.1', () => resolve(socket));
        socket.on('error', reject);
        sockets.push(socket);
      });
    try {
      const held = [await open(), await open(), await open()];
      const fourth = await open();
      const closed = await new Promise<boolean>((resolve) => {
        fourth.once('close', () => resolve(true));
        // Bounded: on a server that holds it, the socket stays open.
        setTimeout(() => resolve(false), 3000).unref();
      });
      expect(closed).toBe(true);
      for (const socket of held) expect(socket.destroyed).toBe(false);
      held[0].destroy();
      const admin = adminClientFor(relay);
      let stats: unknown;
      for (let attempt = 0; attempt < 50 && !stats; attempt++) stats = await admin.stats.getStats({}).catch(() => undefined);
      expect(stats).toBeDefined();
      admin.close();
    } finally {
      for (const socket of sockets) socket.destroy();
      await relay.close();
    }
  });
});
