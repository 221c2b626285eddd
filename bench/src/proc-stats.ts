/**
 * RSS and CPU time of another process and its children (the relay's splice
 * worker is part of the relay), from /proc (Linux).
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

export function rssBytes(pid: number): number {
  let total = 0;
  for (const member of processTree(pid)) {
    const match = /VmRSS:\s+(\d+) kB/.exec(safeRead(`/proc/${member}/status`));
    if (match) total += Number(match[1]) * 1024;
  }
  return total > 0 ? total : NaN;
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
