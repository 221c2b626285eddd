/**
 * Settings checked against the machine before the app is built: each bad one
 * is a ConfigError (exit 2 in main.ts) that names its variable and flag.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig, type DeepPartial } from '../../../../src/config/load-config';
import type { Config } from '../../../../src/config/config';
import { checkRelayConfig } from '../../../../src/relay/port/check-relay-config';

function problemsOf(overrides: DeepPartial<Config>): readonly string[] {
  try {
    checkRelayConfig(loadConfig({ overrides }));
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
}

describe('checkRelayConfig', () => {
  const dir = mkdtempSync(join(tmpdir(), 'remoted-check-'));
  const pem = join(dir, 'file.pem');
  writeFileSync(pem, 'not checked here: only that it can be read');

  it('passes the defaults', () => {
    expect(problemsOf({})).toEqual([]);
  });

  it('names a bad trusted-proxy entry', () => {
    expect(problemsOf({ trustedProxies: '127.0.0.1, nonsense/99' })).toEqual([
      'REMOTED_TRUSTED_PROXIES (--trusted-proxies): trusted proxies: "nonsense/99" is not an address or CIDR',
    ]);
  });

  it('names the PROXY protocol without trusted proxies', () => {
    expect(problemsOf({ proxyProtocol: true })[0]).toMatch(/^REMOTED_PROXY_PROTOCOL \(--proxy-protocol\): needs .*REMOTED_TRUSTED_PROXIES/);
  });

  it('names the missing half of a TLS pair, on the relay port and on the control plane', () => {
    expect(problemsOf({ tls: { certFile: pem } })).toEqual([expect.stringMatching(/^REMOTED_TLS_KEY \(--tls-key\): missing/)]);
    expect(problemsOf({ grpc: { tlsKeyFile: pem } })).toEqual([expect.stringMatching(/^REMOTED_GRPC_TLS_CERT \(--grpc-tls-cert\): missing/)]);
  });

  it('names a file that cannot be read, and every problem at once', () => {
    const missing = join(dir, 'absent.pem');
    expect(problemsOf({ tls: { certFile: missing, keyFile: pem }, trustedProxies: 'x' })).toEqual([
      expect.stringMatching(/^REMOTED_TRUSTED_PROXIES/),
      `REMOTED_TLS_CERT (--tls-cert): cannot read ${missing} (ENOENT)`,
    ]);
  });
});
