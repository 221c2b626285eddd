/**
 * The WebSocket adapter of the relay's gateways (the listener gateway): a
 * platform-ws WsAdapter whose servers are `noServer`. The stock adapter binds
 * its own 'upgrade' listener and destroys every upgrade whose path is not a
 * gateway's, which would kill each WebRoute dial and dial-back before it is
 * authenticated; here the upgrade router is the only 'upgrade' handler and
 * hands the listener upgrades it admitted to the gateway.
 */
import type { INestApplicationContext } from '@nestjs/common';
import { WsAdapter } from '@nestjs/platform-ws';
import { parseListenerOp } from '@remoted/sdk/wire/listener-frames';
import { WebSocketServer } from 'ws';

export interface ListenerSocketLimits {
  /** Largest frame a listener may send (ws closes the connection above it). */
  maxPayload: number;
}

export class ListenerWsAdapter extends WsAdapter {
  constructor(
    app: INestApplicationContext,
    private readonly limits: ListenerSocketLimits,
  ) {
    // A frame is dispatched on its `op`; anything else a listener sends (binary, junk) is ignored, as the base protocol says.
    super(app, { messageParser: (data) => (typeof data === 'string' ? opEvent(data) : undefined) });
  }

  override create(): WebSocketServer {
    return new WebSocketServer({ noServer: true, clientTracking: false, perMessageDeflate: false, maxPayload: this.limits.maxPayload });
  }

  /**
   * The relay closes its listeners itself, with 1001, before Nest disposes of
   * the gateways (RelayService.beforeApplicationShutdown); this only stops new
   * upgrades, which would be answered 503 anyway.
   */
  override async close(server: WebSocketServer): Promise<void> {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

function opEvent(text: string): { event: string; data: unknown } | undefined {
  const op = parseListenerOp(text);
  return op && { event: op.op, data: op };
}
