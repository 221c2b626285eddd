/**
 * The node-to-node hop (docs/protocol.md, "Between the nodes of a cluster"):
 * a dial-back taken on one node, for a dialer waiting on another, goes on as
 * one WebRoute request from the first node to the second's relay port. It
 * carries no key: the node that took the dial-back checked it, and the hop
 * is authenticated instead by an HMAC-SHA256 under the cluster secret over
 * both node ids, the path, the WebRoute id, the listener's key id and a
 * timestamp, so nothing but a node of this cluster can make one, and only
 * for the node it names, within HOP_MAX_SKEW_MS.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { WEBROUTE_UPGRADE, WEBROUTE_VERSION, WIRE_HEADER_WEBROUTE_ID } from '@remoted/sdk/wire/protocol';
import { HOP_HEADER, type HopRequest } from '../relay/context/route-directory';

/* The hop header is `<from node> <ms> <listener key id> <mac>` (HOP_HEADER). */

/** Clocks of the nodes may differ by this much, and a hop request be this old. */
export const HOP_MAX_SKEW_MS = 30_000;
/** A node's answer to a hop: its status line and headers fit in this, or the hop fails. */
const MAX_HOP_ANSWER_BYTES = 16 * 1024;
/** The dialer's node answers a hop at once (its dialer waits); silence this long means it will not. */
const HOP_ANSWER_TIMEOUT_MS = 5000;
const NODE_ID = /^[A-Za-z0-9._-]{1,64}$/;
const KEY_ID = /^[A-Za-z0-9_-]{1,64}$/;
const MAC = /^[A-Za-z0-9_-]{43}$/;

function hopMac(secret: string, toNodeId: string, hop: HopRequest, atMs: number): string {
  return createHmac('sha256', secret)
    .update(['remoted-hop-1', hop.fromNodeId, toNodeId, String(atMs), hop.listenerKeyId, hop.id, hop.path].join('\n'))
    .digest('base64url');
}

/** The hop header a node sends to `toNodeId`. */
export function hopHeaderValue(secret: string, toNodeId: string, hop: HopRequest, atMs: number): string {
  return `${hop.fromNodeId} ${atMs} ${hop.listenerKeyId} ${hopMac(secret, toNodeId, hop, atMs)}`;
}

/** The hop a request names, when its header was made with this secret for this node, recently; undefined otherwise. */
export function verifyHopHeader(secret: string, selfNodeId: string, header: string | undefined, path: string, id: string, nowMs: number): HopRequest | undefined {
  if (header === undefined || header.length > 256) return undefined;
  const parts = header.split(' ');
  if (parts.length !== 4) return undefined;
  const [fromNodeId, at, listenerKeyId, mac] = parts;
  if (!NODE_ID.test(fromNodeId) || !/^\d{1,15}$/.test(at) || !KEY_ID.test(listenerKeyId) || !MAC.test(mac)) return undefined;
  const atMs = Number(at);
  if (Math.abs(nowMs - atMs) > HOP_MAX_SKEW_MS) return undefined;
  const hop: HopRequest = { fromNodeId, listenerKeyId, path, id };
  const expected = Buffer.from(hopMac(secret, selfNodeId, hop, atMs));
  const given = Buffer.from(mac);
  return expected.length === given.length && timingSafeEqual(expected, given) ? hop : undefined;
}

/** The request line and headers of a hop to the node at `host:port`. */
export function hopRequestText(host: string, hop: HopRequest, headerValue: string): string {
  return (
    `GET ${hop.path} HTTP/1.1\r\n` +
    `Host: ${host}\r\n` +
    'Connection: Upgrade\r\n' +
    `Upgrade: ${WEBROUTE_UPGRADE}\r\n` +
    `WebRoute-Version: ${WEBROUTE_VERSION}\r\n` +
    `${WIRE_HEADER_WEBROUTE_ID}: ${hop.id}\r\n` +
    `${HOP_HEADER}: ${headerValue}\r\n` +
    '\r\n'
  );
}

/**
 * Connects to the dialer's node, sends the hop and reads its answer: a 101
 * gives the socket and the bytes that came after the answer's headers (the
 * dialer's early bytes); anything else rejects, naming the status.
 */
export function openHop(address: { host: string; port: number }, request: string): Promise<{ socket: Socket; head: Buffer }> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: address.host, port: address.port, noDelay: true });
    let got = Buffer.alloc(0);
    const fail = (err: Error): void => {
      clearTimeout(timer);
      socket.destroy();
      reject(err);
    };
    const timer = setTimeout(() => fail(new Error(`the node at ${address.host}:${address.port} did not answer the hop within ${HOP_ANSWER_TIMEOUT_MS} ms`)), HOP_ANSWER_TIMEOUT_MS);
    const onData = (chunk: Buffer): void => {
      got = Buffer.concat([got, chunk]);
      const end = got.indexOf('\r\n\r\n');
      if (end < 0) {
        if (got.length > MAX_HOP_ANSWER_BYTES) fail(new Error('the hop answer is too large'));
        return;
      }
      socket.off('data', onData);
      socket.off('error', fail);
      socket.pause();
      clearTimeout(timer);
      const statusLine = got.subarray(0, got.indexOf('\r\n')).toString('latin1');
      if (!/^HTTP\/1\.1 101 /.test(statusLine)) {
        socket.destroy();
        return reject(new Error(`the dialer's node answered the hop with "${statusLine.slice(0, 80)}"`));
      }
      resolve({ socket, head: got.subarray(end + 4) });
    };
    socket.on('data', onData);
    socket.once('error', fail);
    socket.once('connect', () => socket.write(request, 'latin1'));
  });
}

/** host:port as REMOTED_NODE_ADDRESS spells it (IPv6 in brackets). */
export function parseNodeAddress(text: string): { host: string; port: number } | undefined {
  const match = /^(?:\[([0-9A-Fa-f:.]+)\]|([^\s:[\]]+)):(\d{1,5})$/.exec(text);
  if (!match) return undefined;
  const port = Number(match[3]);
  if (port < 1 || port > 65535) return undefined;
  return { host: match[1] ?? match[2], port };
}
