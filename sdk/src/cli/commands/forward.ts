/** `remoted forward <rwr-url> --listen host:port`: a local port whose every connection becomes a dial. */
import { createServer, type Socket } from 'node:net';
import type { Command } from 'commander';
import { dialHops, type DialOptions } from '../../dial/dial';
import { parseDialString, redactUrl } from '../../wire/urls';
import type { CliContext } from '../cli-context';
import { type KeyFileOption, keySourcesHelp, resolveUrlKey, withKeyFileOption } from '../key-source';
import { formatHostPort, parseHostPort } from '../host-port';
import { parseMs } from '../parse-number';
import { splice } from '../splice';

export function registerForward(program: Command, ctx: CliContext): void {
  const command = program
    .command('forward')
    .description('accept local TCP connections and dial the relay route for each one')
    .argument('<rwr-url>', 'rwr://relay[:port]/path (rwrs:// for TLS; several, space-separated, to chain), the client key from --key-file or REMOTED_KEY')
    .requiredOption('--listen <host:port>', 'local address to accept on (port 0 picks one; see the log line)')
    .option('--timeout <ms>', 'bound on each dial', parseMs, 60_000);
  withKeyFileOption(command, 'data', 'client key')
    .addHelpText('after', `\nExample:\n  REMOTED_KEY=CLIENTKEY remoted forward rwr://relay.example/db --listen 127.0.0.1:5432\n${keySourcesHelp('data')}`)
    .action(async (url: string, opts: KeyFileOption & { listen: string; timeout: number }) => {
      const key = resolveUrlKey(url, opts, ctx.log);
      const { hops } = parseDialString(url, { key });
      const local = parseHostPort(opts.listen);
      const dialOptions: DialOptions = { timeoutMs: opts.timeout };
      const route = hops.map(redactUrl).join(' ');
      let connections = 0;
      const sockets = new Set<Socket>();
      const server = createServer({ allowHalfOpen: true, pauseOnConnect: true }, (client) => {
        const label = `connection #${++connections}`;
        sockets.add(client);
        client.once('close', () => sockets.delete(client));
        client.on('error', () => client.destroy());
        dialHops(hops, dialOptions).then(
          (link) => {
            sockets.add(link);
            link.once('close', () => sockets.delete(link));
            if (client.destroyed) return link.destroy();
            ctx.log.debug(`${label} linked to ${route}`);
            splice(client, link, ctx.log, label);
            client.resume();
          },
          (err: Error & { code?: string }) => {
            ctx.log.warn(`${label}: dial failed: ${err.code ?? 'error'}: ${err.message}`);
            client.destroy();
          },
        );
      });
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(local.port, local.host, () => resolve());
      });
      const address = server.address();
      const bound = typeof address === 'object' && address ? formatHostPort({ host: address.address, port: address.port }) : String(address);
      ctx.log.info(`forwarding ${bound} to ${route}`);
      await ctx.untilSignal();
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    });
}
