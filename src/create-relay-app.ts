/** Builds and starts the whole relay: what main.ts runs, and what end-to-end tests start. */
import type { AddressInfo } from 'node:net';
import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { Logger } from 'pino';
import { AppModule } from './app.module';
import type { Config } from './config/config';
import { NestPinoLogger } from './logging/nest-logger';
import { checkRelayConfig } from './relay/check-relay-config';
import { TrustedProxies } from './relay/client-address';
import { RelayHttpAdapter } from './relay/relay-http-adapter';

export interface RunningRelay {
  app: INestApplication;
  /** The port the relay listens on (the configured one, or the one picked for 0). */
  port: number;
}

export async function createRelayApp(config: Config, logger: Logger): Promise<RunningRelay> {
  checkRelayConfig(config);
  const app = await NestFactory.create(AppModule.register(config, logger), new RelayHttpAdapter({
    limits: config.limits,
    tls: config.tls,
    proxyProtocol: config.proxyProtocol ? { trusted: new TrustedProxies(config.trustedProxies), log: logger } : undefined,
  }), {
    logger: new NestPinoLogger(logger),
    bodyParser: false,
  });
  // Express announces itself on every answer; the relay's answers name no software.
  (app.getHttpAdapter() as RelayHttpAdapter).getInstance<{ disable(setting: string): unknown }>().disable('x-powered-by');
  await app.listen(config.port, config.host);
  const port = (app.getHttpServer().address() as AddressInfo).port;
  return { app, port };
}
