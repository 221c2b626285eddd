/** `remoted expose <rws-url> --to host:port`: every link on the route becomes a connection to a local TCP service. */
import { connect, type Socket } from 'node:net';
import { type Command, Option } from 'commander';
import { dialerAddressOf } from '../../dialer-address';
import { PROXY_PROTOCOL_VERSIONS, type ProxyProtocolVersion, proxyHeader } from '../../proxy-protocol';
import { RemotedServer } from '../../remoted-server';
import { parseListenUrl } from '../../urls';
import type { CliContext } from '../cli-context';
import type { CliLogger } from '../cli-logger';
import { formatHostPort, type HostPort, parseHostPort } from '../host-port';
import { parseMs } from '../parse-number';
import { splice } from '../splice';

interface ExposeOptions {
  to: string;
  maxRetryDelay: number;
  proxyProtocol?: ProxyProtocolVersion;
}

export function registerExpose(program: Command, ctx: CliContext): void {
  program
    .command('expose')
    .description('listen on a relay route and connect every link to a local TCP service')
    .argument('<rws-url>', 'rws://SERVERKEY@relay[:port]/path (or rwss:// for TLS)')
    .requiredOption('--to <host:port>', 'the local service each link is connected to')
    .option('--max-retry-delay <ms>', 'largest delay between reconnect attempts', parseMs, 30_000)
    .addOption(
      new Option('--proxy-protocol <version>', "start each connection to the local service with a PROXY protocol header carrying the dialer's address (off by default)")
        .choices(PROXY_PROTOCOL_VERSIONS),
    )
    .addHelpText(
      'after',
      '\nExamples:\n  remoted expose rws://KEY@relay.example/ssh --to 127.0.0.1:22\n' +
        '  remoted expose rws://KEY@relay.example/web --to 127.0.0.1:8080 --proxy-protocol v2   # nginx: listen 8080 proxy_protocol;',
    )
    .action(async (url: string, opts: ExposeOptions) => {
      parseListenUrl(url); // a usage error before anything starts
      const target = parseHostPort(opts.to);
      const server = new RemotedServer({ reconnect: { maxDelayMs: opts.maxRetryDelay } });
      let links = 0;
      server.on('connection', (link: Socket) => {
        const label = `link #${++links} from ${dialerAddressOf(link) ?? '?'}`;
        connectLocal(link, target, opts.proxyProtocol, ctx.log, label);
      });
      const exposing = `${formatHostPort(target)}${opts.proxyProtocol ? ` with PROXY protocol ${opts.proxyProtocol}` : ''}`;
      server.on('route:open', (e) => ctx.log.info(`${e.reconnected ? 'listening again' : 'listening'} on ${e.url}, exposing ${exposing}`));
      server.on('route:lost', (e) => ctx.log.warn(`lost the route ${e.url} (${e.code})`));
      server.on('route:retry', (e) => ctx.log.info(`reconnect attempt ${e.attempt} in ${e.delayMs} ms${e.error ? ` (${e.error.message})` : ''}`));
      server.on('dialback:error', (e) => ctx.log.warn(`dial-back for ${e.dialerAddress} failed: ${e.error.message}`));
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        void ctx.untilSignal().then(() => server.close(() => resolve()));
        server.listen(url);
      });
    });
}

/**
 * Connects a link to the local service and splices them. With a PROXY
 * protocol version, the link stays paused until the service accepted, so the
 * header (whose destination is the address actually reached) goes first.
 */
function connectLocal(link: Socket, target: HostPort, version: ProxyProtocolVersion | undefined, log: CliLogger, label: string): void {
  const local = connect({ host: target.host, port: target.port, allowHalfOpen: true });
  local.setNoDelay(true);
  log.debug(`${label} open to ${formatHostPort(target)}`);
  local.once('error', (err) => log.warn(`${label}: cannot reach ${formatHostPort(target)}: ${err.message}`));
  if (!version) return splice(link, local, log, label);
  const abort = (): void => {
    link.destroy();
    local.destroy();
  };
  link.once('error', abort);
  link.once('close', abort);
  local.once('error', abort);
  local.once('connect', () => {
    const destination = local.remoteAddress && local.remotePort !== undefined ? { address: local.remoteAddress, port: local.remotePort } : undefined;
    local.write(proxyHeader(link, destination, version));
    splice(link, local, log, label);
    link.off('error', abort);
    link.off('close', abort);
    local.off('error', abort);
  });
}
