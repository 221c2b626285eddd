/** TLS on the relay port: wss listener and a WebRoute link over TLS end to end, certificate reload. */
import { TestListener } from '../helpers/relay-peers';
import { copyFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { readBytes, webRouteHeaders } from '../helpers/raw-http';
import { type StartedRelay, startRelay } from '../helpers/start-relay';
import { ended } from '../helpers/wait-for';
import { RelayService } from '../../src/relay/relay.service';
import { type CertFiles, connectTls, getText, requestOn, selfSignedCert } from './ops-helpers';

describe('TLS on the relay port', () => {
  let relay: StartedRelay;
  let first: CertFiles;

  beforeAll(async () => {
    first = selfSignedCert('relay-one');
    relay = await startRelay({ tls: { certFile: first.certFile, keyFile: first.keyFile } });
  });
  afterAll(async () => {
    await relay.close();
    rmSync(first.dir, { recursive: true, force: true });
  });

  it('links a wss listener and a TLS dialer; bytes and half-close pass unchanged', async () => {
    const listener = await TestListener.openUrl(`wss://127.0.0.1:${relay.port}/secure`, relay.keys.server, { ca: first.cert });
    const dialSocket = await connectTls(relay.port, first.cert);
    const dialed = requestOn(dialSocket, '/secure', webRouteHeaders(relay.keys.client));
    const notice = await listener.nextNotice();
    expect(notice.ipaddr).toMatch(/^127\.0\.0\.1:\d+$/);
    const backSocket = await connectTls(relay.port, first.cert);
    const back = await requestOn(backSocket, '/secure', webRouteHeaders(relay.keys.server, notice.id));
    const dial = await dialed;
    expect([dial.status, back.status]).toEqual([101, 101]);

    dialSocket.end('over tls');
    expect((await readBytes(backSocket, 8, back.rest)).toString()).toBe('over tls');
    await ended(backSocket);
    // Half-close: the listener side may still answer after the dialer's FIN.
    backSocket.end('reply');
    expect((await readBytes(dialSocket, 5, dial.rest)).toString()).toBe('reply');
    await listener.close();
  });

  it('refuses plain HTTP on the TLS port', async () => {
    await expect(getText(relay.port, '/healthz')).rejects.toThrow();
  });

  it('reloads the certificate from its files (what SIGHUP does)', async () => {
    const second = selfSignedCert('relay-two');
    const before = await connectTls(relay.port, first.cert);
    const fingerprintBefore = (before as TLSSocket).getPeerCertificate().fingerprint256;
    before.destroy();
    copyFileSync(second.certFile, first.certFile);
    copyFileSync(second.keyFile, first.keyFile);
    relay.app.get(RelayService).reloadTls();
    await expect(connectTls(relay.port, first.cert)).rejects.toThrow();
    const after = await connectTls(relay.port, second.cert);
    expect((after as TLSSocket).getPeerCertificate().fingerprint256).not.toBe(fingerprintBefore);
    after.destroy();
    rmSync(second.dir, { recursive: true, force: true });
  });

  it('reloads the certificate by itself when its files change, and keeps it when they break', async () => {
    const third = selfSignedCert('relay-three');
    // As certbot and editors do: a new file renamed over the old one, then the key in place.
    copyFileSync(third.certFile, `${first.certFile}.new`);
    renameSync(`${first.certFile}.new`, first.certFile);
    copyFileSync(third.keyFile, first.keyFile);
    // No reloadTls call: the relay notices the files (polled, then settled).
    const after = await connectTlsWithin(relay.port, third.cert, 5000);
    expect((after as TLSSocket).getPeerCertificate().subject.CN).toBe('relay-three');
    after.destroy();

    // Half-written or garbage files are not taken: the last good certificate stays.
    writeFileSync(first.certFile, 'not a certificate');
    await delay(1000);
    const still = await connectTls(relay.port, third.cert);
    expect((still as TLSSocket).getPeerCertificate().subject.CN).toBe('relay-three');
    still.destroy();
    copyFileSync(third.certFile, first.certFile);
    rmSync(third.dir, { recursive: true, force: true });
  });
});

/** Retries a TLS connection trusting only `ca` until it succeeds or `timeoutMs` passes. */
async function connectTlsWithin(port: number, ca: Buffer, timeoutMs: number): Promise<Socket> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await connectTls(port, ca);
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await delay(50);
    }
  }
}

describe('TLS settings', () => {
  it('refuses to start with a certificate but no key', async () => {
    await expect(startRelay({ tls: { certFile: '/nonexistent.crt' } })).rejects.toThrow(/--tls-key/);
  });
});
