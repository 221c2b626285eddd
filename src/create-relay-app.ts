/** Builds and starts the whole relay: what main.ts runs, and what end-to-end tests start. */
import type { AddressInfo } from 'node:net';
import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { Logger } from 'pino';
import { AppModule } from './app.module';
import { nodeAddressOf, withNodeId } from './cluster/cluster-mode';
import { RelayService } from './relay/relay.service';
import { redactedUrl } from './cluster/redis-connection';
import { bindError } from './config/bind-error';
import type { Config } from './config/config';
import { ControlService } from './control/control.service';
import { NestPinoLogger } from './logging/nest-logger';
import { MetricsService } from './observability/metrics.service';
import { checkRelayConfig } from './relay/port/check-relay-config';
import { TrustedProxies } from './relay/port/client-address';
import { StatusService } from './status/status.service';
import { RelayHttpAdapter } from './relay/port/relay-http-adapter';
import { ListenerWsAdapter } from './relay/routes/listener-ws-adapter';

export interface RunningRelay {
  app: INestApplication;
  /** The port the relay listens on (the configured one, or the one picked for 0). */
  port: number;
  /** The status page's port; undefined when the page is off. */
  statusPort: number | undefined;
}

export interface RelayAppOptions {
  /**
   * Binds the status page on a port the kernel picks, whatever status.port
   * says (0 there turns the page off): one bind, so tests that want the page
   * never race each other for a port number.
   */
  statusOnAnyPort?: boolean;
}

export async function createRelayApp(configured: Config, rootLogger: Logger, options: RelayAppOptions = {}): Promise<RunningRelay> {
  checkRelayConfig(configured);
  const { config, generatedNodeId } = withNodeId(configured);
  const { nodeId, redisUrl } = config.cluster;
  // In cluster mode every line names its node, so that the logs of several nodes can be read together.
  const logger = nodeId === undefined ? rootLogger : rootLogger.child({ node: nodeId });
  if (redisUrl !== undefined) {
    logger.info({ redis: redactedUrl(redisUrl), generatedNodeId }, generatedNodeId ? 'cluster mode; no REMOTED_NODE_ID was set, so this node has a new id for this start' : 'cluster mode');
    if (config.tls.certFile !== undefined || config.proxyProtocol) {
      logger.warn('cluster mode: the node-to-node hop speaks neither TLS nor the PROXY protocol yet, so a link whose dial-back lands on another node than its dialer fails on this relay port (docs/cluster.md)');
    }
  }
  const app = await NestFactory.create(AppModule.register(config, logger), new RelayHttpAdapter({
    limits: config.limits,
    tls: config.tls,
    proxyProtocol: config.proxyProtocol ? { trusted: new TrustedProxies(config.trustedProxies), log: logger } : undefined,
  }), {
    logger: new NestPinoLogger(logger),
    bodyParser: false,
    // A provider that fails (Redis not reachable) is thrown to the caller, which names it, rather than Nest exiting the process.
    abortOnError: false,
  });
  // The listener gateway's WebSocket server takes upgrades only from the relay's router (listener-ws-adapter.ts).
  app.useWebSocketAdapter(new ListenerWsAdapter(app, { maxPayload: config.limits.maxListenerMessageBytes }));
  // Express announces itself on every answer; the relay's answers name no software.
  (app.getHttpAdapter() as RelayHttpAdapter).getInstance<{ disable(setting: string): unknown }>().disable('x-powered-by');
  try {
    // The data port first, then the control plane, metrics and the status page: each binds only once the one before is up.
    await app.listen(config.port, config.host).catch((err: unknown) => {
      throw bindError(err, { portPath: 'port', hostPath: 'host', port: config.port, host: config.host });
    });
    if (redisUrl !== undefined) await app.get(RelayService).joinCluster(nodeAddressOf(config, (app.getHttpServer().address() as AddressInfo).port));
    await app.get(ControlService).start();
    await app.get(MetricsService).start();
    await app.get(StatusService).start({ anyPort: options.statusOnAnyPort });
  } catch (err) {
    // What did start (key store, a port) is closed, so that an embedder or a test is left with nothing open.
    await app.close();
    throw err;
  }
  const port = (app.getHttpServer().address() as AddressInfo).port;
  return { app, port, statusPort: app.get(StatusService).port };
}

