/**
 * With the PROXY protocol on, every connection to the relay port must begin
 * with a PROXY header (v1 or v2) from a trusted proxy. The gate owns each raw
 * socket from accept until its header is read: it refuses peers that are not
 * trusted proxies, reads the header (bounded in bytes and time), keeps the
 * client it names on the socket, puts back what followed it, and hands the
 * socket to the HTTP (or TLS) server. Anything wrong closes the connection:
 * there is nobody to answer in HTTP before the header, and for TLS not even a
 * handshake yet.
 */
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import type { TrustedProxies } from './client-address';
import { unmapped } from '@remoted/sdk/wire/ip-text';
import { setProxiedSource } from './proxied-source';
import { parseProxyHeader } from '@remoted/sdk/wire/proxy-header';

export interface ProxyProtocolGateOptions {
  trusted: TrustedProxies;
  /** Time for the header to arrive, from accept (the relay's header timeout). */
  timeoutMs: number;
  log: Logger;
  /** Gets the socket once its header is read, with the bytes after the header put back. */
  pass: (socket: Socket) => void;
}

/** State of one socket while its header is read (short-lived: one header's time). */
interface Pending {
  /** What came so far: at most a v1 line (107 bytes) or a v2 header (16 + its length), the parser says no past that. */
  received: Buffer;
  timer: NodeJS.Timeout;
  onData: (chunk: Buffer) => void;
  onClose: () => void;
}

export class ProxyProtocolGate {
  private readonly pending = new Map<Socket, Pending>();

  constructor(private readonly options: ProxyProtocolGateOptions) {}

  /** The server's 'connection' listener. */
  readonly accept = (socket: Socket): void => {
    socket.on('error', destroyOnError);
    const peer = socket.remoteAddress ?? '';
    if (!this.options.trusted.has(unmapped(peer))) {
      // Only a trusted proxy may name clients; anyone else reaching the port directly is refused.
      this.options.log.warn({ peer }, 'PROXY protocol: connection from a peer that is not a trusted proxy closed');
      socket.destroy();
      return;
    }
    const state: Pending = {
      received: Buffer.alloc(0),
      timer: setTimeout(() => this.refuse(socket, 'no complete PROXY header in time'), this.options.timeoutMs),
      onData: (chunk) => this.read(socket, chunk),
      onClose: () => {
        const left = this.pending.get(socket);
        if (left) this.release(socket, left);
      },
    };
    this.pending.set(socket, state);
    socket.on('data', state.onData);
    socket.once('close', state.onClose);
  };

  private read(socket: Socket, chunk: Buffer): void {
    const state = this.pending.get(socket);
    if (!state) return;
    const received = state.received.length === 0 ? chunk : Buffer.concat([state.received, chunk]);
    state.received = received;
    const result = parseProxyHeader(received);
    if (result.state === 'incomplete') return;
    if (result.state === 'invalid') return this.refuse(socket, result.reason);
    this.release(socket, state);
    if (result.source) setProxiedSource(socket, result.source);
    const rest = received.subarray(result.headerBytes);
    socket.pause();
    if (rest.length > 0) socket.unshift(rest);
    socket.off('error', destroyOnError);
    this.options.pass(socket);
  }

  private refuse(socket: Socket, reason: string): void {
    const state = this.pending.get(socket);
    if (state) this.release(socket, state);
    this.options.log.warn({ peer: socket.remoteAddress, reason }, 'PROXY protocol: bad header, connection closed');
    socket.destroy();
  }

  private release(socket: Socket, state: Pending): void {
    clearTimeout(state.timer);
    this.pending.delete(socket);
    socket.off('data', state.onData);
    socket.off('close', state.onClose);
  }
}

function destroyOnError(this: Socket): void {
  this.destroy();
}
