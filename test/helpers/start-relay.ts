/**
 * Starts the whole relay as main.ts does, on free ports (the control plane's
 * too, whatever else `grpc` overrides) with a temporary
 * SQLite file, and gives back its port, keys and a close() that ends the app
 * and every socket it opened.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import 'reflect-metadata';
import type { INestApplication } from '@nestjs/common';
import { randomToken } from '@remoted/sdk/protocol';
import type { Config } from '../../src/config/config';
import { type DeepPartial, loadConfig } from '../../src/config/load-config';
import { ControlService } from '../../src/control/control.service';
import { createRelayApp } from '../../src/create-relay-app';
import type { KeyStore } from '../../src/keys/api-key';
import { KEY_STORE } from '../../src/keys/keys.constants';
import { createLogger } from '../../src/logging/create-logger';
import { MetricsService } from '../../src/observability/metrics.service';

export interface StartedRelay {
  app: INestApplication;
  port: number;
  config: Config;
  store: KeyStore;
  dataDir: string;
  /** Secrets of a server, a client and an admin key registered at start. */
  keys: { server: string; client: string; admin: string };
  /** The gRPC control plane's port (always picked free). */
  grpcPort: number;
  /** The status page's port, when `{ statusPage: true }` was asked for (the page is off otherwise). */
  statusPort: number | undefined;
  /** The metrics port, when `metrics: { port: 0 }` was asked for. */
  metricsPort: number | undefined;
  /** `rws://server@127.0.0.1:port/path` or `rwr://client@...`. */
  url(scheme: 'rws' | 'rwr', path: string, key?: string): string;
  close(): Promise<void>;
}

export async function startRelay(overrides: DeepPartial<Config> = {}, opts: { dataDir?: string; statusPage?: boolean } = {}): Promise<StartedRelay> {
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), 'remoted-test-'));
  const keys = { server: randomToken(), client: randomToken(), admin: randomToken() };
  const config = loadConfig({
    overrides: { host: '127.0.0.1', port: 0, dataDir, logLevel: 'silent', serverKey: keys.server, clientKey: keys.client, adminKey: keys.admin, shutdownGraceMs: 0, ...overrides, status: { port: 0, ...overrides.status }, grpc: { host: '127.0.0.1', port: 0, ...overrides.grpc } },
  });
  const logger = createLogger(process.env.REMOTED_TEST_LOG_LEVEL === undefined ? config.logLevel : (process.env.REMOTED_TEST_LOG_LEVEL as Config['logLevel']));
  // The page is off unless asked for; then on a port the kernel picks at its one bind.
  const { app, port, statusPort } = await createRelayApp(config, logger, { statusOnAnyPort: opts.statusPage });
  let closed = false;
  return {
    app,
    port,
    grpcPort: app.get(ControlService).port,
    statusPort,
    metricsPort: app.get(MetricsService).port,
    config,
    store: app.get<KeyStore>(KEY_STORE),
    dataDir,
    keys,
    url: (scheme, path, key) => `${scheme}://${key ?? (scheme === 'rws' ? keys.server : keys.client)}@127.0.0.1:${port}${path}`,
    async close() {
      if (closed) return;
      closed = true;
      await app.close();
      if (!opts.dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
