/** Helpers of the operations tests: plain GETs, sockets from a chosen source address, TLS peers, certificates. */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { get as httpGet, type IncomingHttpHeaders } from 'node:http';
import { connect as netConnect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ConnectionOptions, connect as tlsConnect } from 'node:tls';
import { buildRequest, type RawResponse, readResponse } from '../helpers/raw-http';

export interface PlainResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** One GET on a fresh connection. */
export function getText(port: number, path: string, headers: Record<string, string> = {}): Promise<PlainResponse> {
  return new Promise((resolve, reject) => {
    const req = httpGet({ host: '127.0.0.1', port, path, headers, agent: false, timeout: 5000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${path}: no answer in 5 s`)));
    req.on('error', reject);
  });
}

/** The value of one sample in Prometheus' text format; undefined when absent. */
export function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][\w:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (!match || match[1] !== name) continue;
    const have = match[2] ? match[2].slice(1, -1).split(',').filter((l) => l !== '') : [];
    if (have.length === wanted.length && wanted.every((l) => have.includes(l))) return Number(match[3]);
  }
  return undefined;
}

/** A TCP connection to the relay from a chosen loopback address (127.0.0.2 is a second client). */
export function connectFrom(port: number, localAddress: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = netConnect({ port, host: '127.0.0.1', localAddress, allowHalfOpen: true }, () => resolve(socket));
    socket.once('error', reject);
  });
}

/** A TLS connection to the relay, trusting only `ca`. */
export function connectTls(port: number, ca: Buffer): Promise<Socket> {
  return new Promise((resolve, reject) => {
    // Node's TLSSocket honours allowHalfOpen (a link passes FINs), though its types omit it.
    const options: ConnectionOptions & { allowHalfOpen: boolean } = { port, host: '127.0.0.1', ca, allowHalfOpen: true };
    const socket = tlsConnect(options, () => resolve(socket));
    socket.once('error', reject);
  });
}

/** Sends one request on an open socket and reads the answer (for a 101, the socket is left paused). */
export function requestOn(socket: Socket, path: string, headers: Record<string, string | undefined>): Promise<RawResponse> {
  socket.write(buildRequest(path, 'GET', headers));
  return readResponse(socket);
}

export interface CertFiles {
  dir: string;
  certFile: string;
  keyFile: string;
  cert: Buffer;
}

/** A self-signed certificate for 127.0.0.1, made with the openssl CLI into a temp dir. */
export function selfSignedCert(commonName = 'remoted-test', dir = mkdtempSync(join(tmpdir(), 'remoted-cert-'))): CertFiles {
  const certFile = join(dir, `${commonName}.crt`);
  const keyFile = join(dir, `${commonName}.key`);
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
    '-subj', `/CN=${commonName}`, '-addext', 'subjectAltName=IP:127.0.0.1',
    '-keyout', keyFile, '-out', certFile,
  ], { stdio: 'ignore' });
  return { dir, certFile, keyFile, cert: readFileSync(certFile) };
}

/** Writes `text` to a file in dir and returns its path. */
export function writeIn(dir: string, name: string, text: string): string {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}
