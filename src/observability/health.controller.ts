/**
 * Plain GETs on the relay port for operators: /healthz (the process answers),
 * /readyz (key store answering, relay port listening, and in cluster mode
 * route leases renewed), and /metrics for a bearer
 * of the metrics token (wrong tokens count as failed authentications of the
 * relay port). Other plain requests are the relay's PlainRequestFilter's.
 */
import { timingSafeEqual, createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Controller, Get, Inject, Req, Res } from '@nestjs/common';
import type { Config } from '../config/config';
import { CONFIG } from '../config/config.constants';
import type { KeyStore } from '../keys/api-key';
import { KEY_STORE } from '../keys/keys.constants';
import { replyHttpError, replyHttpThrottled } from '../relay/port/http-reply';
import { PLAIN_REQUEST_MESSAGE } from '../relay/port/plain-request.filter';
import { RelayAdmin } from '../relay/relay-admin';
import { sendMetrics } from './metrics-server';
import { MetricsService } from './metrics.service';

@Controller()
export class HealthController {
  constructor(
    @Inject(CONFIG) private readonly config: Config,
    @Inject(KEY_STORE) private readonly store: KeyStore,
    private readonly relay: RelayAdmin,
    private readonly metricsService: MetricsService,
  ) {}

  @Get('healthz')
  healthz(@Res() res: ServerResponse): void {
    sendJson(res, 200, { status: 'ok' });
  }

  @Get('readyz')
  readyz(@Res() res: ServerResponse): void {
    const routes = this.relay.takesListeners;
    // `routes` only in cluster mode, where a node that cannot renew its route leases takes no listener.
    const checks = { keyStore: this.store.isReady(), listening: this.relay.isAccepting, ...(routes === undefined ? {} : { routes }) };
    const ready = checks.keyStore && checks.listening && routes !== false;
    sendJson(res, ready ? 200 : 503, { status: ready ? 'ready' : 'not_ready', checks });
  }

  @Get('metrics')
  metrics(@Req() req: IncomingMessage, @Res() res: ServerResponse): void {
    const { token } = this.config.metrics;
    const metrics = this.metricsService.metrics;
    if (token === undefined || !metrics) {
      // Not offered on this port: the same answer as any other plain request.
      replyHttpError(res, 'invalid_request', PLAIN_REQUEST_MESSAGE);
      return;
    }
    // A token is a secret like a key: guesses are throttled with the relay port's key failures.
    const retryAfterMs = this.relay.authRetryAfterMs(req);
    if (retryAfterMs > 0) {
      replyHttpThrottled(res, Math.ceil(retryAfterMs / 1000));
      return;
    }
    if (!bearerMatches(req.headers.authorization, token)) {
      this.relay.recordAuthFailure(req, '/metrics');
      replyHttpError(res, 'invalid_missing_apikey', 'Missing or wrong metrics token.');
      return;
    }
    sendMetrics(metrics, res);
  }
}

function sendJson(res: ServerResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, no-store, must-revalidate', 'Content-Length': String(Buffer.byteLength(body)) }).end(body);
}

/** Compares digests so the time taken says nothing about the token. */
function bearerMatches(header: string | undefined, token: string): boolean {
  const match = /^Bearer\s+(.+)$/i.exec(header ?? '');
  if (!match) return false;
  const digest = (text: string): Buffer => createHash('sha256').update(text).digest();
  return timingSafeEqual(digest(match[1].trim()), digest(token));
}
