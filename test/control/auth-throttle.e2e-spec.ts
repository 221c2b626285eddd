/** Failed admin authentications are throttled per address on the control plane, apart from the data plane's table. */
import { status } from '@grpc/grpc-js';
import type { StartedRelay } from '../helpers/start-relay';
import { startRelay } from '../helpers/start-relay';
import { rawRequest, webRouteHeaders } from '../helpers/raw-http';
import { adminClientFor, expectStatus } from './control-helpers';

const LIMIT = 3;

describe('control plane: failed-auth throttle', () => {
  let relay: StartedRelay;

  beforeAll(async () => {
    relay = await startRelay({ limits: { authFailureLimit: LIMIT, authFailureWindowMs: 60_000 } });
  });
  afterAll(async () => {
    await relay.close();
  });

  it('answers RESOURCE_EXHAUSTED with a retry hint, naming no secret, after `limit` wrong bearers, even to the admin key', async () => {
    const wrong = adminClientFor(relay, 'wrong-bearer-secret');
    for (let i = 0; i < LIMIT; i++) await expectStatus(wrong.stats.getStats({}), status.UNAUTHENTICATED);
    let trailers: Record<string, unknown> = {};
    const refused = wrong.stats.getStats({}).catch((err: { metadata?: { getMap(): Record<string, unknown> } }) => {
      trailers = err.metadata?.getMap() ?? {};
      throw err;
    });
    const details = await expectStatus(refused, status.RESOURCE_EXHAUSTED);
    expect(details).toMatch(/retry in \d+ s/);
    expect(details).not.toContain('wrong-bearer-secret');
    expect(Number(trailers['grpc-retry-pushback-ms'])).toBeGreaterThan(0);
    wrong.close();

    // Same address: the right key waits for the window too.
    const admin = adminClientFor(relay);
    await expectStatus(admin.stats.getStats({}), status.RESOURCE_EXHAUSTED);
    admin.close();

    // The data plane keeps its own table: its port still takes the client key
    // from this address (a dial nobody listens for: 502 after the key check, not 429).
    const res = await rawRequest(relay.port, '/nobody', { headers: webRouteHeaders(relay.keys.client) });
    expect(res.status).toBe(502);
  });
});
