/**
 * A TCP proxy in front of the relay that sorts each connection by its request
 * (the listener's WebSocket, a spare, another WebRoute request) and counts
 * what the relay sends back on it, so a test can tell, from outside the SDK,
 * whether the listener's WebSocket carried a notify message. With
 * `stripFeatures`, it also deletes X-Remoted-Features from WebSocket upgrade
 * requests, so that the relay grants nothing: the SDK then meets a relay as
 * the original would treat it.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';

export type TappedKind = 'websocket' | 'spare' | 'webroute' | 'other';

export interface TappedConnection {
  /** Undefined until the request head has arrived. */
  kind: TappedKind | undefined;
  /** Status of the relay's answer, once its first line arrived. */
  status: number | undefined;
  /** Bytes the relay sent to the client on this connection, answer head included. */
  bytesToClient: number;
}

export interface TapProxy {
  port: number;
  readonly connections: readonly TappedConnection[];
  /** Bytes the relay sent on every listener WebSocket so far. */
  webSocketBytes(): number;
  count(kind: TappedKind, status?: number): number;
  close(): Promise<void>;
}

/** Request heads are small; one that is not complete by this size is not sorted. */
const MAX_HEAD_BYTES = 16 * 1024;

export interface TapOptions {
  /** Remove X-Remoted-Features from listeners' WebSocket upgrades. */
  stripFeatures?: boolean;
}

export async function startTapProxy(targetPort: number, options: TapOptions = {}): Promise<TapProxy> {
  const connections: TappedConnection[] = [];
  const sockets = new Set<Socket>();
  const track = (socket: Socket): void => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  };
  const server: Server = createServer({ allowHalfOpen: true }, (client) => {
    const upstream = connect({ host: '127.0.0.1', port: targetPort, allowHalfOpen: true });
    track(client);
    track(upstream);
    const tapped: TappedConnection = { kind: undefined, status: undefined, bytesToClient: 0 };
    connections.push(tapped);
    let requestHead = '';
    let responseHead = '';
    // The request head is held back until it is complete, then forwarded (rewritten if asked) and the rest piped.
    const onRequest = (chunk: Buffer): void => {
      requestHead += chunk.toString('latin1');
      if (!requestHead.includes('\r\n\r\n') && requestHead.length <= MAX_HEAD_BYTES) return;
      tapped.kind = classify(requestHead);
      client.off('data', onRequest);
      const forwarded = options.stripFeatures && tapped.kind === 'websocket' ? requestHead.replace(/^x-remoted-features:[^\r]*\r\n/gim, '') : requestHead;
      upstream.write(Buffer.from(forwarded, 'latin1'));
      client.pipe(upstream);
    };
    const onResponse = (chunk: Buffer): void => {
      tapped.bytesToClient += chunk.length;
      if (tapped.status === undefined && responseHead.length < MAX_HEAD_BYTES) {
        responseHead += chunk.toString('latin1');
        const match = /^HTTP\/1\.[01] (\d{3})/.exec(responseHead);
        if (match) tapped.status = Number(match[1]);
      }
    };
    client.on('data', onRequest);
    upstream.on('data', onResponse);
    const destroyBoth = (): void => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', destroyBoth);
    upstream.on('error', destroyBoth);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return {
    port,
    connections,
    webSocketBytes: () => connections.filter((c) => c.kind === 'websocket').reduce((sum, c) => sum + c.bytesToClient, 0),
    count: (kind, status) => connections.filter((c) => c.kind === kind && (status === undefined || c.status === status)).length,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

function classify(head: string): TappedKind {
  if (/^upgrade:\s*websocket\s*$/im.test(head)) return 'websocket';
  if (/^x-remoted-spare:/im.test(head)) return 'spare';
  if (/^upgrade:\s*webroute\s*$/im.test(head)) return 'webroute';
  return 'other';
}
