/** What a RemotedServer can be told at construction (checked once, in its constructor). */
import type { Duplex } from 'node:stream';
import type { ReconnectOptions } from './backoff';
import type { RelayTlsOptions } from '../dial/webroute-client';

export interface ListenOptions {
  /** The server key, for an `rws(s)://` URL that carries none; a key in the URL wins. */
  key?: string;
  /** Reconnect the WebSocket after a drop; `false` turns a drop into 'error' and 'close'. */
  reconnect?: ReconnectOptions | false;
  /** Tries per dial-back when the relay cannot be reached (the original tries 3 times). Default 3. */
  dialBackAttempts?: number;
  /** Wait before dial-back try n+1 is n times this. Default 200 ms. */
  dialBackRetryDelayMs?: number;
  /** Bound on the WebSocket handshake and on each dial-back. Default 10 000 ms. */
  handshakeTimeoutMs?: number;
  /** We ping the relay this often and drop a WebSocket that missed a pong. 0 turns it off. Default 30 000 ms. */
  pingIntervalMs?: number;
  /** TLS options for `rwss` (ca, cert, rejectUnauthorized, servername, ...). */
  tls?: RelayTlsOptions;
  /** Origin header of the WebSocket (the original relay requires one). Default the relay's http(s) URL. */
  origin?: string;
  /**
   * Spare dial-backs kept open at the relay, so that a dial is linked at once
   * without a notify and a dial-back round trip (docs/protocol.md, spares).
   * `'auto'` (the default) keeps 2 while idle and more while dials come fast,
   * up to what the relay grants (at most 64); a number keeps that many (capped
   * by the grant); 0 turns spares off. A relay without the extension grants
   * none, and then nothing changes.
   */
  spares?: number | 'auto';
  /**
   * Readies what a dial needs before the listener dials back for it, usually
   * the connection to the local service; 'connection' then carries it beside
   * the link. When it rejects, the dial is refused: a relay that grants
   * `refuse` answers its dialer 502 `destination_unreachable` with the
   * error's message as the reason (so keep local details out of it), and no
   * dial-back is made; any other relay gets a dial-back that is closed at once.
   * A dial linked to a spare is readied after the link: if it rejects, the
   * link is closed. The listener owns what it resolves to until it is handed
   * over with 'connection', and destroys it if the dial-back fails.
   */
  openTarget?: (dial: IncomingDial) => Promise<Duplex>;
}

/** A dial the relay told the listener of (or linked to one of its spares). */
export interface IncomingDial {
  /** The dialer's WebRoute id. */
  id: string;
  /** The dialer's address as the relay saw it (`ipaddr` form). */
  dialerAddress: string;
}
