/**
 * The process's signals, for main.ts only (tests and embedders start relays
 * without them). SIGTERM / SIGINT close the app (the relay drains its links
 * for the grace period, the other modules stop) and exit 0: Nest's own
 * shutdown hooks re-raise the signal after closing, so the process ends
 * "killed" (143), which systemd counts as a failure. A second signal exits at
 * once. SIGHUP reloads the relay port's certificate (systemctl reload).
 */
import type { INestApplication } from '@nestjs/common';
import type { Logger } from 'pino';
import { RelayService } from './relay.service';

export function handleProcessSignals(app: INestApplication, log: Logger): void {
  let closing = false;
  const onStop = (signal: NodeJS.Signals): void => {
    if (closing) {
      log.warn({ signal }, 'second signal during shutdown: exiting now');
      process.exit(1);
    }
    closing = true;
    log.info({ signal }, 'shutting down');
    app.close().then(
      () => process.exit(0),
      (err: unknown) => {
        log.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', onStop);
  process.on('SIGINT', onStop);

  const relay = app.get(RelayService);
  process.on('SIGHUP', () => {
    if (!relay.speaksTls) {
      log.info('SIGHUP: nothing to reload (the relay port does not speak TLS)');
      return;
    }
    // Logged either way; on failure the certificate already loaded stays in use.
    relay.reloadTlsLogged('signal');
  });
}
