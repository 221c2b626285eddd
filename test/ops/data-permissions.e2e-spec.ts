/** The relay warns at start about a key database that group or others may read. */
import { chmodSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import 'reflect-metadata';
import { randomToken } from '@remoted/sdk/protocol';
import pino from 'pino';
import { loadConfig } from '../../src/config/load-config';
import { createRelayApp } from '../../src/create-relay-app';

describe('data directory permissions', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'remoted-perm-e2e-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('logs a warning at start naming a data directory that group or others may read, and starts anyway', async () => {
    const dataDir = join(dir, 'data');
    mkdirSync(dataDir);
    chmodSync(dataDir, 0o755);
    const lines: Array<Record<string, unknown>> = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        for (const line of chunk.toString().split('\n')) if (line.trim() !== '') lines.push(JSON.parse(line) as Record<string, unknown>);
        done();
      },
    });
    const config = loadConfig({
      overrides: { host: '127.0.0.1', port: 0, dataDir, serverKey: randomToken(), clientKey: randomToken(), adminKey: randomToken(), grpc: { host: '127.0.0.1', port: 0 }, status: { port: 0 }, shutdownGraceMs: 0 },
    });
    const { app } = await createRelayApp(config, pino({ level: 'warn' }, sink));
    await app.close();
    expect(lines).toContainEqual(expect.objectContaining({ level: 40, path: dataDir, mode: '755', fix: `chmod 700 ${dataDir}`, msg: expect.stringMatching(/readable by group or others/) }));
  });
});
