/** attach() on http/https servers, and HTTP clients whose connections are dials: fetch (undici), http.Agent, https.Agent. */
import { createServer, get, type IncomingMessage, type Server } from 'node:http';
import { connect as http2Connect, createServer as createHttp2Server } from 'node:http2';
import { createServer as createHttpsServer } from 'node:https';
import { fetch } from 'undici';
import { attach, dial, dialerAddressOf, RemotedAgent, RemotedHttpsAgent, type RemotedServer } from '@remoted/sdk';
import { createRemotedDispatcher } from '@remoted/sdk/fetch';
import { startRelay, type StartedRelay } from '../helpers/start-relay';
import { nextEvent, selfSignedCert } from './sdk-helpers';

function getText(url: string, agent: RemotedAgent | RemotedHttpsAgent, extra: Record<string, unknown> = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    get(url, { agent, ...extra }, (res: IncomingMessage) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    }).on('error', reject);
  });
}

describe('HTTP through the relay', () => {
  let relay: StartedRelay;
  let app: Server;
  let remoted: RemotedServer;

  beforeAll(async () => {
    relay = await startRelay();
    // An ordinary http.Server that answers with what it sees; attached, and on no port of its own.
    app = createServer((req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ method: req.method, url: req.url, dialer: dialerAddressOf(req.socket) ?? null }));
    });
    remoted = attach(app, relay.url('rws', '/api'));
    await nextEvent(remoted, 'listening');
  });
  afterAll(async () => {
    app.closeAllConnections();
    const closed = nextEvent(remoted, 'close');
    await new Promise<void>((resolve) => app.close(() => resolve()));
    await closed;
    await relay.close();
  });

  it('fetch with the undici dispatcher: keep-alive requests on links', async () => {
    const dispatcher = createRemotedDispatcher(relay.url('rwr', '/api'));
    try {
      for (const path of ['/one', '/two?x=1', '/three']) {
        const res = await fetch(`http://app.internal${path}`, { dispatcher });
        expect(res.status).toBe(200);
        const body = (await res.json()) as { method: string; url: string; dialer: string | null };
        expect(body.method).toBe('GET');
        expect(body.url).toBe(path);
        expect(body.dialer).toMatch(/^127\.0\.0\.1:\d+$/);
      }
      // Node's own fetch takes the same dispatcher.
      const native = await globalThis.fetch('http://app.internal/native', { dispatcher } as RequestInit);
      expect(((await native.json()) as { url: string }).url).toBe('/native');
      const posted = await fetch('http://app.internal/post', { dispatcher, method: 'POST', body: 'x' });
      expect(((await posted.json()) as { method: string }).method).toBe('POST');
    } finally {
      await dispatcher.close();
    }
  });

  it('http.get with a RemotedAgent', async () => {
    const agent = new RemotedAgent(relay.url('rwr', '/api'));
    try {
      const { status, body } = await getText('http://whatever/agent', agent);
      expect(status).toBe(200);
      expect(JSON.parse(body)).toMatchObject({ url: '/agent' });
    } finally {
      agent.destroy();
    }
  });

  it('a dial error reaches the HTTP client as the RemotedError', async () => {
    const agent = new RemotedAgent(relay.url('rwr', '/none'));
    try {
      await expect(getText('http://whatever/', agent)).rejects.toMatchObject({ name: 'RemotedError', code: 'missing_destination' });
    } finally {
      agent.destroy();
    }
    const dispatcher = createRemotedDispatcher(relay.url('rwr', '/none'));
    try {
      const err = await fetch('http://x/', { dispatcher }).then(
        () => undefined,
        (e: Error & { cause?: unknown }) => e.cause,
      );
      expect(err).toMatchObject({ name: 'RemotedError', code: 'missing_destination' });
    } finally {
      await dispatcher.close();
    }
  });

  it('an https.Server attached next to nothing: TLS end to end over the link, dialer address through the TLS socket', async () => {
    const { key, cert } = selfSignedCert('app.internal');
    const secure = createHttpsServer({ key, cert }, (req, res) => {
      res.end(`secure ${req.url} from ${dialerAddressOf(req.socket) ?? 'unknown'}`);
    });
    const attached = attach(secure, relay.url('rws', '/secure'));
    await nextEvent(attached, 'listening');
    const agent = new RemotedHttpsAgent(relay.url('rwr', '/secure'));
    try {
      const { status, body } = await getText('https://app.internal/tls', agent, { ca: cert });
      expect(status).toBe(200);
      expect(body).toMatch(/^secure \/tls from 127\.0\.0\.1:\d+$/);
      const dispatcher = createRemotedDispatcher(relay.url('rwr', '/secure'), { connectTls: { ca: cert } });
      const res = await fetch('https://app.internal/undici', { dispatcher });
      expect(await res.text()).toMatch(/^secure \/undici from /);
      await dispatcher.close();
    } finally {
      agent.destroy();
      secure.closeAllConnections();
      await new Promise<void>((resolve) => secure.close(() => resolve()));
    }
  });

  it('an HTTP/2 (h2c) server attached: a session over a dialed link', async () => {
    const h2 = createHttp2Server((req, res) => res.end(`h2 ${req.url} from ${dialerAddressOf(req.socket) ?? 'unknown'}`));
    const attached = attach(h2, relay.url('rws', '/h2'));
    await nextEvent(attached, 'listening');
    const link = await dial(relay.url('rwr', '/h2'));
    const session = http2Connect('http://app.internal', { createConnection: () => link });
    try {
      const body = await new Promise<string>((resolve, reject) => {
        const stream = session.request({ ':path': '/over-h2' });
        let text = '';
        stream.on('data', (chunk: Buffer) => (text += chunk.toString()));
        stream.on('end', () => resolve(text));
        stream.on('error', reject);
        stream.end();
      });
      expect(body).toMatch(/^h2 \/over-h2 from 127\.0\.0\.1:\d+$/);
    } finally {
      session.destroy();
      await new Promise<void>((resolve) => h2.close(() => resolve()));
    }
  });

  it('attach keeps the server on its own port too', async () => {
    const both = createServer((req, res) => res.end(`both ${req.url}`));
    await new Promise<void>((resolve) => both.listen(0, '127.0.0.1', resolve));
    const attached = attach(both, relay.url('rws', '/both'));
    await nextEvent(attached, 'listening');
    const agent = new RemotedAgent(relay.url('rwr', '/both'));
    try {
      expect((await getText('http://x/relay', agent)).body).toBe('both /relay');
      const port = (both.address() as { port: number }).port;
      const direct = await new Promise<string>((resolve, reject) => {
        get(`http://127.0.0.1:${port}/direct`, (res) => {
          let body = '';
          res.on('data', (c: Buffer) => (body += c.toString()));
          res.on('end', () => resolve(body));
        }).on('error', reject);
      });
      expect(direct).toBe('both /direct');
    } finally {
      agent.destroy();
      both.closeAllConnections();
      const closed = nextEvent(attached, 'close');
      await new Promise<void>((resolve) => both.close(() => resolve()));
      await closed; // closing the server closes its relay listener
    }
  });
});
