/**
 * `npm run bench`: the same client code against direct, baseline, remoted and
 * remoted_spares (link setup only), and the cluster targets
 * (cluster-targets.ts), interleaved run by run, printed side by side and
 * written to bench/results.json.
 * `--quick` runs smaller, fewer rounds (under two minutes); `--no-cluster`
 * leaves the cluster targets out; `--profile` also
 * writes the relay's CPU profile to bench/profiles/; `--stages` also times each
 * stage of link setup inside the relay (setup-stages.ts) and prints the p50s.
 */
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { idleLinks, linksPerSecond, roundTrips, setupLatencies, throughput } from './scenarios';
import { percentile, summarize, type Summary } from './stats';
import type { StageSamples } from './setup-stages';
import { startClusterTestbed } from './cluster-targets';
import { startTestbed, type Target } from './targets';

interface Plan {
  runs: number;
  oneStreamBytes: number;
  eightStreamBytes: number;
  setupLinks: number;
  linksTotal: number;
  linksConcurrency: number;
  rttMessages: number;
  idleLinks: number;
  idleRuns: number;
}

const FULL: Plan = {
  runs: 5,
  oneStreamBytes: 1024 ** 3,
  eightStreamBytes: 1024 ** 3,
  setupLinks: 500,
  linksTotal: 5000,
  linksConcurrency: 64,
  rttMessages: 10_000,
  idleLinks: 5000,
  idleRuns: 3,
};

const QUICK: Plan = {
  runs: 3,
  oneStreamBytes: 256 * 1024 ** 2,
  eightStreamBytes: 256 * 1024 ** 2,
  setupLinks: 200,
  linksTotal: 1500,
  linksConcurrency: 64,
  rttMessages: 2000,
  idleLinks: 1000,
  idleRuns: 1,
};

type Samples = Record<string, Record<string, number[]>>;

function record(samples: Samples, scenario: string, target: string, value: number | undefined): void {
  if (value === undefined || Number.isNaN(value)) return;
  ((samples[scenario] ??= {})[target] ??= []).push(value);
}

const UNITS: Record<string, string> = {
  throughput_1_stream: 'MB/s',
  throughput_8_streams: 'MB/s',
  cpu_per_gib: 'CPU s/GiB',
  setup_p50: 'us',
  setup_p99: 'us',
  links_per_s: 'links/s',
  rtt_p50: 'us',
  rtt_p99: 'us',
  rss_per_idle_link: 'bytes',
  idle_open_seconds: 's',
  rtt_p50_with_idle: 'us',
};

async function runLinkSetup(plan: Plan, target: Target, samples: Samples): Promise<void> {
  const setup = await setupLatencies(target, plan.setupLinks);
  record(samples, 'setup_p50', target.name, percentile(setup, 50));
  record(samples, 'setup_p99', target.name, percentile(setup, 99));
  record(samples, 'links_per_s', target.name, await linksPerSecond(target, plan.linksConcurrency, plan.linksTotal));
}

async function runRound(plan: Plan, targets: Target[], samples: Samples, round: number): Promise<void> {
  for (const target of targets) {
    if (target.scenarios === 'links') {
      await runLinkSetup(plan, target, samples);
      process.stderr.write(`  round ${round + 1}/${plan.runs} ${target.name} done\n`);
      continue;
    }
    if (target.scenarios === 'setup_throughput') {
      record(samples, 'throughput_1_stream', target.name, (await throughput(target, plan.oneStreamBytes, 1)).mbPerS);
      await runLinkSetup(plan, target, samples);
      process.stderr.write(`  round ${round + 1}/${plan.runs} ${target.name} done\n`);
      continue;
    }
    const one = await throughput(target, plan.oneStreamBytes, 1);
    record(samples, 'throughput_1_stream', target.name, one.mbPerS);
    record(samples, 'cpu_per_gib', target.name, one.cpuPerGiB);
    record(samples, 'throughput_8_streams', target.name, (await throughput(target, plan.eightStreamBytes, 8)).mbPerS);
    await runLinkSetup(plan, target, samples);
    const rtt = await roundTrips(target, plan.rttMessages);
    record(samples, 'rtt_p50', target.name, percentile(rtt, 50));
    record(samples, 'rtt_p99', target.name, percentile(rtt, 99));
    if (round < plan.idleRuns) {
      const idle = await idleLinks(target, plan.idleLinks, plan.rttMessages);
      record(samples, 'rss_per_idle_link', target.name, idle.rssPerLinkBytes);
      record(samples, 'idle_open_seconds', target.name, idle.openSeconds);
      record(samples, 'rtt_p50_with_idle', target.name, idle.rttP50WithIdleUs);
    }
    process.stderr.write(`  round ${round + 1}/${plan.runs} ${target.name} done\n`);
  }
}

function printTable(results: Record<string, Record<string, Summary>>, ratios: Record<string, number>): void {
  const rows = [['scenario', 'unit', 'direct', 'baseline', 'remoted', 'remoted_spares', 'remoted_legacy', 'remoted_cluster', 'remoted_cluster_spares', 'remoted/baseline', 'spares/baseline', 'legacy/baseline']];
  const fmt = (s: Summary | undefined): string => (s ? `${round(s.median)} (${round(s.min)}-${round(s.max)})` : '-');
  const ratio = (key: string): string => (ratios[key] === undefined ? '-' : ratios[key].toFixed(2));
  for (const [scenario, byTarget] of Object.entries(results)) {
    rows.push([
      scenario,
      UNITS[scenario],
      fmt(byTarget.direct),
      fmt(byTarget.baseline),
      fmt(byTarget.remoted),
      fmt(byTarget.remoted_spares),
      fmt(byTarget.remoted_legacy),
      fmt(byTarget.remoted_cluster),
      fmt(byTarget.remoted_cluster_spares),
      ratio(scenario),
      ratio(`${scenario}_spares`),
      ratio(`${scenario}_legacy`),
    ]);
  }
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  for (const row of rows) process.stdout.write(`${row.map((cell, i) => cell.padEnd(widths[i])).join('  ')}\n`);
}

interface StageSummary {
  links: number;
  p50: number;
  p99: number;
}

/** target (via) -> stage -> µs, from what the relay's setup-stages.js wrote at exit. */
function stageSummaries(file: string): Record<string, Record<string, StageSummary>> {
  if (!existsSync(file)) throw new Error(`--stages: the relay wrote no ${file} (did it exit by itself?)`);
  const samples = JSON.parse(readFileSync(file, 'utf8')) as StageSamples;
  const out: Record<string, Record<string, StageSummary>> = {};
  for (const [target, byStage] of Object.entries(samples)) {
    out[target] = {};
    for (const [stage, values] of Object.entries(byStage)) {
      const sorted = values.sort((a, b) => a - b);
      out[target][stage] = { links: sorted.length, p50: percentile(sorted, 50), p99: percentile(sorted, 99) };
    }
  }
  return out;
}

function printStages(stages: Record<string, Record<string, StageSummary>>): void {
  process.stdout.write('\nlink setup inside the relay, per stage (us, all rounds; alone: overlapped no other link\'s setup, as in setup_p50):\n');
  const rows = [['target via load', 'stage', 'links', 'p50', 'p99']];
  for (const [target, byStage] of Object.entries(stages)) {
    for (const [stage, s] of Object.entries(byStage)) rows.push([target, stage, String(s.links), round(s.p50), round(s.p99)]);
  }
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  for (const row of rows) process.stdout.write(`${row.map((cell, i) => cell.padEnd(widths[i])).join('  ')}\n`);
}

function round(n: number): string {
  return n >= 100 ? n.toFixed(0) : n >= 10 ? n.toFixed(1) : n.toFixed(2);
}

async function main(): Promise<void> {
  const quick = process.argv.includes('--quick');
  const plan = quick ? QUICK : FULL;
  // --profile: the relay writes a V8 CPU profile to bench/profiles/ when it exits (see profile-summary.ts).
  const profileDir = join(__dirname, '..', 'profiles');
  const relayNodeArgs = process.argv.includes('--profile') ? ['--cpu-prof', '--cpu-prof-dir', profileDir] : [];
  const stagesFile = join(__dirname, '..', 'stages.json');
  const traceStages = process.argv.includes('--stages');
  if (traceStages) {
    rmSync(stagesFile, { force: true });
    relayNodeArgs.push('--require', join(__dirname, 'setup-stages.js'));
    process.env.REMOTED_BENCH_STAGES_FILE = stagesFile;
  }
  const testbed = await startTestbed(relayNodeArgs);
  const samples: Samples = {};
  const started = Date.now();
  let hopFree: number | undefined;
  try {
    // --no-cluster: single-node targets only (the cluster's six extra processes share the same cores).
    const cluster = process.argv.includes('--no-cluster') ? undefined : await startClusterTestbed(relayNodeArgs);
    try {
      for (let r = 0; r < plan.runs; r++) await runRound(plan, [...testbed.targets, ...(cluster?.targets ?? [])], samples, r);
      hopFree = await cluster?.hopFreeShare();
    } finally {
      await cluster?.stop();
    }
  } finally {
    await testbed.stop();
  }
  const results: Record<string, Record<string, Summary>> = {};
  for (const [scenario, byTarget] of Object.entries(samples)) {
    results[scenario] = {};
    for (const [target, values] of Object.entries(byTarget)) results[scenario][target] = summarize(values, UNITS[scenario]);
  }
  const ratios: Record<string, number> = {};
  for (const key of ['throughput_1_stream', 'throughput_8_streams', 'setup_p50', 'setup_p99', 'links_per_s', 'rtt_p50', 'rtt_p99', 'rss_per_idle_link', 'cpu_per_gib', 'rtt_p50_with_idle']) {
    const remoted = results[key]?.remoted?.median;
    const baseline = results[key]?.baseline?.median;
    if (remoted !== undefined && baseline !== undefined) ratios[key] = remoted / baseline;
  }
  // With spares (issue 7's target: setup p50 <= 1.2x, links/s >= 0.9x the baseline).
  for (const key of ['setup_p50', 'links_per_s']) {
    const spares = results[key]?.remoted_spares?.median;
    const baseline = results[key]?.baseline?.median;
    if (spares !== undefined && baseline !== undefined) ratios[`${key}_spares`] = spares / baseline;
    // Original-protocol peers (issue 15: setup p50 <= 1.5x the baseline).
    const legacy = results[key]?.remoted_legacy?.median;
    if (legacy !== undefined && baseline !== undefined) ratios[`${key}_legacy`] = legacy / baseline;
  }
  // Cluster mode (issue 13): a link over the node-to-node hop against one node, and the share of hop-free links with spares behind a balancer.
  const clusterRatio = (name: string, key: string, target: string, against: string): void => {
    const value = results[key]?.[target]?.median;
    const base = results[key]?.[against]?.median;
    if (value !== undefined && base !== undefined) ratios[name] = value / base;
  };
  clusterRatio('cluster_setup_p50', 'setup_p50', 'remoted_cluster', 'remoted');
  clusterRatio('cluster_throughput_1_stream', 'throughput_1_stream', 'remoted_cluster', 'remoted');
  clusterRatio('cluster_links_per_s', 'links_per_s', 'remoted_cluster', 'remoted');
  clusterRatio('cluster_setup_p50_spares', 'setup_p50', 'remoted_cluster_spares', 'remoted_spares');
  if (hopFree !== undefined) ratios.cluster_hop_free = hopFree;
  printTable(results, ratios);
  const clusterLines = ['cluster_setup_p50', 'cluster_throughput_1_stream', 'cluster_links_per_s', 'cluster_setup_p50_spares', 'cluster_hop_free'].filter((name) => ratios[name] !== undefined);
  if (clusterLines.length > 0) process.stdout.write(`\ncluster: ${clusterLines.map((name) => `${name} ${ratios[name].toFixed(2)}`).join(', ')}\n`);
  const stages = traceStages ? stageSummaries(stagesFile) : undefined;
  if (stages) printStages(stages);
  const out = join(__dirname, '..', 'results.json');
  const report = { date: new Date().toISOString(), mode: quick ? 'quick' : 'full', seconds: (Date.now() - started) / 1000, node: process.version, plan, results, ratios, stages };
  writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);
  process.stdout.write(`\nwrote ${out} in ${report.seconds.toFixed(0)} s\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
