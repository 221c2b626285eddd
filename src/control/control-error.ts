/**
 * The control plane's one error class and its one translation to a gRPC
 * status. Handlers throw ControlError with a message a person can act on;
 * anything else is a bug, logged once and answered INTERNAL without its text.
 */
import { type ServiceError, status } from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { KeyStoreUnavailableError } from '../keys/api-key';

export class ControlError extends Error {
  override name = 'ControlError';
  constructor(
    readonly code: status,
    message: string,
  ) {
    super(message);
  }
}

/** INVALID_ARGUMENT naming the request field, e.g. `scopes[1]: must start with "/"`. */
export function invalidArgument(field: string, problem: string): ControlError {
  return new ControlError(status.INVALID_ARGUMENT, `${field}: ${problem}`);
}

/** NOT_FOUND naming the resource, e.g. `keys/key_abc not found`. */
export function notFound(resource: string, hint = ''): ControlError {
  return new ControlError(status.NOT_FOUND, `${resource} not found${hint ? `: ${hint}` : ''}`);
}

/** FAILED_PRECONDITION: the request is well formed but the relay's state does not allow it. */
export function failedPrecondition(problem: string): ControlError {
  return new ControlError(status.FAILED_PRECONDITION, problem);
}

export function toServiceError(err: unknown, log: Logger, method: string): Partial<ServiceError> {
  if (err instanceof ControlError) return { code: err.code, details: err.message };
  // Cluster mode with Redis away: the call may succeed again, which UNAVAILABLE tells a client to try.
  if (err instanceof KeyStoreUnavailableError) return { code: status.UNAVAILABLE, details: 'the key store is unreachable; try again shortly' };
  log.error({ err, method }, 'bug: control-plane handler failed');
  return { code: status.INTERNAL, details: 'internal error (logged by the relay)' };
}
