/**
 * http.Agent and https.Agent whose connections are dials: every request goes
 * to the route, whatever host the request URL names. With https the TLS is
 * end to end, spoken over the link.
 */
import { Agent as HttpAgent, type AgentOptions as HttpAgentOptions, type ClientRequestArgs } from 'node:http';
import { Agent as HttpsAgent, type AgentOptions as HttpsAgentOptions } from 'node:https';
import type { Duplex } from 'node:stream';
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls';
import { dial, type DialOptions } from './dial';

type ConnectionCallback = (err: Error | null, stream: Duplex) => void;

/** Node's Agent takes (err) alone on failure; @types/node's callback type always wants a stream. */
const NO_STREAM = undefined as unknown as Duplex;

export class RemotedAgent extends HttpAgent {
  private readonly dialOptions: DialOptions;

  constructor(
    private readonly dialString: string,
    options: HttpAgentOptions & { dial?: DialOptions } = {},
  ) {
    super(options);
    this.dialOptions = options.dial ?? {};
  }

  override createConnection(_options: ClientRequestArgs, callback?: ConnectionCallback): undefined {
    dial(this.dialString, this.dialOptions).then(
      (socket) => callback?.(null, socket),
      (err: Error) => callback?.(err, NO_STREAM),
    );
    return undefined;
  }
}

export class RemotedHttpsAgent extends HttpsAgent {
  private readonly dialOptions: DialOptions;

  constructor(
    private readonly dialString: string,
    options: HttpsAgentOptions & { dial?: DialOptions } = {},
  ) {
    super(options);
    this.dialOptions = options.dial ?? {};
  }

  override createConnection(options: ClientRequestArgs, callback?: ConnectionCallback): undefined {
    dial(this.dialString, this.dialOptions).then(
      (link) => {
        // The request's TLS options (ca, servername, rejectUnauthorized) apply to the app's TLS inside the link.
        const tlsOptions = options as ConnectionOptions;
        const servername = tlsOptions.servername ?? (typeof options.host === 'string' ? options.host : undefined);
        callback?.(null, tlsConnect({ ...tlsOptions, servername, socket: link }));
      },
      (err: Error) => callback?.(err, NO_STREAM),
    );
    return undefined;
  }
}
