/**
 * Nest's Express adapter, with the HTTP server created from the relay's
 * limits (Nest's own creates it with Node's defaults only), and speaking TLS
 * when a certificate is configured.
 */
import { createServer, type ServerOptions } from 'node:http';
import type { Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:https';
import { ExpressAdapter } from '@nestjs/platform-express';
import type { RelayLimits, TlsFiles } from '../config/config';
import { readTlsMaterial } from './tls-files';

/** Node checks header deadlines on this period; finer than the deadline itself. */
const MAX_CHECK_INTERVAL_MS = 1000;

export class RelayHttpAdapter extends ExpressAdapter {
  /** Every connection of the port, until it closes: what close() ends. */
  private readonly connections = new Set<Socket>();

  constructor(
    private readonly limits: RelayLimits,
    private readonly tls: TlsFiles = {},
  ) {
    super();
  }

  override initHttpServer(): void {
    const { maxHeaderBytes, headerTimeoutMs } = this.limits;
    const options: ServerOptions = {
      maxHeaderSize: maxHeaderBytes,
      headersTimeout: headerTimeoutMs,
      requestTimeout: Math.max(headerTimeoutMs, 300_000),
      connectionsCheckingInterval: Math.min(MAX_CHECK_INTERVAL_MS, Math.max(50, Math.floor(headerTimeoutMs / 4))),
    };
    const material = readTlsMaterial(this.tls);
    this.httpServer = material
      ? // As the plain server does, keep sockets half-open capable: a link passes a FIN on as a FIN.
        // A TLS handshake that never completes is bounded by the same deadline as headers.
        createTlsServer({ ...options, ...material, handshakeTimeout: headerTimeoutMs, allowHalfOpen: true }, this.getInstance())
      : createServer(options, this.getInstance());
    this.httpServer.on('connection', (socket: Socket) => {
      this.connections.add(socket);
      socket.once('close', () => this.connections.delete(socket));
    });
  }

  /**
   * Nest closes the server after the relay has drained its links
   * (RelayService.beforeApplicationShutdown). Whatever is still connected then
   * (a TLS peer gone before its request, which the half-open capable TLS
   * server does not end; a slow plain request) must not hold the close for
   * the header timeout.
   */
  override close(): Promise<unknown> | undefined {
    for (const socket of this.connections) socket.destroy();
    this.connections.clear();
    return super.close();
  }
}
