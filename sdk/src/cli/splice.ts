/**
 * Joins a link and a local socket both ways. pipe() carries backpressure and
 * passes a FIN on as a FIN (half-close); an error on either side destroys both.
 */
import type { Socket } from 'node:net';
import type { CliLogger } from './cli-logger';

export function splice(a: Socket, b: Socket, log: CliLogger, label: string): void {
  let failed = false;
  const destroyBoth = (err: Error): void => {
    if (!failed) log.debug(`${label}: ${err.message}`);
    failed = true;
    a.destroy();
    b.destroy();
  };
  a.on('error', destroyBoth);
  b.on('error', destroyBoth);
  let closed = 0;
  const onClose = (): void => {
    closed += 1;
    if (closed === 2) log.debug(`${label} closed (sent ${a.bytesRead} received ${a.bytesWritten})`);
  };
  a.once('close', onClose);
  b.once('close', onClose);
  a.pipe(b);
  b.pipe(a);
}
