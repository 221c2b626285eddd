/** Every row of the protocol's error table, end to end, with the exact response shape. */
import { ERROR_STATUS, type ErrorCode } from '@remoted/sdk/protocol';
import { buildRequest, rawRequest, type RawResponse, readResponse, webRouteHeaders } from '../helpers/raw-http';
import { ended } from '../helpers/wait-for';
import { dialBack, makeLink, startDial, TestListener } from '../helpers/relay-peers';
import { type StartedRelay, startRelay } from '../helpers/start-relay';

function expectRefusal(response: RawResponse, code: ErrorCode): void {
  expect(response.status).toBe(ERROR_STATUS[code]);
  expect(response.headers['content-type']).toBe('application/json');
  expect(response.headers['cache-control']).toMatch(/no-cache/);
  expect(response.headers.connection).toBe('close');
  const body = JSON.parse(response.body) as Record<string, unknown>;
  expect(body).toEqual({ success: false, error: expect.any(String), errorcode: code });
  expect((body.error as string).length).toBeGreaterThan(5);
}

describe('refusals', () => {
  let relay: StartedRelay;

  beforeEach(async () => {
    relay = await startRelay({ limits: { maxWaitingDialersPerRoute: 1 } });
  });
  afterEach(() => relay.close());

  describe('403 invalid_missing_apikey', () => {
    const cases: Array<[string, (r: StartedRelay) => Promise<string | undefined>]> = [
      ['no key', async () => undefined],
      ['an unknown key', async () => 'x'.repeat(64)],
      ['a revoked key', async (r) => {
        const { key, secret } = await r.store.create({ role: 'client' });
        await r.store.revoke(key.id);
        return secret;
      }],
      ['an expired key', async (r) => (await r.store.create({ role: 'client', expiresAt: new Date(Date.now() - 1000) })).secret],
      ['an admin key', async (r) => (await r.store.create({ role: 'admin' })).secret],
      ['a key scoped to other paths', async (r) => (await r.store.create({ role: 'client', scopes: ['/other/*'] })).secret],
    ];
    it.each(cases)('refuses a dial with %s, and closes the connection', async (_, makeKey) => {
      const listener = await TestListener.open(relay.port, '/svc', relay.keys.server);
      const response = await rawRequest(relay.port, '/svc', { headers: webRouteHeaders(await makeKey(relay)) });
      expectRefusal(response, 'invalid_missing_apikey');
      await ended(response.socket);
      expect(listener.notices).toHaveLength(0);
      await listener.close();
    });

    it('answers a dial with a pathological path for a scoped key at once, and other dials meanwhile', async () => {
      const listener = await TestListener.open(relay.port, '/svc', relay.keys.server);
      const scoped = (await relay.store.create({ role: 'client', scopes: ['/p/*-*-*-*z'] })).secret;
      const started = performance.now();
      const pathological = rawRequest(relay.port, `/p/${'-'.repeat(340)}`, { headers: webRouteHeaders(scoped) });
      const link = await makeLink(relay.port, '/svc', listener, relay.keys);
      expectRefusal(await pathological, 'invalid_missing_apikey');
      // A backtracking scope match held the event loop for seconds here.
      expect(performance.now() - started).toBeLessThan(1000);
      expect(link.dialer.status).toBe(101);
      link.dialer.socket.destroy();
      link.listenerSide.socket.destroy();
      await listener.close();
    });

    it('refuses a listener with a client key scoped elsewhere, or no key', async () => {
      const scoped = (await relay.store.create({ role: 'server', scopes: ['/mine/**'] })).secret;
      await expect(TestListener.open(relay.port, '/yours', scoped)).rejects.toMatchObject({ status: 403 });
      await expect(TestListener.open(relay.port, '/yours', '')).rejects.toMatchObject({ status: 403 });
      const ok = await TestListener.open(relay.port, '/mine/a/b', scoped);
      await ok.close();
    });
  });

  describe('400 invalid_request', () => {
    it('refuses a non-GET upgrade', async () => {
      expectRefusal(await rawRequest(relay.port, '/svc', { method: 'POST', headers: webRouteHeaders(relay.keys.client) }), 'invalid_request');
    });

    it('refuses an upgrade to something else', async () => {
      const headers = { Connection: 'Upgrade', Upgrade: 'h2c', 'X-Remoted-APIKey': relay.keys.client };
      expectRefusal(await rawRequest(relay.port, '/svc', { headers }), 'invalid_request');
    });

    it('refuses a plain HTTP request with the same JSON error', async () => {
      expectRefusal(await rawRequest(relay.port, '/anything', { headers: { 'X-Remoted-APIKey': relay.keys.client } }), 'invalid_request');
    });

    it('refuses a WebSocket listener with a client key', async () => {
      await expect(TestListener.open(relay.port, '/svc', relay.keys.client)).rejects.toMatchObject({ status: 400 });
    });

    it('refuses a WebRoute request without WebRoute-ID, and tells no listener', async () => {
      const listener = await TestListener.open(relay.port, '/svc', relay.keys.server);
      const headers = webRouteHeaders(relay.keys.client);
      delete headers['WebRoute-ID'];
      expectRefusal(await rawRequest(relay.port, '/svc', { headers }), 'invalid_request');
      expect(listener.notices).toHaveLength(0);
      await listener.close();
    });

    it('refuses a path longer than 1024 characters, listener or dialer, and a normal dial still links', async () => {
      const listener = await TestListener.open(relay.port, '/svc', relay.keys.server);
      const longPath = `/svc/${'a'.repeat(1100)}`;
      const dial = await rawRequest(relay.port, longPath, { headers: webRouteHeaders(relay.keys.client) });
      expectRefusal(dial, 'invalid_request');
      expect(JSON.parse(dial.body)).toMatchObject({ error: expect.stringContaining('1024') });
      await expect(TestListener.open(relay.port, longPath, relay.keys.server)).rejects.toMatchObject({ status: 400 });
      expect(listener.notices).toHaveLength(0);
      const atBound = `/${'b'.repeat(1023)}`;
      const boundListener = await TestListener.open(relay.port, atBound, relay.keys.server);
      for (const [path, on] of [['/svc', listener], [atBound, boundListener]] as const) {
        const link = await makeLink(relay.port, path, on, relay.keys);
        expect([link.dialer.status, link.listenerSide.status]).toEqual([101, 101]);
        link.dialer.socket.destroy();
        link.listenerSide.socket.destroy();
      }
      await boundListener.close();
      await listener.close();
    });

    it('refuses a WebRoute-ID that is too long or has unsafe characters, saying what is allowed, and tells no listener', async () => {
      const listener = await TestListener.open(relay.port, '/svc', relay.keys.server);
      for (const id of ['x'.repeat(8 * 1024), 'x'.repeat(129), 'a"b', 'a/b']) {
        const dial = await startDial(relay.port, '/svc', relay.keys.client, { id }).response;
        expectRefusal(dial, 'invalid_request');
        expect(JSON.parse(dial.body)).toMatchObject({ error: expect.stringMatching(/WebRoute-ID must be 1 to 128 characters of A-Z, a-z, 0-9/) });
        expectRefusal(await dialBack(relay.port, '/svc', relay.keys.server, id), 'invalid_request');
      }
      expect(listener.notices).toHaveLength(0);
      // The original PHP SDK's id: 64 random letters and digits.
      const phpId = 'Ab3'.repeat(21) + 'z';
      const dial = startDial(relay.port, '/svc', relay.keys.client, { id: phpId });
      const notice = await listener.nextNotice();
      expect(notice.id).toBe(phpId);
      const back = await dialBack(relay.port, '/svc', relay.keys.server, phpId);
      expect([(await dial.response).status, back.status]).toEqual([101, 101]);
      back.socket.destroy();
      await listener.close();
    });

    it('refuses a dial-back with no waiting dialer', async () => {
      const listener = await TestListener.open(relay.port, '/svc', relay.keys.server);
      expectRefusal(await dialBack(relay.port, '/svc', relay.keys.server, 'nobody-waits-with-this-id'), 'invalid_request');
      await listener.close();
    });

    it('refuses a dial-back by another server key than the listener, and the dialer still links', async () => {
      const listener = await TestListener.open(relay.port, '/svc', relay.keys.server);
      const other = (await relay.store.create({ role: 'server' })).secret;
      const dial = startDial(relay.port, '/svc', relay.keys.client);
      const notice = await listener.nextNotice();
      expectRefusal(await dialBack(relay.port, '/svc', other, notice.id), 'invalid_request');
      const back = await dialBack(relay.port, '/svc', relay.keys.server, notice.id);
      expect(back.status).toBe(101);
      expect((await dial.response).status).toBe(101);
      back.socket.destroy();
      await listener.close();
    });

    it('refuses a second dialer with the same id on the same path, and tells no listener', async () => {
      const listener = await TestListener.open(relay.port, '/svc', relay.keys.server);
      const first = startDial(relay.port, '/svc', relay.keys.client, { id: 'same-id' });
      await listener.nextNotice();
      expectRefusal(await startDial(relay.port, '/svc', relay.keys.client, { id: 'same-id' }).response, 'invalid_request');
      expect(listener.notices).toHaveLength(0);
      await listener.close();
      expectRefusal(await first.response, 'missing_destination');
    });
  });

  it('426 for a WebRoute-Version other than 1, naming the version it speaks', async () => {
    const listener = await TestListener.open(relay.port, '/svc', relay.keys.server);
    const response = await rawRequest(relay.port, '/svc', { headers: webRouteHeaders(relay.keys.client, 'id', { 'WebRoute-Version': '2' }) });
    expect(response.status).toBe(426);
    expect(response.headers['webroute-version']).toBe('1');
    expect(listener.notices).toHaveLength(0);
    await ended(response.socket);
    await listener.close();
  });

  it('502 missing_destination when nobody listens on the path', async () => {
    expectRefusal(await rawRequest(relay.port, '/nobody', { headers: webRouteHeaders(relay.keys.client) }), 'missing_destination');
  });

  it('409 path_in_use for a second listener on a taken path', async () => {
    const first = await TestListener.open(relay.port, '/svc', relay.keys.server);
    const refusal = TestListener.open(relay.port, '/svc', relay.keys.server);
    await expect(refusal).rejects.toMatchObject({ status: 409 });
    const body = JSON.parse(((await refusal.catch((e: { body: string }) => e)) as { body: string }).body);
    expect(body.errorcode).toBe('path_in_use');
    await first.close();
  });

  it('431 headers_too_large for request headers over the limit', async () => {
    const headers = { ...webRouteHeaders(relay.keys.client), 'X-Padding': 'p'.repeat(20 * 1024) };
    expectRefusal(await rawRequest(relay.port, '/svc', { headers }), 'headers_too_large');
  });

  it('503 over_capacity past the waiting dialers per route', async () => {
    const listener = await TestListener.open(relay.port, '/svc', relay.keys.server);
    const first = startDial(relay.port, '/svc', relay.keys.client);
    await listener.nextNotice();
    expectRefusal(await startDial(relay.port, '/svc', relay.keys.client).response, 'over_capacity');
    await listener.close();
    expectRefusal(await first.response, 'missing_destination');
  });

  it('closes a refused connection, so a later request on it cannot reuse an earlier key', async () => {
    const listener = await TestListener.open(relay.port, '/svc', relay.keys.server);
    const refused = await rawRequest(relay.port, '/svc', { headers: webRouteHeaders('wrong') });
    expect(refused.status).toBe(403);
    await ended(refused.socket);
    refused.socket.on('error', () => undefined);
    refused.socket.write(buildRequest('/svc', 'GET', webRouteHeaders(relay.keys.client)));
    await expect(readResponse(refused.socket, 1000)).rejects.toThrow();
    expect(listener.notices).toHaveLength(0);
    await listener.close();
  });
});
