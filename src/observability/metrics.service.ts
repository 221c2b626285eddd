/**
 * Owns the metrics: built only when they are asked for (a metrics port or a
 * token), so a relay without them pays nothing, and the metrics port's server.
 */
import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import type { Logger } from 'pino';
import { bindError } from '../config/bind-error';
import type { Config } from '../config/config';
import { CONFIG } from '../config/config.constants';
import { LOGGER } from '../logging/logging.constants';
import { RelayAdmin } from '../relay/relay-admin';
import { RelayEvents } from '../relay/context/relay-events';
import { RelayTally } from '../relay/relay-tally';
import { MetricsServer } from './metrics-server';
import { RelayMetrics } from './relay-metrics';

@Injectable()
export class MetricsService implements OnApplicationShutdown {
  /** undefined when metrics are off. */
  readonly metrics: RelayMetrics | undefined;
  private server: MetricsServer | undefined;
  /** The metrics port (the configured one, or the one picked for 0); undefined when off. */
  port: number | undefined;

  constructor(
    @Inject(CONFIG) private readonly config: Config,
    relay: RelayAdmin,
    events: RelayEvents,
    tally: RelayTally,
    @Inject(LOGGER) private readonly log: Logger,
  ) {
    const { port, token } = config.metrics;
    if (port === undefined && token === undefined) return;
    this.metrics = new RelayMetrics({ relay, events, tally, nodeId: config.cluster.nodeId });
  }

  /** Binds the metrics port, if one is set: called by createRelayApp after the data port and the control plane. */
  async start(): Promise<void> {
    const { host, port } = this.config.metrics;
    if (!this.metrics || port === undefined) return;
    this.server = new MetricsServer(this.metrics);
    this.port = await this.server.listen(port, host).catch((err: unknown) => {
      throw bindError(err, { portPath: 'metrics.port', hostPath: 'metrics.host', port, host });
    });
    this.log.info({ host, port: this.port }, 'metrics listening');
  }

  async onApplicationShutdown(): Promise<void> {
    await this.server?.close();
    this.metrics?.dispose();
  }
}
