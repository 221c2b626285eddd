/**
 * The CLI's exit codes, for scripts, and the one-line error every command
 * prints: `remoted: <code>: <message>`.
 */
import { RemotedError } from '../wire/protocol';
import { RemotedUrlError } from '../wire/urls';

export const EXIT = {
  /** Done, or stopped by SIGINT/SIGTERM. */
  ok: 0,
  /** A bug or an error not listed below. */
  internal: 1,
  /** Bad command line: unknown option, missing argument, malformed URL or host:port. */
  usage: 2,
  /** The relay refused the key (invalid_missing_apikey), or closed a listener whose key was revoked, expired or lost the path. */
  auth: 3,
  /** The relay refused otherwise (missing_destination, path_in_use, invalid_request, over_capacity, ...). */
  refused: 4,
  /** No link in time (timeout, relay 504). */
  timeout: 5,
  /** The relay or the local service could not be reached, or the connection broke. */
  network: 6,
  /** The listener refused the dial: it cannot reach what it serves (destination_unreachable, relay 502). */
  unreachable: 7,
  /** The relay's operator closed the listener's route for good (route_closed, WebSocket close 4004): expose does not come back. */
  closed: 8,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** An error the CLI raises itself with a code and an exit status of its own (bad flags and the like). */
export class CliError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly exitCode: ExitCode = EXIT.usage,
  ) {
    super(message);
  }
}

export function exitCodeFor(err: unknown): ExitCode {
  if (err instanceof CliError) return err.exitCode;
  if (err instanceof RemotedUrlError) return EXIT.usage;
  if (err instanceof RemotedError) {
    if (err.code === 'invalid_missing_apikey' || err.code === 'key_revoked' || err.code === 'key_expired' || err.code === 'key_out_of_scope') return EXIT.auth;
    if (err.code === 'timeout') return EXIT.timeout;
    if (err.code === 'destination_unreachable') return EXIT.unreachable;
    if (err.code === 'route_closed') return EXIT.closed;
    return EXIT.refused;
  }
  if (isSystemError(err)) return EXIT.network;
  return EXIT.internal;
}

/** `remoted: <code>: <message>` on one line. */
export function formatError(err: unknown): string {
  if (err instanceof CliError || err instanceof RemotedUrlError || err instanceof RemotedError) {
    return `remoted: ${err.code}: ${oneLine(err.message)}`;
  }
  if (isSystemError(err)) return `remoted: ${err.code}: ${oneLine(err.message)}`;
  const message = err instanceof Error ? err.message : String(err);
  return `remoted: internal_error: ${oneLine(message)}`;
}

function isSystemError(err: unknown): err is NodeJS.ErrnoException & { code: string } {
  return err instanceof Error && typeof (err as NodeJS.ErrnoException).code === 'string' && /^E[A-Z]+$/.test((err as NodeJS.ErrnoException).code ?? '');
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').trim();
}
