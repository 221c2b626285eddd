/**
 * fetch() through the relay: an undici dispatcher whose connections are
 * dials. A subpath of its own (`@remoted/sdk/fetch`) so that the main entry
 * does not load undici.
 *
 *   import { fetch } from 'undici';
 *   await fetch('http://app/health', { dispatcher: createRemotedDispatcher('rwr://KEY@relay/app') });
 */
import { Agent, buildConnector } from 'undici';
import { dial, type DialOptions } from './dial';

export interface RemotedDispatcherOptions extends Omit<Agent.Options, 'connect' | 'tls'> {
  dial?: DialOptions;
  /** TLS options for https:// requests, spoken end to end over the link. */
  connectTls?: buildConnector.BuildOptions;
}

export function createRemotedDispatcher(dialString: string, options: RemotedDispatcherOptions = {}): Agent {
  const { dial: dialOptions, connectTls, ...agentOptions } = options;
  const tlsConnector = buildConnector(connectTls ?? {});
  return new Agent({
    ...agentOptions,
    connect: (connectOptions, callback) => {
      dial(dialString, dialOptions).then(
        (socket) => {
          if (connectOptions.protocol === 'https:') tlsConnector({ ...connectOptions, httpSocket: socket }, callback);
          else callback(null, socket);
        },
        (err: Error) => callback(err, null),
      );
    },
  });
}
