/**
 * The cluster targets (issue 13), beside single-node remoted in the same run:
 * - remoted_cluster: two nodes on one redis-server, the listener on node A,
 *   every dial on node B, so every link is made over the node-to-node hop
 *   (the worst case: no spares, dial-backs all on the listener's node);
 * - remoted_cluster_spares: two more nodes behind HAProxy (round robin), a
 *   listener with spares and every dial through the balancer, as deployed;
 *   the share of its links made with no hop is read from the nodes' metrics
 *   (remoted_links_opened_by_via_total).
 * Needs Debian's redis-server (and haproxy for the second); without them the
 * targets are left out and the run says so.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { get } from 'node:http';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dial } from '@remoted/sdk';
import { randomToken } from '@remoted/sdk/protocol';
import { asChild, BENCH_DIST, type Child, freePort, jsonLine, RELAY_MAIN, startNode } from './processes';
import type { Route, Target } from './targets';

const REDIS_SERVER = '/usr/bin/redis-server';
const HAPROXY = '/usr/sbin/haproxy';
const SPARES = 64;

export interface ClusterTestbed {
  targets: Target[];
  /** Share of the spares target's links made with no hop, over both its nodes; undefined without that target. */
  hopFreeShare(): Promise<number | undefined>;
  stop(): Promise<void>;
}

function waitForPort(port: number, what: string, exited: () => boolean): Promise<void> {
  const deadline = Date.now() + 30_000;
  return new Promise((resolve, reject) => {
    const attempt = (): void => {
      const socket: Socket = connect({ port, host: '127.0.0.1' }, () => {
        socket.destroy();
        resolve();
      });
      socket.once('error', () => {
        if (exited() || Date.now() > deadline) return reject(new Error(`${what} did not start on ${port}`));
        setTimeout(attempt, 50);
      });
    };
    attempt();
  });
}

async function startProcess(command: string, args: string[], port: number, what: string): Promise<Child<undefined>> {
  const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, REMOTED_GRPC_PORT: '0', REMOTED_STATUS_PORT: '0' } });
  await waitForPort(port, what, () => child.exitCode !== null);
  return asChild(child, undefined);
}

interface ClusterNode {
  port: number;
  metricsPort: number;
  child: Child<undefined>;
}

async function startClusterNode(redisUrl: string, secret: string, keys: { server: string; client: string }, nodeId: string, dirs: string[], nodeArgs: readonly string[]): Promise<ClusterNode> {
  const port = await freePort();
  const metricsPort = await freePort();
  const dataDir = mkdtempSync(join(tmpdir(), `remoted-bench-${nodeId}-`));
  dirs.push(dataDir);
  const child = await startProcess(
    process.execPath,
    [
      ...nodeArgs, RELAY_MAIN, '--port', String(port), '--data-dir', dataDir, '--server-key', keys.server, '--client-key', keys.client, '--log-level', 'warn',
      '--spares-per-listener', String(SPARES), '--spares-per-route', String(SPARES), '--metrics-port', String(metricsPort),
      '--redis-url', redisUrl, '--cluster-secret', secret, '--node-id', nodeId,
    ],
    port,
    `relay node ${nodeId}`,
  );
  return { port, metricsPort, child };
}

/** The node's count of links opened, by how the listener's side came. */
function linksByVia(metricsPort: number): Promise<Record<string, number>> {
  return new Promise((resolve, reject) => {
    get({ host: '127.0.0.1', port: metricsPort, path: '/metrics' }, (res) => {
      let text = '';
      res.on('data', (chunk: Buffer) => (text += chunk.toString()));
      res.on('end', () => {
        const counts: Record<string, number> = {};
        for (const match of text.matchAll(/^remoted_links_opened_by_via_total\{[^}]*via="(\w+)"[^}]*\} (\d+)/gm)) counts[match[1]] = Number(match[2]);
        resolve(counts);
      });
    }).once('error', reject);
  });
}

function haproxyConfig(port: number, backends: readonly number[]): string {
  return [
    'global',
    '  maxconn 4000',
    'defaults',
    '  mode tcp',
    '  timeout connect 2s',
    '  timeout client 1h',
    '  timeout server 1h',
    'frontend relay',
    `  bind 127.0.0.1:${port}`,
    '  default_backend nodes',
    'backend nodes',
    '  balance roundrobin',
    ...backends.map((backend, i) => `  server node${i + 1} 127.0.0.1:${backend}`),
    '',
  ].join('\n');
}

export async function startClusterTestbed(nodeArgs: readonly string[] = []): Promise<ClusterTestbed> {
  if (!existsSync(REDIS_SERVER)) {
    process.stderr.write(`bench: ${REDIS_SERVER} not found: the cluster targets are left out (apt-get install redis-server)\n`);
    return { targets: [], hopFreeShare: async () => undefined, stop: async () => undefined };
  }
  const children: Child<unknown>[] = [];
  const dirs: string[] = [];
  const keys = { server: randomToken(), client: randomToken() };
  const secret = randomToken();
  const redisPort = await freePort();
  const redisDir = mkdtempSync(join(tmpdir(), 'remoted-bench-redis-'));
  dirs.push(redisDir);
  children.push(await startProcess(REDIS_SERVER, ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', redisDir], redisPort, 'redis-server'));
  const redisUrl = `redis://127.0.0.1:${redisPort}`;

  const dialOn = async (port: number, path: string, earlyData?: Buffer): Promise<Socket> => {
    const socket = await dial(`rwr://${keys.client}@127.0.0.1:${port}/${path}`, { earlyData });
    socket.setNoDelay(true);
    return socket;
  };
  const targets: Target[] = [];
  let spareNodes: ClusterNode[] = [];
  try {
    const a = await startClusterNode(redisUrl, secret, keys, 'bench-a', dirs, nodeArgs);
    const b = await startClusterNode(redisUrl, secret, keys, 'bench-b', dirs, nodeArgs);
    children.push(a.child, b.child);
    const listener = await startNode(join(BENCH_DIST, 'sdk-listener.js'), [], { RELAY_PORT: String(a.port), SERVER_KEY: keys.server, ROUTE_PREFIX: 'cluster-' }, (l) => jsonLine<{ ready: boolean }>(l)?.ready);
    children.push(listener as Child<unknown>);
    targets.push({
      name: 'remoted_cluster',
      scenarios: 'setup_throughput',
      // The dialer's node: it holds the dialer's side and the hop; node A holds the listener's side.
      relayPid: b.child.pid,
      connect: (route: Route) => dialOn(b.port, `cluster-${route}`),
      connectSending: (route: Route, first: Buffer) => dialOn(b.port, `cluster-${route}`, first),
    });

    if (!existsSync(HAPROXY)) {
      process.stderr.write(`bench: ${HAPROXY} not found: remoted_cluster_spares is left out (apt-get install haproxy)\n`);
    } else {
      const c = await startClusterNode(redisUrl, secret, keys, 'bench-c', dirs, nodeArgs);
      const d = await startClusterNode(redisUrl, secret, keys, 'bench-d', dirs, nodeArgs);
      children.push(c.child, d.child);
      spareNodes = [c, d];
      const balancerPort = await freePort();
      const configFile = join(redisDir, 'haproxy.cfg');
      writeFileSync(configFile, haproxyConfig(balancerPort, [c.port, d.port]));
      children.push(await startProcess(HAPROXY, ['-f', configFile, '-db'], balancerPort, 'haproxy'));
      const sparesListener = await startNode(
        join(BENCH_DIST, 'sdk-listener.js'),
        [],
        { RELAY_PORT: String(balancerPort), SERVER_KEY: keys.server, SPARES: String(SPARES), ROUTE_PREFIX: 'cspares-' },
        (l) => jsonLine<{ ready: boolean; spares: number }>(l),
      );
      children.push(sparesListener as Child<unknown>);
      targets.push({
        name: 'remoted_cluster_spares',
        scenarios: 'links',
        relayPid: c.child.pid,
        connect: (route: Route) => dialOn(balancerPort, `cspares-${route}`),
        connectSending: (route: Route, first: Buffer) => dialOn(balancerPort, `cspares-${route}`, first),
      });
    }
  } catch (err) {
    for (const child of children.reverse()) await child.stop();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    targets,
    async hopFreeShare() {
      if (spareNodes.length === 0) return undefined;
      let hopFree = 0;
      let hopped = 0;
      for (const node of spareNodes) {
        const counts = await linksByVia(node.metricsPort);
        hopFree += (counts.spare ?? 0) + (counts.dialback ?? 0);
        hopped += counts.hop ?? 0;
      }
      return hopFree + hopped === 0 ? undefined : hopFree / (hopFree + hopped);
    },
    async stop() {
      for (const child of children.reverse()) await child.stop();
      for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
    },
  };
}
