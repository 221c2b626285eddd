/**
 * `remoted expose <rws-url> --to host:port`: every link on the route becomes a
 * connection to a local TCP service, made before the dial-back, so that a dial
 * the service cannot take is refused (the dialer gets 502
 * destination_unreachable from a relay that grants `refuse`). SIGINT/SIGTERM
 * drains: no new links, open ones finish (up to --drain-timeout), then exit 0;
 * a second signal exits at once.
 */
import { type Command, Option } from 'commander';
import { PROXY_PROTOCOL_VERSIONS, type ProxyProtocolVersion } from '../../listen/proxy-protocol';
import { MAX_SPARES, type RemotedServer } from '../../listen/remoted-server';
import { parseListenUrl } from '../../wire/urls';
import type { CliContext } from '../cli-context';
import { CliError } from '../exit-codes';
import { exposedServer } from '../exposed-server';
import { parseHostPort } from '../host-port';
import { type KeyFileOption, keySourcesHelp, resolveUrlKey, withKeyFileOption } from '../key-source';
import { parseMs } from '../parse-number';
import { exposeFromConfig, ROUTES_FILE_HELP } from './expose-config';

interface ExposeOptions extends KeyFileOption {
  to?: string;
  config?: string;
  maxRetryDelay: number;
  proxyProtocol?: ProxyProtocolVersion;
  spares: number | 'auto';
  drainTimeout: number;
}

const DEFAULT_DRAIN_TIMEOUT_SECONDS = 30;
const MAX_TIMER_SECONDS = Math.floor((2 ** 31 - 1) / 1000);

export function registerExpose(program: Command, ctx: CliContext): void {
  const command = program
    .command('expose')
    .description('listen on a relay route and connect every link to a local TCP service')
    .argument('[rws-url]', 'rws://relay[:port]/path (or rwss:// for TLS), the server key from --key-file or REMOTED_KEY')
    .option('--to <host:port>', 'the local service each link is connected to (before the dial-back: a dial it cannot reach is refused, 502 destination_unreachable)')
    .option('--config <file>', 'expose every route of a JSON routes file instead (see below); SIGHUP re-reads it')
    .option('--max-retry-delay <ms>', 'largest delay between reconnect attempts (for 60 s after the route dropped, at most 2000 ms)', parseMs, 30_000)
    .option('--spares <n|auto>', `spare dial-backs kept open at the relay so that links are made at once: auto keeps 2 while idle and more while dials come fast; a number (0 to ${MAX_SPARES}) keeps that many; 0 turns them off; the relay may grant fewer`, parseSpares, 'auto')
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
        '  remoted expose rws://relay.example/api --key-file api.key --to 127.0.0.1:8080 --spares 16 --drain-timeout 60\n' +
        '  remoted expose --config routes.json\n' +
        `${keySourcesHelp('data')}\n` +
        ROUTES_FILE_HELP,
    )
    .action(async (url: string | undefined, opts: ExposeOptions, command: Command) => {
      if (opts.config !== undefined) {
        if (url !== undefined || opts.to !== undefined) command.error('--config names every route: give no <rws-url> or --to with it');
        const defaults = { spares: opts.spares, proxyProtocol: opts.proxyProtocol, drainTimeoutSeconds: opts.drainTimeout, maxRetryDelayMs: opts.maxRetryDelay };
        return exposeFromConfig(opts.config, defaults, ctx);
      }
      if (url === undefined) command.error("missing required argument 'rws-url' (or --config <file>)");
      if (opts.to === undefined) command.error("required option '--to <host:port>' not specified (or --config <file>)");
      const key = resolveUrlKey(url, opts, ctx.log);
      parseListenUrl(url, { key }); // a usage error before anything starts
      const target = parseHostPort(opts.to);
      const server = exposedServer({ key, to: target, spares: opts.spares, proxyProtocol: opts.proxyProtocol, maxRetryDelayMs: opts.maxRetryDelay, logPrefix: '' }, ctx.log);
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
