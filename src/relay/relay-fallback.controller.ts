/** Plain HTTP requests on the relay port that no other controller serves get the protocol's 400. */
import { All, Controller, Res } from '@nestjs/common';
import type { ServerResponse } from 'node:http';
import { errorBody, errorHeaders } from './http-reply';

@Controller()
export class RelayFallbackController {
  @All('{*path}')
  refuse(@Res() res: ServerResponse): void {
    const body = errorBody('invalid_request', 'Expected a WebSocket or WebRoute upgrade request.');
    res.writeHead(400, errorHeaders(body)).end(body);
  }
}
