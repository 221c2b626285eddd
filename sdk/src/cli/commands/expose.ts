/**
 * `remoted expose <rws-url> --to host:port`: every link on the route becomes a
 * connection to a local TCP service. SIGINT/SIGTERM drains: no new links, open
 * ones finish (up to --drain-timeout), then exit 0; a second signal exits at once.
 */
import { connect, type Socket } from 'node:net';
import { type Command, Option } from 'commander';
import { dialerAddressOf } from '../../dialer-address';
import { PROXY_PROTOCOL_VERSIONS, type ProxyProtocolVersion, proxyHeader } from '../../proxy-protocol';
import { MAX_SPARES, RemotedServer } from '../../remoted-server';
import { parseListenUrl } from '../../urls';
import type { CliContext } from '../cli-context';
import type { CliLogger } from '../cli-logger';
import { CliError } from '../exit-codes';
import { type KeyFileOption, keySourcesHelp, resolveUrlKey, withKeyFileOption } from '../key-source';
import { formatHostPort, type HostPort, parseHostPort } from '../host-port';
import { parseMs } from '../parse-number';
import { splice } from '../splice';

interface ExposeOptions extends KeyFileOption {
  to: string;
  maxRetryDelay: number;
  proxyProtocol?: ProxyProtocolVersion;
  spares: number;
  drainTimeout: number;
}

const DEFAULT_DRAIN_TIMEOUT_SECONDS = 30;
const MAX_TIMER_SECONDS = Math.floor((2 ** 31 - 1) / 1000);

export function registerExpose(program: Command, ctx: CliContext): void {
  const command = program
    .command('expose')
    .description('listen on a relay route and connect every link to a local TCP service')
    .argument('<rws-url>', 'rws://relay[:port]/path (or rwss:// for TLS), the server key from --key-file or REMOTED_KEY')
    .requiredOption('--to <host:port>', 'the local service each link is connected to')
    .option('--max-retry-delay <ms>', 'largest delay between reconnect attempts (for 60 s after the route dropped, at most 2000 ms)', parseMs, 30_000)
    .option('--spares <n>', `spare dial-backs kept open at the relay so that links are made at once (0 to ${MAX_SPARES}; the relay may grant fewer)`, parseSpares, 0)
    .option('--drain-timeout <seconds>', 'on SIGINT/SIGTERM, how long open links may run on before exit (a second signal exits at once)', parseSeconds, DEFAULT_DRAIN_TIMEOUT_SECONDS)
    .addOption(
      new Option('--proxy-protocol <version>', "start each connection to the local service with a PROXY protocol header carrying the dialer's address (off by default)")
        .choices(PROXY_PROTOCOL_VERSIONS),
    );
  withKeyFileOption(command, 'data', 'server key')
    .addHelpText(
      'after',
      '\nExamples:\n  REMOTED_KEY=SERVERKEY remoted expose rws://relay.example/ssh --to 127.0.0.1:22\n' +
        '  remoted expose rws://relay.example/web --key-file ~/.remoted/web.key --to 127.0.0.1:8080 --proxy-protocol v2   # nginx: listen 8080 proxy_protocol;\n' +
        '  remoted expose rws://relay.example/api --key-file api.key --to 127.0.0.1:8080 --spares 16 --drain-timeout 60' +
        `\n${keySourcesHelp('data')}`,
    )
    .action(async (url: string, opts: ExposeOptions) => {
      const key = resolveUrlKey(url, opts, ctx.log);
      parseListenUrl(url, { key }); // a usage error before anything starts
      const target = parseHostPort(opts.to);
      const server = new RemotedServer({ key, reconnect: { maxDelayMs: opts.maxRetryDelay }, spares: opts.spares });
      let links = 0;
      server.on('connection', (link: Socket) => {
        const label = `link #${++links} from ${dialerAddressOf(link) ?? '?'}`;
        connectLocal(link, target, opts.proxyProtocol, ctx.log, label);
      });
      const exposing = `${formatHostPort(target)}${opts.proxyProtocol ? ` with PROXY protocol ${opts.proxyProtocol}` : ''}`;
      server.on('route:open', (e) =>
        ctx.log.info(`${e.reconnected ? 'listening again' : 'listening'} on ${e.url}, exposing ${exposing}${e.spares > 0 ? `, ${e.spares} spares` : ''}`),
      );
      server.on('route:lost', (e) => ctx.log.warn(`lost the route ${e.url} (${e.code})`));
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

function parseSpares(text: string): number {
  const value = Number(text);
  if (!/^\d+$/.test(text) || value > MAX_SPARES) throw new CliError('invalid_option', `Expected --spares from 0 to ${MAX_SPARES}, got "${text}".`);
  return value;
}

function parseSeconds(text: string): number {
  const value = Number(text);
  // setTimeout takes at most 2^31 - 1 ms (about 24 days).
  if (!/^\d+$/.test(text) || value > MAX_TIMER_SECONDS) throw new CliError('invalid_option', `Expected seconds (a whole number up to ${MAX_TIMER_SECONDS}), got "${text}".`);
  return value;
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
