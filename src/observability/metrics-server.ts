/**
 * Prometheus' own port: GET /metrics and nothing else, kept off the public
 * relay port by default. It owns its sockets and closes them all at stop.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { RelayMetrics } from './relay-metrics';

export const METRICS_PATH = '/metrics';

export class MetricsServer {
  private readonly server: Server;

  constructor(private readonly metrics: RelayMetrics) {
    this.server = createServer({ requestTimeout: 30_000, headersTimeout: 10_000 }, this.handle);
  }

  listen(port: number, host: string): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        resolve((this.server.address() as AddressInfo).port);
      });
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  private readonly handle = (req: IncomingMessage, res: ServerResponse): void => {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== METRICS_PATH || (req.method !== 'GET' && req.method !== 'HEAD')) {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found\n');
      return;
    }
    sendMetrics(this.metrics, res);
  };
}

/** Writes the exposition text; a failed collection is a 500 without details. */
export function sendMetrics(metrics: RelayMetrics, res: ServerResponse): void {
  metrics.scrape().then(
    (text) => res.writeHead(200, { 'Content-Type': metrics.contentType, 'Cache-Control': 'no-cache' }).end(text),
    () => res.writeHead(500, { 'Content-Type': 'text/plain' }).end('metrics collection failed\n'),
  );
}
