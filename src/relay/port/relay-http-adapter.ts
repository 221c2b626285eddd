/**
 * Nest's Express adapter, with the HTTP server created from the relay's
 * limits (Nest's own creates it with Node's defaults only), speaking TLS when
 * a certificate is configured, and reading a PROXY header first when the
 * PROXY protocol is on.
 */
import { createServer, type Server, type ServerOptions } from 'node:http';
import type { Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:https';
import { ExpressAdapter } from '@nestjs/platform-express';
import type { Logger } from 'pino';
import type { RelayLimits, TlsFiles } from '../../config/config';
import type { TrustedProxies } from './client-address';
import { ProxyProtocolGate } from './proxy-protocol-gate';
import { SocketTracker } from './socket-tracker';
import { readTlsMaterial } from './tls-files';
import { stampAccepted } from '../context/setup-trace';

export interface RelayHttpAdapterOptions {
  limits: RelayLimits;
  tls?: TlsFiles;
  /** Set when the PROXY protocol is on: who may send headers, and where refusals are logged. */
  proxyProtocol?: { trusted: TrustedProxies; log: Logger };
}

type ConnectionListener = (socket: Socket) => void;

/** Node checks header deadlines on this period; finer than the deadline itself. */
const MAX_CHECK_INTERVAL_MS = 1000;

export class RelayHttpAdapter extends ExpressAdapter {
  /** Every connection of the port, until it closes: what close() ends. */
  private readonly connections = new SocketTracker();

  constructor(private readonly relayOptions: RelayHttpAdapterOptions) {
    super();
  }

  override initHttpServer(): void {
    const { maxHeaderBytes, headerTimeoutMs } = this.relayOptions.limits;
    const options: ServerOptions = {
      maxHeaderSize: maxHeaderBytes,
      headersTimeout: headerTimeoutMs,
      requestTimeout: Math.max(headerTimeoutMs, 300_000),
      connectionsCheckingInterval: Math.min(MAX_CHECK_INTERVAL_MS, Math.max(50, Math.floor(headerTimeoutMs / 4))),
    };
    const material = readTlsMaterial(this.relayOptions.tls ?? {});
    this.httpServer = material
      ? // As the plain server does, keep sockets half-open capable: a link passes a FIN on as a FIN.
        // A TLS handshake that never completes is bounded by the same deadline as headers.
        createTlsServer({ ...options, ...material, handshakeTimeout: headerTimeoutMs, allowHalfOpen: true }, this.getInstance())
      : createServer(options, this.getInstance());
    if (this.relayOptions.proxyProtocol) this.putGateFirst(this.httpServer as Server, material !== undefined, this.relayOptions.proxyProtocol);
    this.httpServer.on('connection', (socket: Socket) => {
      stampAccepted(socket);
      this.connections.track(socket);
    });
  }

  /** Nest's listen with the relay's accept-queue length (limits.listenBacklog) instead of Node's 511. */
  override listen(port: string | number, callback?: () => void): Server;
  override listen(port: string | number, hostname: string, callback?: () => void): Server;
  override listen(port: string | number, hostnameOrCallback?: string | (() => void), callback?: () => void): Server {
    const server = this.httpServer as Server;
    const backlog = this.relayOptions.limits.listenBacklog;
    return typeof hostnameOrCallback === 'string'
      ? server.listen(Number(port), hostnameOrCallback, backlog, callback)
      : server.listen(Number(port), undefined, backlog, hostnameOrCallback);
  }

  /**
   * The server parses a connection (HTTP, or a TLS handshake) from its own
   * 'connection' listener. That listener is taken off and called by the gate
   * once the PROXY header is read, so that neither ever sees the header. The
   * server still accepts, listens and closes as usual: Nest and /readyz see it
   * unchanged.
   */
  private putGateFirst(server: Server, secure: boolean, proxy: NonNullable<RelayHttpAdapterOptions['proxyProtocol']>): void {
    const parsers = server.listeners('connection') as ConnectionListener[];
    server.removeAllListeners('connection');
    const gate = new ProxyProtocolGate({
      trusted: proxy.trusted,
      timeoutMs: this.relayOptions.limits.headerTimeoutMs,
      log: proxy.log,
      pass: (socket) => {
        for (const parse of parsers) parse.call(server, socket);
        // The gate left the socket paused with the rest unshifted. Node's HTTP parser does not resume
        // a paused socket; a TLS socket over it reads the buffered bytes itself on the next tick,
        // and resuming here would flow them away to nobody.
        if (!secure) socket.resume();
      },
    });
    server.on('connection', gate.accept);
  }

  /**
   * Nest closes the server after the relay has drained its links
   * (RelayService.beforeApplicationShutdown). Whatever is still connected then
   * (a TLS peer gone before its request, which the half-open capable TLS
   * server does not end; a slow plain request) must not hold the close for
   * the header timeout.
   */
  override close(): Promise<unknown> | undefined {
    this.connections.destroyAll();
    return super.close();
  }
}
