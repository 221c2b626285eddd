import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_CONFIG } from '../../../src/config/config';
import { ConfigError, loadConfig } from '../../../src/config/load-config';

function configFile(content: unknown): string {
  const file = join(mkdtempSync(join(tmpdir(), 'remoted-config-')), 'config.json');
  writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content));
  return file;
}

describe('loadConfig', () => {
  it('gives the documented defaults', () => {
    const config = loadConfig();
    expect(config).toEqual(DEFAULT_CONFIG);
    expect(config).toMatchObject({ host: '127.0.0.1', port: 37791, dataDir: './data', defaultTimeoutSeconds: 60 });
    expect(config.limits).toMatchObject({ maxHeaderBytes: 16384, headerTimeoutMs: 10000, maxWaitingDialersPerRoute: 1024, maxPreLinkBytes: 65536 });
  });

  it('applies defaults < file < environment < flags', () => {
    const file = configFile({ port: 1000, host: '0.0.0.0', logLevel: 'warn', limits: { maxHeaderBytes: 4096, headerTimeoutMs: 2000 } });
    const config = loadConfig({
      argv: ['--config', file, '--port', '3000', '--max-header-bytes', '8192'],
      env: { REMOTED_PORT: '2000', REMOTED_LOG_LEVEL: 'debug', REMOTED_MAX_HEADER_BYTES: '2048', REMOTED_DEFAULT_TIMEOUT: '90' },
    });
    expect(config.port).toBe(3000);
    expect(config.host).toBe('0.0.0.0');
    expect(config.logLevel).toBe('debug');
    expect(config.defaultTimeoutSeconds).toBe(90);
    expect(config.limits.maxHeaderBytes).toBe(8192);
    expect(config.limits.headerTimeoutMs).toBe(2000);
    expect(config.limits.maxPreLinkBytes).toBe(DEFAULT_CONFIG.limits.maxPreLinkBytes);
  });

  it('names every bad value and where it came from, all at once', () => {
    const file = configFile({ prot: 1, limits: { maxHeaderBytes: 'big' } });
    let error: unknown;
    try {
      loadConfig({ argv: ['--config', file], env: { REMOTED_PORT: '70000', REMOTED_LOG_LEVEL: 'loud', REMOTED_DEFAULT_TIMEOUT: '1.5' } });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems.join('\n');
    expect(problems).toMatch(/unknown setting "prot"/);
    expect(problems).toMatch(/limits\.maxHeaderBytes: "big" is not a whole number/);
    expect(problems).toMatch(/REMOTED_PORT: "70000" is not a whole number from 0 to 65535/);
    expect(problems).toMatch(/REMOTED_LOG_LEVEL: "loud" is not one of/);
    expect(problems).toMatch(/REMOTED_DEFAULT_TIMEOUT: "1.5"/);
  });

  it('refuses configured keys shorter than 32 characters, naming the setting and its source but not the key', () => {
    const file = configFile({ adminKey: 'short-admin-key' });
    let error: unknown;
    try {
      loadConfig({ argv: ['--config', file, '--client-key', 'a'], env: { REMOTED_SERVER_KEY: 'x'.repeat(31) } });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems.join('\n');
    expect(problems).toMatch(/REMOTED_SERVER_KEY: a key of 31 characters is too short; use at least 32 random characters/);
    expect(problems).toMatch(/--client-key: a key of 1 characters is too short/);
    expect(problems).toMatch(/config\.json: adminKey: a key of 15 characters is too short/);
    expect(problems).toMatch(/unsalted SHA-256/);
    expect(problems).not.toContain('short-admin-key');
    expect(problems).not.toContain('x'.repeat(31));
    expect(() => loadConfig({ overrides: { serverKey: `${' '.repeat(16)}${'k'.repeat(31)}` } })).toThrow(/options: serverKey: a key of 31 characters/);
    const long = 'k'.repeat(32);
    expect(loadConfig({ env: { REMOTED_SERVER_KEY: long, REMOTED_CLIENT_KEY: long, REMOTED_ADMIN_KEY: long } })).toMatchObject({ serverKey: long, clientKey: long, adminKey: long });
  });

  it('reports a config file that is not JSON', () => {
    expect(() => loadConfig({ argv: ['--config', configFile('{nope')] })).toThrow(/--config .*config\.json/);
  });

  it('reads a boolean setting from true/false words and JSON booleans, and nothing else', () => {
    expect(loadConfig().proxyProtocol).toBe(false);
    expect(loadConfig({ env: { REMOTED_PROXY_PROTOCOL: 'true' } }).proxyProtocol).toBe(true);
    expect(loadConfig({ env: { REMOTED_PROXY_PROTOCOL: 'true' }, argv: ['--proxy-protocol', 'false'] }).proxyProtocol).toBe(false);
    expect(loadConfig({ argv: ['--config', configFile({ proxyProtocol: true })] }).proxyProtocol).toBe(true);
    for (const bad of ['yes', '1', 'TRUE']) {
      expect(() => loadConfig({ env: { REMOTED_PROXY_PROTOCOL: bad } })).toThrow(new RegExp(`REMOTED_PROXY_PROTOCOL: "${bad}" is not true or false`));
    }
    expect(() => loadConfig({ argv: ['--config', configFile({ proxyProtocol: 1 })] })).toThrow(/proxyProtocol: 1 is not true or false/);
  });
  describe('cluster mode', () => {
    const secret = 's'.repeat(32);

    it('is off unless a Redis URL is set', () => {
      expect(loadConfig().cluster).toEqual({ leaseMs: 10_000 });
    });

    it('takes the Redis URL, node id and secret from the environment and flags', () => {
      const config = loadConfig({ env: { REMOTED_REDIS_URL: 'redis://127.0.0.1:6379/0', REMOTED_CLUSTER_SECRET: secret, REMOTED_NODE_ADDRESS: '[fd00::11]:37791' }, argv: ['--node-id', 'relay-1.eu', '--route-lease-ms', '3000'] });
      expect(config.cluster).toEqual({ redisUrl: 'redis://127.0.0.1:6379/0', nodeId: 'relay-1.eu', secret, nodeAddress: '[fd00::11]:37791', leaseMs: 3000 });
      expect(() => loadConfig({ env: { REMOTED_NODE_ADDRESS: '10.0.0.11' } })).toThrow(/REMOTED_NODE_ADDRESS: must be host:port/);
    });

    it('needs the cluster secret with a Redis URL, and says how to make one', () => {
      expect(() => loadConfig({ argv: ['--redis-url', 'redis://127.0.0.1:6379'] })).toThrow(/--redis-url: cluster mode needs REMOTED_CLUSTER_SECRET .*openssl rand -hex 32/);
    });

    it('refuses a short secret, a URL that is not redis:// and a node id with other characters, echoing neither the secret nor the URL', () => {
      let error: unknown;
      try {
        loadConfig({ env: { REMOTED_REDIS_URL: 'http://:hunter2@db:6379', REMOTED_CLUSTER_SECRET: 'tiny-secret', REMOTED_NODE_ID: 'node one' } });
      } catch (err) {
        error = err;
      }
      expect(error).toBeInstanceOf(ConfigError);
      const problems = (error as ConfigError).problems.join('\n');
      expect(problems).toMatch(/REMOTED_REDIS_URL: must be a redis:\/\/ or rediss:\/\/ URL/);
      expect(problems).toMatch(/REMOTED_CLUSTER_SECRET: a secret of 11 characters is too short; use at least 32/);
      expect(problems).toMatch(/REMOTED_NODE_ID: must be 1 to 64 letters, digits/);
      expect(problems).not.toContain('hunter2');
      expect(problems).not.toContain('tiny-secret');
    });
  });
});
