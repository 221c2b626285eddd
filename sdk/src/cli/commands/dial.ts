/**
 * `remoted dial <rwr-url>`: stdin and stdout are the link, so that it can be
 * an ssh ProxyCommand. Exits 0 once the far side has ended the link.
 */
import type { Command } from 'commander';
import { dialChain } from '../../dial/dial';
import type { CliContext } from '../cli-context';
import { type KeyFileOption, keySourcesHelp, resolveUrlKey, withKeyFileOption } from '../key-source';
import { parseMs } from '../parse-number';

export function registerDial(program: Command, ctx: CliContext): void {
  const command = program
    .command('dial')
    .description('dial a relay route and use stdin/stdout as the link (for ssh ProxyCommand)')
    .argument('<rwr-url>', 'rwr://relay[:port]/path (rwrs:// for TLS; several, space-separated, to chain), the client key from --key-file or REMOTED_KEY')
    .option('--timeout <ms>', 'bound on the dial', parseMs, 60_000);
  withKeyFileOption(command, 'data', 'client key')
    .addHelpText(
      'after',
      '\nA listener that cannot reach its service refuses the dial: exit 7, remoted: destination_unreachable: ...\n' +
        `\nExample:\n  ssh -o ProxyCommand='remoted dial rwr://relay.example/ssh --key-file ~/.remoted/ssh.key' user@host\n${keySourcesHelp('data')}`,
    )
    .action(async (url: string, opts: KeyFileOption & { timeout: number }) => {
      const key = resolveUrlKey(url, opts, ctx.log);
      const { socket } = await dialChain(url, { key, timeoutMs: opts.timeout });
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
