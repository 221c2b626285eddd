/**
 * `remoted expose <rws-url> --to host:port`: every link on the route becomes a
 * connection to a local TCP service, made before the dial-back, so that a dial
 * the service cannot take is refused (the dialer gets 502
 * destination_unreachable from a relay that grants `refuse`). SIGINT/SIGTERM
 * drains: no new links, open ones finish (up to --drain-timeout), then exit 0;
 * a second signal exits at once.
 */
import { connect, Socket } from 'node:net';
import { type Command, Option } from 'commander';
import { dialerAddressOf } from '../../dialer-address';
import { PROXY_PROTOCOL_VERSIONS, type ProxyProtocolVersion, proxyHeader } from '../../proxy-protocol';
import { MAX_SPARES, RemotedServer } from '../../remoted-server';
import { parseListenUrl } from '../../urls';
import type { CliContext } from '../cli-context';
import { CliError } from '../exit-codes';
import { formatHostPort, type HostPort, parseHostPort } from '../host-port';
import { parseMs } from '../parse-number';
import { splice } from '../splice';

interface ExposeOptions {
  to: string;
  maxRetryDelay: number;
  proxyProtocol?: ProxyProtocolVersion;
  spares: number | 'auto';
  drainTimeout: number;
}

const DEFAULT_DRAIN_TIMEOUT_SECONDS = 30;
/** A local service that has not accepted by then will not: the dial is refused (the dialer waits meanwhile). */
const LOCAL_CONNECT_TIMEOUT_MS = 10_000;
const MAX_TIMER_SECONDS = Math.floor((2 ** 31 - 1) / 1000);

export function registerExpose(program: Command, ctx: CliContext): void {
  program
    .command('expose')
    .description('listen on a relay route and connect every link to a local TCP service')
    .argument('<rws-url>', 'rws://SERVERKEY@relay[:port]/path (or rwss:// for TLS)')
    .requiredOption('--to <host:port>', 'the local service each link is connected to (before the dial-back: a dial it cannot reach is refused, 502 destination_unreachable)')
    .option('--max-retry-delay <ms>', 'largest delay between reconnect attempts', parseMs, 30_000)
    .option('--spares <n|auto>', `spare dial-backs kept open at the relay so that links are made at once: auto keeps 2 while idle and more while dials come fast; a number (0 to ${MAX_SPARES}) keeps that many; 0 turns them off; the relay may grant fewer`, parseSpares, 'auto')
    .option('--drain-timeout <seconds>', 'on SIGINT/SIGTERM, how long open links may run on before exit (a second signal exits at once)', parseSeconds, DEFAULT_DRAIN_TIMEOUT_SECONDS)
    .addOption(
      new Option('--proxy-protocol <version>', "start each connection to the local service with a PROXY protocol header carrying the dialer's address (off by default)")
        .choices(PROXY_PROTOCOL_VERSIONS),
    )
    .addHelpText(
      'after',
      '\nExamples:\n  remoted expose rws://KEY@relay.example/ssh --to 127.0.0.1:22\n' +
        '  remoted expose rws://KEY@relay.example/web --to 127.0.0.1:8080 --proxy-protocol v2   # nginx: listen 8080 proxy_protocol;\n' +
        '  remoted expose rws://KEY@relay.example/api --to 127.0.0.1:8080 --spares 16 --drain-timeout 60',
    )
    .action(async (url: string, opts: ExposeOptions) => {
      parseListenUrl(url); // a usage error before anything starts
      const target = parseHostPort(opts.to);
      const server = new RemotedServer({
        reconnect: { maxDelayMs: opts.maxRetryDelay },
        spares: opts.spares,
        openTarget: () => connectLocal(target),
      });
      let links = 0;
      server.on('connection', (link, local) => {
        const label = `link #${++links} from ${dialerAddressOf(link) ?? '?'}`;
        // openTarget always gives a socket; anything else would be a bug, not a dial to serve.
        if (!(local instanceof Socket)) return void link.destroy();
        ctx.log.debug(`${label} open to ${formatHostPort(target)}`);
        if (opts.proxyProtocol) {
          const destination = local.remoteAddress && local.remotePort !== undefined ? { address: local.remoteAddress, port: local.remotePort } : undefined;
          local.write(proxyHeader(link, destination, opts.proxyProtocol));
        }
        splice(link, local, ctx.log, label);
      });
      server.on('dial:refused', (e) => {
        const cause = e.error.cause instanceof Error ? e.error.cause.message : e.error.message;
        ctx.log.warn(`refused the dial from ${e.dialerAddress || '?'}: cannot reach ${formatHostPort(target)}: ${cause}${e.told ? '' : ' (link closed)'}`);
      });
      const exposing = `${formatHostPort(target)}${opts.proxyProtocol ? ` with PROXY protocol ${opts.proxyProtocol}` : ''}`;
      server.on('route:open', (e) =>
        ctx.log.info(`${e.reconnected ? 'listening again' : 'listening'} on ${e.url}, exposing ${exposing}${e.spares > 0 ? `, ${e.spares} spares` : ''}`),
      );
      server.on('route:lost', (e) => ctx.log.warn(`lost the route ${e.url} (${e.code}${e.reason ? ` ${e.reason}` : ''})`));
      server.on('route:retry', (e) => ctx.log.info(`reconnect attempt ${e.attempt} in ${e.delayMs} ms${e.error ? ` (${e.error.message})` : ''}`));
      server.on('dialback:error', (e) => ctx.log.warn(`dial-back for ${e.dialerAddress} failed: ${e.error.message}`));
      server.on('drain', (e) => {
        if (e.by === 'operator') ctx.log.info(`drained by the relay's operator: no new links, ${server.connectionCount} open`);
      });
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        // An operator's drain ends with the server's close once its links are done.
        server.once('close', () => resolve());
        void ctx.untilSignal().then((signal) => drainThenExit(server, signal, opts.drainTimeout, ctx).then(resolve));
        server.listen(url);
      });
    });
}

/**
 * The first signal drains: no new links, open ones run until they end or
 * until `timeoutSeconds`. A second signal ends it at once. Resolves when the
 * process may exit (links still open then are cut by the exit).
 */
async function drainThenExit(server: RemotedServer, signal: NodeJS.Signals, timeoutSeconds: number, ctx: CliContext): Promise<void> {
  const open = server.connectionCount;
  ctx.log.info(`${signal}: draining, ${open} link${open === 1 ? '' : 's'} open; exiting once they end, within ${timeoutSeconds} s (signal again to exit now)`);
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<string>((resolve) => {
    timer = setTimeout(() => resolve(`drain timeout: ${server.connectionCount} link(s) cut`), timeoutSeconds * 1000);
  });
  const interrupted = ctx.untilSignal().then((again) => `${again} again: ${server.connectionCount} link(s) cut`);
  const outcome = await Promise.race([server.drain().then(() => undefined), timedOut, interrupted]);
  clearTimeout(timer);
  if (outcome) {
    ctx.log.warn(outcome);
    server.close();
  }
}

function parseSpares(text: string): number | 'auto' {
  if (text === 'auto') return 'auto';
  const value = Number(text);
  if (!/^\d+$/.test(text) || value > MAX_SPARES) throw new CliError('invalid_option', `Expected --spares auto or a number from 0 to ${MAX_SPARES}, got "${text}".`);
  return value;
}

function parseSeconds(text: string): number {
  const value = Number(text);
  // setTimeout takes at most 2^31 - 1 ms (about 24 days).
  if (!/^\d+$/.test(text) || value > MAX_TIMER_SECONDS) throw new CliError('invalid_option', `Expected seconds (a whole number up to ${MAX_TIMER_SECONDS}), got "${text}".`);
  return value;
}

/**
 * A connection to the local service, made before the dial-back. It rejects
 * with a message for the dialer (no local address or port in it: the relay
 * passes it on) and the system error as its cause, for our own log.
 */
function connectLocal(target: HostPort): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const local = connect({ host: target.host, port: target.port, allowHalfOpen: true });
    local.setNoDelay(true);
    const fail = (err: Error & { code?: string }, message: string): void => {
      clearTimeout(timer);
      local.destroy();
      reject(new Error(message, { cause: err }));
    };
    const timer = setTimeout(
      () => fail(new Error(`no answer within ${LOCAL_CONNECT_TIMEOUT_MS} ms`), 'the local service did not accept the connection in time'),
      LOCAL_CONNECT_TIMEOUT_MS,
    );
    const onError = (err: Error & { code?: string }): void => fail(err, `the local service is unreachable (${err.code ?? 'error'})`);
    local.once('error', onError);
    local.once('connect', () => {
      clearTimeout(timer);
      local.off('error', onError);
      // Until the link is spliced (or dropped), an error only ends this socket; the splice logs later ones.
      local.once('error', () => local.destroy());
      resolve(local);
    });
  });
}
