/**
 * `remoted dial <rwr-url>`: stdin and stdout are the link, so that it can be
 * an ssh ProxyCommand. Exits 0 once the far side has ended the link.
 */
import type { Command } from 'commander';
import { dialChain } from '../../dial';
import type { CliContext } from '../cli-context';
import { parseMs } from '../parse-number';

export function registerDial(program: Command, ctx: CliContext): void {
  program
    .command('dial')
    .description('dial a relay route and use stdin/stdout as the link (for ssh ProxyCommand)')
    .argument('<rwr-url>', 'rwr://CLIENTKEY@relay[:port]/path (rwrs:// for TLS; several, space-separated, to chain)')
    .option('--timeout <ms>', 'bound on the dial', parseMs, 60_000)
    .addHelpText(
      'after',
      "\nA listener that cannot reach its service refuses the dial: exit 7, remoted: destination_unreachable: ...\n" +
        "\nExample:\n  ssh -o ProxyCommand='remoted dial rwr://KEY@relay.example/ssh' user@host",
    )
    .action(async (url: string, opts: { timeout: number }) => {
      const { socket } = await dialChain(url, { timeoutMs: opts.timeout });
      ctx.log.debug('linked');
      await new Promise<void>((resolve, reject) => {
        socket.once('error', reject);
        // stdin's EOF becomes our FIN; the far side may still answer.
        process.stdin.pipe(socket);
        socket.pipe(process.stdout);
        socket.once('end', () => {
          process.stdin.unpipe(socket);
          // Whatever is queued for stdout goes out before we exit.
          process.stdout.write('', () => resolve());
        });
      });
      socket.destroy();
    });
}
