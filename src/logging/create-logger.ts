/** The one root logger: JSON lines on stderr, keys and secrets never written. */
import pino, { type Logger } from 'pino';
import type { LogLevel } from '../config/config';

export const REDACTED_PATHS = ['secret', '*.secret', 'key.secret', 'headers', '*.headers', 'req.headers'];

export function createLogger(level: LogLevel): Logger {
  return pino({ level, base: { service: 'remoted' }, redact: { paths: REDACTED_PATHS, censor: '[redacted]' } }, pino.destination(2));
}
