import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { status } from '@grpc/grpc-js';
import { createAdminClient } from '@remoted/sdk/admin';
import { type StartedRelay, startRelay } from '../helpers/start-relay';
import { expectStatus } from './control-helpers';

describe('control plane over TLS', () => {
  let dir: string;
  let relay: StartedRelay;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'remoted-tls-'));
    // A self-signed certificate for 127.0.0.1, made for this run.
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
      '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1',
      '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'),
    ], { stdio: 'ignore' });
    relay = await startRelay({ grpc: { host: '127.0.0.1', port: 0, tlsCertFile: join(dir, 'cert.pem'), tlsKeyFile: join(dir, 'key.pem') } });
  });
  afterAll(async () => {
    await relay.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves admin calls to a client that trusts the certificate, and nothing in plaintext', async () => {
    const address = `127.0.0.1:${relay.grpcPort}`;
    const client = createAdminClient({ address, key: relay.keys.admin, tls: { ca: readFileSync(join(dir, 'cert.pem')) } });
    expect((await client.stats.getStats({})).routes).toBe(0);
    client.close();
    const plain = createAdminClient({ address, key: relay.keys.admin });
    await expectStatus(plain.stats.getStats({}, { deadline: Date.now() + 2000 }), status.UNAVAILABLE);
    plain.close();
  });
});
