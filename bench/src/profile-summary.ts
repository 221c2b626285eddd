/**
 * Prints where a V8 CPU profile (.cpuprofile, from `node --cpu-prof`) spent
 * its time: self time per function, most first. Usage:
 *   node bench/dist/profile-summary.js bench/profiles/<file>.cpuprofile [rows]
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

function main(): void {
  const [file, rowsArg] = process.argv.slice(2);
  if (!file) {
    process.stderr.write('usage: profile-summary <file.cpuprofile> [rows]\n');
    process.exit(2);
  }
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<string, number>();
  let totalUs = 0;
  profile.samples.forEach((id, i) => {
    const node = byId.get(id);
    const delta = profile.timeDeltas[i] ?? 0;
    totalUs += delta;
    if (!node) return;
    const { functionName, url, lineNumber } = node.callFrame;
    const where = `${functionName || '(anonymous)'} ${url.replace(/^.*node_modules\//, '').replace(/^file:\/\/.*\/(src|dist)\//, '')}:${lineNumber + 1}`;
    selfUs.set(where, (selfUs.get(where) ?? 0) + delta);
  });
  const rows = [...selfUs].sort((a, b) => b[1] - a[1]).slice(0, Number(rowsArg ?? 25));
  for (const [where, us] of rows) process.stdout.write(`${((100 * us) / totalUs).toFixed(1).padStart(5)}%  ${where}\n`);
}

main();
