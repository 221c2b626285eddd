/**
 * RSS of another process, and CPU time of it and its children (the relay's
 * splice worker relays bulk bytes for it), from /proc (Linux).
 */
import { readdirSync, readFileSync } from 'node:fs';

const CLOCK_TICKS_PER_SECOND = 100;

/** The process and its live descendants. */
export function processTree(pid: number): number[] {
  const children: number[] = [];
  for (const task of safeList(`/proc/${pid}/task`)) {
    const text = safeRead(`/proc/${pid}/task/${task}/children`);
    for (const child of text.split(' ').filter((s) => s !== '')) children.push(...processTree(Number(child)));
  }
  return [pid, ...children];
}

/**
 * The process alone: idle links never move to the splice worker, and the
 * worker's own RSS, which rises and falls with the bulk transfers before,
 * would only add noise to a per-link figure.
 */
export function rssBytes(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(safeRead(`/proc/${pid}/status`));
  return match ? Number(match[1]) * 1024 : NaN;
}

/** User + system CPU seconds the process and its live children have used so far. */
export function cpuSeconds(pid: number): number {
  let ticks = 0;
  for (const member of processTree(pid)) {
    const stat = safeRead(`/proc/${member}/stat`);
    if (stat === '') continue;
    // Fields after the command name (which may hold spaces) start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    ticks += Number(fields[11]) + Number(fields[12]);
  }
  return ticks / CLOCK_TICKS_PER_SECOND;
}

/** A process may exit between listing and reading: it then counts for nothing. */
function safeRead(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

function safeList(path: string): string[] {
  try {
    return readdirSync(path);
  } catch {
    return [];
  }
}
