/** /healthz and /readyz on the relay port, /metrics there behind a token, and the catch-all still answering the rest. */
import { type StartedRelay, startRelay } from '../helpers/start-relay';
import { getText } from './ops-helpers';

describe('health endpoints on the relay port', () => {
  let relay: StartedRelay;

  beforeAll(async () => {
    relay = await startRelay({ metrics: { token: 'scrape-token' } });
  });
  afterAll(() => relay.close());

  it('/healthz answers 200 while the process runs', async () => {
    const res = await getText(relay.port, '/healthz');
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toEqual({ status: 'ok' });
  });

  it('/readyz answers 200 with its checks when the store is open and the port listens', async () => {
    const res = await getText(relay.port, '/readyz');
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toEqual({ status: 'ready', checks: { keyStore: true, listening: true } });
  });

  it('other plain requests still get the protocol 400', async () => {
    const res = await getText(relay.port, '/something');
    expect(res.status).toBe(400);
    expect(JSON.parse(res.body)).toMatchObject({ success: false, errorcode: 'invalid_request' });
  });

  it('/metrics on the relay port needs the bearer token', async () => {
    expect((await getText(relay.port, '/metrics')).status).toBe(403);
    expect((await getText(relay.port, '/metrics', { Authorization: 'Bearer wrong' })).status).toBe(403);
    const res = await getText(relay.port, '/metrics', { Authorization: 'Bearer scrape-token' });
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    expect(res.body).toContain('remoted_listeners 0');
    expect(res.body).toContain('process_cpu_user_seconds_total');
  });
});

describe('without a metrics token or port', () => {
  it('/metrics on the relay port is just another plain request, and no metrics port is opened', async () => {
    const relay = await startRelay();
    try {
      expect((await getText(relay.port, '/metrics', { Authorization: 'Bearer x' })).status).toBe(400);
      expect(relay.metricsPort).toBeUndefined();
    } finally {
      await relay.close();
    }
  });
});
