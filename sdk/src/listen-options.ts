/** What a RemotedServer can be told at construction (checked once, in its constructor). */
import type { ReconnectOptions } from './backoff';
import type { RelayTlsOptions } from './relay-transport';

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
   * (capped by what the relay grants; a relay without the extension grants
   * none). Default 0: off.
   */
  spares?: number;
}
