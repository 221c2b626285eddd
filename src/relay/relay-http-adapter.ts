/**
 * Nest's Express adapter, with the HTTP server created from the relay's
 * limits: Nest's own creates it with Node's defaults only.
 */
import { createServer } from 'node:http';
import { ExpressAdapter } from '@nestjs/platform-express';
import type { RelayLimits } from '../config/config';

/** Node checks header deadlines on this period; finer than the deadline itself. */
const MAX_CHECK_INTERVAL_MS = 1000;

export class RelayHttpAdapter extends ExpressAdapter {
  constructor(private readonly limits: RelayLimits) {
    super();
  }

  override initHttpServer(): void {
    const { maxHeaderBytes, headerTimeoutMs } = this.limits;
    this.httpServer = createServer(
      {
        maxHeaderSize: maxHeaderBytes,
        headersTimeout: headerTimeoutMs,
        requestTimeout: Math.max(headerTimeoutMs, 300_000),
        connectionsCheckingInterval: Math.min(MAX_CHECK_INTERVAL_MS, Math.max(50, Math.floor(headerTimeoutMs / 4))),
      },
      this.getInstance(),
    );
  }
}
