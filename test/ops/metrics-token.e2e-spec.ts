/** Wrong /metrics tokens on the relay port are throttled with its key failures; no answer names Express. */
import { rawRequest, webRouteHeaders } from '../helpers/raw-http';
import { type StartedRelay, startRelay } from '../helpers/start-relay';
import { getText } from './ops-helpers';

const LIMIT = 3;

describe('/metrics token on the relay port', () => {
  let relay: StartedRelay;

  beforeAll(async () => {
    relay = await startRelay({ metrics: { token: 'scrape-token', port: 0 }, limits: { authFailureLimit: LIMIT, authFailureWindowMs: 60_000 } });
  });
  afterAll(() => relay.close());

  it('answers no request with X-Powered-By, on the relay port or the metrics port', async () => {
    for (const path of ['/healthz', '/readyz', '/something']) {
      const res = await getText(relay.port, path);
      expect(res.headers['x-powered-by']).toBeUndefined();
    }
    const scraped = await getText(relay.port, '/metrics', { Authorization: 'Bearer scrape-token' });
    expect(scraped.status).toBe(200);
    expect(scraped.headers['x-powered-by']).toBeUndefined();
    expect((await getText(relay.metricsPort!, '/metrics')).headers['x-powered-by']).toBeUndefined();
  });

  it('answers 429 with Retry-After after `limit` wrong tokens, to the right token and to the relay port keys of that address', async () => {
    for (let i = 0; i < LIMIT; i++) expect((await getText(relay.port, '/metrics', { Authorization: `Bearer wrong-${i}` })).status).toBe(403);
    const refused = await getText(relay.port, '/metrics', { Authorization: 'Bearer scrape-token' });
    expect(refused.status).toBe(429);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    expect(JSON.parse(refused.body)).toMatchObject({ success: false, errorcode: 'too_many_requests' });
    // One table for the port: a dial with a right key from the same address waits too.
    const dial = await rawRequest(relay.port, '/svc', { headers: webRouteHeaders(relay.keys.client) });
    expect(dial.status).toBe(429);
  });
});
