import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Client, credentials, Metadata, status } from '@grpc/grpc-js';
import { type AdminClient, toGrpcServiceDefinition } from '@remoted/sdk/admin';
import { Health, HealthCheckResponse_ServingStatus, type HealthCheckResponse } from '@remoted/sdk/gen/grpc/health/v1/health_pb';
import { KeyRole } from '@remoted/sdk/gen/remoted/admin/v1/key_pb';
import { RouteService } from '@remoted/sdk/gen/remoted/admin/v1/route_service_pb';
import { type StartedRelay, startRelay } from '../helpers/start-relay';
import { adminClientFor, expectStatus } from './control-helpers';

const run = promisify(execFile);
const BUF = join(__dirname, '../../node_modules/.bin/buf');

describe('control plane: auth, reflection, health', () => {
  let relay: StartedRelay;
  let admin: AdminClient;

  beforeAll(async () => {
    relay = await startRelay();
    admin = adminClientFor(relay);
  });
  afterAll(async () => {
    admin.close();
    await relay.close();
  });

  it('answers UNAUTHENTICATED without a key, or with an unknown, malformed or revoked one', async () => {
    const noKey = new Client(`127.0.0.1:${relay.grpcPort}`, credentials.createInsecure());
    const { listRoutes } = toGrpcServiceDefinition(RouteService);
    const details = await expectStatus(
      new Promise((resolve, reject) =>
        noKey.makeUnaryRequest(listRoutes.path, listRoutes.requestSerialize, listRoutes.responseDeserialize, {}, new Metadata(), (err, res) => (err ? reject(err) : resolve(res))),
      ),
      status.UNAUTHENTICATED,
    );
    expect(details).toMatch(/authorization: Bearer/);
    noKey.close();

    const unknown = adminClientFor(relay, 'not-a-key');
    await expectStatus(unknown.routes.listRoutes({}), status.UNAUTHENTICATED);
    unknown.close();

    const { secret, key } = await admin.keys.createKey({ role: KeyRole.ADMIN, label: 'short-lived' });
    const second = adminClientFor(relay, secret);
    await expect(second.stats.getStats({})).resolves.toBeDefined();
    await admin.keys.revokeKey({ name: key!.name });
    await expectStatus(second.stats.getStats({}), status.UNAUTHENTICATED);
    await expectStatus(second.watch().ready, status.UNAUTHENTICATED);
    second.close();
  });

  it('refuses a data-plane key, an unknown key and a revoked one with the same UNAUTHENTICATED words, naming no key', async () => {
    const { secret: revokedSecret, key: revoked } = await admin.keys.createKey({ role: KeyRole.ADMIN, label: 'to-revoke' });
    await admin.keys.revokeKey({ name: revoked!.name });
    const serverKeyId = (await relay.store.findBySecret(relay.keys.server))!.id;
    const clientKeyId = (await relay.store.findBySecret(relay.keys.client))!.id;
    const answers: string[] = [];
    for (const key of [relay.keys.client, relay.keys.server, 'not-a-key', revokedSecret]) {
      const client = adminClientFor(relay, key);
      answers.push(await expectStatus(client.keys.listKeys({}), status.UNAUTHENTICATED));
      client.close();
    }
    expect(new Set(answers).size).toBe(1);
    for (const named of [serverKeyId, clientKeyId, 'client', 'server', 'role']) expect(answers[0]).not.toContain(named);
  });

  it('lists every method through reflection, with no key and no local schema (buf curl)', async () => {
    const { stdout } = await run(BUF, ['curl', '--protocol', 'grpc', '--http2-prior-knowledge', '--list-methods', `http://127.0.0.1:${relay.grpcPort}`]);
    const methods = stdout.trim().split('\n');
    expect(methods).toEqual(
      expect.arrayContaining([
        'remoted.admin.v1.KeyService/CreateKey',
        'remoted.admin.v1.KeyService/RevokeKey',
        'remoted.admin.v1.RouteService/CloseRoute',
        'remoted.admin.v1.RouteService/DrainRoute',
        'remoted.admin.v1.LinkService/ListLinks',
        'remoted.admin.v1.EventService/WatchEvents',
        'remoted.admin.v1.StatsService/GetStats',
        'grpc.health.v1.Health/Check',
      ]),
    );
  });

  it('serves a call through buf curl with the schema from reflection', async () => {
    const { stdout } = await run(BUF, [
      'curl', '--protocol', 'grpc', '--http2-prior-knowledge',
      '-H', `authorization: Bearer ${relay.keys.admin}`,
      '-d', '{"role":"KEY_ROLE_SERVER"}',
      `http://127.0.0.1:${relay.grpcPort}/remoted.admin.v1.KeyService/ListKeys`,
    ]);
    expect(JSON.parse(stdout).keys).toEqual([expect.objectContaining({ role: 'KEY_ROLE_SERVER' })]);
  });

  it('answers health checks with SERVING, no key needed', async () => {
    const client = new Client(`127.0.0.1:${relay.grpcPort}`, credentials.createInsecure());
    const { check } = toGrpcServiceDefinition(Health);
    const ask = (service: string) =>
      new Promise<HealthCheckResponse>((resolve, reject) =>
        client.makeUnaryRequest(check.path, check.requestSerialize, check.responseDeserialize, { service }, (err, res) => (err ? reject(err) : resolve(res as HealthCheckResponse))),
      );
    expect((await ask('')).status).toBe(HealthCheckResponse_ServingStatus.SERVING);
    expect((await ask('remoted.admin.v1.KeyService')).status).toBe(HealthCheckResponse_ServingStatus.SERVING);
    await expectStatus(ask('no.such.Service'), status.NOT_FOUND);
    client.close();
  });
});
