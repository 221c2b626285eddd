/** `remoted expose <rws-url> --to host:port`: every link on the route becomes a connection to a local TCP service. */
import { connect, type Socket } from 'node:net';
import type { Command } from 'commander';
import { dialerAddressOf } from '../../dialer-address';
import { RemotedServer } from '../../remoted-server';
import { parseListenUrl } from '../../urls';
import type { CliContext } from '../cli-context';
import { formatHostPort, parseHostPort } from '../host-port';
import { parseMs } from '../parse-number';
import { splice } from '../splice';

export function registerExpose(program: Command, ctx: CliContext): void {
  program
    .command('expose')
    .description('listen on a relay route and connect every link to a local TCP service')
    .argument('<rws-url>', 'rws://SERVERKEY@relay[:port]/path (or rwss:// for TLS)')
    .requiredOption('--to <host:port>', 'the local service each link is connected to')
    .option('--max-retry-delay <ms>', 'largest delay between reconnect attempts', parseMs, 30_000)
    .addHelpText('after', '\nExample:\n  remoted expose rws://KEY@relay.example/ssh --to 127.0.0.1:22')
    .action(async (url: string, opts: { to: string; maxRetryDelay: number }) => {
      parseListenUrl(url); // a usage error before anything starts
      const target = parseHostPort(opts.to);
      const server = new RemotedServer({ reconnect: { maxDelayMs: opts.maxRetryDelay } });
      let links = 0;
      server.on('connection', (link: Socket) => {
        const label = `link #${++links} from ${dialerAddressOf(link) ?? '?'}`;
        const local = connect({ host: target.host, port: target.port, allowHalfOpen: true });
        local.setNoDelay(true);
        ctx.log.debug(`${label} open to ${formatHostPort(target)}`);
        local.once('error', (err) => ctx.log.warn(`${label}: cannot reach ${formatHostPort(target)}: ${err.message}`));
        splice(link, local, ctx.log, label);
      });
      server.on('route:open', (e) => ctx.log.info(`${e.reconnected ? 'listening again' : 'listening'} on ${e.url}, exposing ${formatHostPort(target)}`));
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
