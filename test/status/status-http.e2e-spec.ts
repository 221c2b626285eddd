/**
 * The status port over plain HTTP (no browser): who gets in, what an action
 * needs besides the cookie, what the cookie is, and that no answer carries a
 * key's secret. A real relay with real peers; the page on a port the kernel
 * picked at its one bind.
 */
import type { Socket } from 'node:net';
import { EventHub } from '../../src/control/event-hub';
import { MAX_BODY_BYTES } from '../../src/status/status-server';
import { STATUS_LIMITS } from '../../src/status/status.service';
import { connectTo } from '../helpers/raw-http';
import { makeLink, TestListener } from '../helpers/relay-peers';
import { startRelay, type StartedRelay } from '../helpers/start-relay';
import { openStatusStream, statusLogin, statusRequest } from '../helpers/status-http';
import { waitFor } from '../helpers/wait-for';

/** What `attempt` gives once it stops throwing (a refused or closed connection), within about 2 s. */
async function retried<T>(attempt: () => Promise<T>): Promise<T> {
  for (let tries = 1; ; tries++) {
    try {
      return await attempt();
    } catch (err) {
      if (tries >= 100) throw err;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
}

describe('status page over HTTP', () => {
  let relay: StartedRelay;
  let port: number;
  const opened: Array<{ close(): void }> = [];
  const origin = () => ({ Origin: `http://127.0.0.1:${port}`, Host: `127.0.0.1:${port}` });

  beforeEach(async () => {
    relay = await startRelay({ limits: { authFailureLimit: 3, authFailureWindowMs: 60_000 } }, { statusPage: true });
    port = relay.statusPort!;
  });
  afterEach(async () => {
    for (const o of opened.splice(0)) o.close();
    await relay.close();
  });

  it('is off unless asked for: startRelay leaves the default port alone', async () => {
    const plain = await startRelay();
    try {
      expect(plain.statusPort).toBeUndefined();
      expect(plain.config.status.port).toBe(0);
    } finally {
      await plain.close();
    }
  });

  it('logs the admin key in with an HttpOnly, SameSite=Strict cookie and a CSRF token', async () => {
    const { answer, cookie, csrfToken } = await statusLogin(port, relay.keys.admin);
    expect(answer.status).toBe(200);
    const setCookie = answer.headers['set-cookie']![0];
    expect(setCookie).toMatch(/^remoted_status=[A-Za-z0-9_-]{43}; /);
    expect(setCookie).toContain('HttpOnly');
    expect(setCookie).toContain('SameSite=Strict');
    expect(setCookie).toContain('Path=/');
    expect(setCookie).toMatch(/Max-Age=\d+/);
    expect(csrfToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(csrfToken).not.toBe(cookie.split('=')[1]);
    const session = await statusRequest(port, 'GET', '/api/session', { headers: { Cookie: cookie } });
    expect(session.status).toBe(200);
    expect(session.json()).toMatchObject({ csrfToken });
  });

  it('refuses server and client keys and wrong keys alike, then throttles the address (429) even for the right key', async () => {
    for (const key of [relay.keys.server, relay.keys.client, 'x'.repeat(64)]) {
      const { answer } = await statusLogin(port, key);
      expect(answer.status).toBe(401);
      expect(answer.json()).toMatchObject({ success: false, errorcode: 'bad_key' });
      expect(answer.body).not.toContain(key);
      expect(answer.headers['set-cookie']).toBeUndefined();
    }
    const { answer } = await statusLogin(port, relay.keys.admin);
    expect(answer.status).toBe(429);
    expect(answer.json()).toMatchObject({ success: false, errorcode: 'too_many_requests' });
    expect(Number(answer.headers['retry-after'])).toBeGreaterThan(0);
    // The relay port's own table is apart: a good key there still works.
    const listener = await TestListener.open(relay.port, '/apart', relay.keys.server);
    listener.ws.close();
  });

  it('throttles wrong bearers in the same table', async () => {
    for (let i = 0; i < 3; i++) {
      const answer = await statusRequest(port, 'GET', '/api/routes', { headers: { Authorization: `Bearer ${relay.keys.server}` } });
      expect(answer.status).toBe(401);
    }
    const answer = await statusRequest(port, 'GET', '/api/routes', { headers: { Authorization: `Bearer ${relay.keys.admin}` } });
    expect(answer.status).toBe(429);
  });

  it('refuses an action with the cookie alone, a wrong token, or another origin; takes it with the token', async () => {
    const { cookie, csrfToken } = await statusLogin(port, relay.keys.admin);
    const listener = await TestListener.open(relay.port, '/act', relay.keys.server);
    await makeLink(relay.port, '/act', listener, relay.keys);
    const links = (await statusRequest(port, 'GET', '/api/links', { headers: { Cookie: cookie } })).json() as { items: Array<{ id: string }> };
    const id = links.items[0].id;
    const act = (headers: Record<string, string>) => statusRequest(port, 'POST', `/api/links/${id}/close`, { headers: { Cookie: cookie, ...origin(), ...headers } });

    const noToken = await act({});
    expect(noToken.status).toBe(403);
    expect(noToken.json()).toMatchObject({ success: false, errorcode: 'csrf' });
    expect((await act({ 'X-CSRF-Token': 'a'.repeat(43) })).status).toBe(403);
    const crossSite = await act({ 'X-CSRF-Token': csrfToken, Origin: 'http://evil.example' });
    expect(crossSite.json()).toMatchObject({ errorcode: 'forbidden_origin' });
    expect((await act({ 'X-CSRF-Token': csrfToken, 'Sec-Fetch-Site': 'cross-site' })).status).toBe(403);
    expect((await statusRequest(port, 'GET', '/api/links', { headers: { Cookie: cookie } })).json()).toMatchObject({ total: 1 });

    const done = await act({ 'X-CSRF-Token': csrfToken });
    expect(done.status).toBe(200);
    expect(done.json()).toMatchObject({ ok: true });
    expect((await statusRequest(port, 'GET', '/api/links', { headers: { Cookie: cookie } })).json()).toMatchObject({ total: 0 });
    const again = await act({ 'X-CSRF-Token': csrfToken });
    expect(again.status).toBe(404);
    expect(again.json()).toMatchObject({ success: false, errorcode: 'not_found' });
    listener.ws.close();
  });

  it('never answers a key secret: not in the API, the stream, nor the events', async () => {
    const { cookie } = await statusLogin(port, relay.keys.admin);
    const stream = await openStatusStream(port, { Cookie: cookie });
    opened.push(stream);
    const listener = await TestListener.open(relay.port, '/secretless', relay.keys.server);
    await makeLink(relay.port, '/secretless', listener, relay.keys);
    await relay.store.create({ role: 'client', label: 'made in the test' });
    const answers = await Promise.all(['/api/session', '/api/routes', '/api/links', '/api/keys', '/api/events', '/'].map((path) => statusRequest(port, 'GET', path, { headers: { Cookie: cookie } })));
    const keys = (answers[3].json() as { items: unknown[] }).items;
    expect(keys.length).toBeGreaterThanOrEqual(4);
    expect((answers[1].json() as { total: number }).total).toBe(1);
    for (const text of [...answers.map((a) => a.body), stream.first]) {
      for (const secret of Object.values(relay.keys)) expect(text).not.toContain(secret);
    }
    listener.ws.close();
  });

  it('holds no EventHub subscription (its tick starts and stops with it) until a stream opens, and none after the last closes', async () => {
    const hub = relay.app.get(EventHub);
    expect(hub.watcherCount).toBe(0);
    const { cookie } = await statusLogin(port, relay.keys.admin);
    const stream = await openStatusStream(port, { Cookie: cookie });
    expect(stream.status).toBe(200);
    expect(stream.first).toMatch(/^event: hello\ndata: \{/);
    expect(hub.watcherCount).toBe(1);
    const second = await openStatusStream(port, { Cookie: cookie });
    expect(hub.watcherCount).toBe(1);
    stream.close();
    second.close();
    await waitFor(() => hub.watcherCount === 0, 'the last stream closed');
  });

  it(`bounds the streams open at once (${STATUS_LIMITS.stream.maxStreams})`, async () => {
    const { cookie } = await statusLogin(port, relay.keys.admin);
    for (let i = 0; i < STATUS_LIMITS.stream.maxStreams; i++) opened.push(await openStatusStream(port, { Cookie: cookie }));
    const refused = await openStatusStream(port, { Cookie: cookie });
    expect(refused.status).toBe(503);
    expect(JSON.parse(refused.first)).toMatchObject({ success: false, errorcode: 'too_many_streams' });
  });

  it('ends the sessions of a revoked admin key, and a session at logout', async () => {
    const other = await relay.store.create({ role: 'admin', label: 'second admin' });
    const mine = await statusLogin(port, relay.keys.admin);
    const theirs = await statusLogin(port, other.secret);
    expect(theirs.answer.status).toBe(200);
    const revoke = await statusRequest(port, 'POST', `/api/keys/${other.key.id}/revoke`, { headers: { Cookie: mine.cookie, 'X-CSRF-Token': mine.csrfToken, ...origin() } });
    expect(revoke.json()).toMatchObject({ ok: true });
    expect((await statusRequest(port, 'GET', '/api/session', { headers: { Cookie: theirs.cookie } })).status).toBe(401);
    expect((await statusLogin(port, other.secret)).answer.status).toBe(401);

    const out = await statusRequest(port, 'POST', '/api/logout', { headers: { Cookie: mine.cookie, 'X-CSRF-Token': mine.csrfToken, ...origin() } });
    expect(out.headers['set-cookie']![0]).toContain('Max-Age=0');
    const after = await statusRequest(port, 'GET', '/api/session', { headers: { Cookie: mine.cookie } });
    expect(after.status).toBe(401);
    expect(after.json()).toMatchObject({ success: false, errorcode: 'unauthenticated' });
  });

  it('bounds bodies and cookies, refuses foreign Host names, and sends a strict CSP', async () => {
    const big = await statusRequest(port, 'POST', '/login', { headers: { 'Content-Type': 'application/json', ...origin() }, body: JSON.stringify({ key: 'k'.repeat(MAX_BODY_BYTES) }) });
    expect(big.status).toBe(413);
    expect(big.json()).toMatchObject({ errorcode: 'body_too_large' });
    const longCookie = await statusRequest(port, 'GET', '/api/session', { headers: { Cookie: `remoted_status=${'a'.repeat(5000)}` } });
    expect(longCookie.status).toBe(401);
    const rebound = await statusRequest(port, 'GET', '/', { headers: { Host: `evil.example:${port}` } });
    expect(rebound.status).toBe(403);
    const page = await statusRequest(port, 'GET', '/');
    expect(page.status).toBe(200);
    expect(page.headers['content-security-policy']).toMatch(/^default-src 'self'; script-src 'self';/);
    expect(page.body).not.toMatch(/<script>|<style>|\son\w+=|https?:\/\//);
    expect((await statusRequest(port, 'GET', '/uplot.js')).status).toBe(200);
  });

  it('lets a bearer of the admin key read and act without a CSRF token (no browser sends it by itself)', async () => {
    const auth = { Authorization: `Bearer ${relay.keys.admin}` };
    const listener = await TestListener.open(relay.port, '/bearer', relay.keys.server);
    const routes = (await statusRequest(port, 'GET', '/api/routes', { headers: auth })).json() as { items: Array<{ id: string; path: string; state: string }> };
    expect(routes.items).toEqual([expect.objectContaining({ path: '/bearer', state: 'active' })]);
    const drained = await statusRequest(port, 'POST', `/api/routes/${routes.items[0].id}/drain`, { headers: auth });
    expect(drained.json()).toMatchObject({ ok: true });
    const after = (await statusRequest(port, 'GET', '/api/routes', { headers: auth })).json() as { items: Array<{ state: string }> };
    expect(after.items[0].state).toBe('draining');
    listener.ws.close();
  });

  it('holds at most maxConnections sockets: the next one is closed at once, and a socket is taken again once one goes', async () => {
    const held: Socket[] = [];
    try {
      for (let i = 0; i < STATUS_LIMITS.maxConnections; i++) held.push(await connectTo(port));
      const extra = await connectTo(port);
      // The server closes it at accept: its FIN (or a reset) is all it ever gets.
      extra.resume();
      await new Promise((resolve) => {
        extra.once('end', resolve);
        extra.once('error', resolve);
      });
      extra.destroy();
      held.shift()!.destroy();
      // The server counts the socket out once it sees it close: until then a new one is still over the bound.
      const answer = await retried(() => statusRequest(port, 'GET', '/api/routes', { headers: { Authorization: `Bearer ${relay.keys.admin}` } }));
      expect(answer.status).toBe(200);
    } finally {
      for (const socket of held) socket.destroy();
    }
  });
});

