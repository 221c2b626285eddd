/**
 * Plain HTTP requests on the relay port that no controller serves (Nest's
 * not-found), or that a controller could not take (a malformed path), get the
 * protocol's 400 and a close, never a framework's own error body.
 */
import { type ArgumentsHost, Catch, type ExceptionFilter, HttpException, Inject } from '@nestjs/common';
import type { ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { LOGGER } from '../../logging/logging.constants';
import { replyHttpError } from './http-reply';

export const PLAIN_REQUEST_MESSAGE = 'Expected a WebSocket or WebRoute upgrade request.';

@Catch()
export class PlainRequestFilter implements ExceptionFilter {
  constructor(@Inject(LOGGER) private readonly log: Logger) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    if (!(exception instanceof HttpException)) this.log.error({ err: exception }, 'bug: plain request handler failed');
    replyHttpError(host.switchToHttp().getResponse<ServerResponse>(), 'invalid_request', PLAIN_REQUEST_MESSAGE);
  }
}
