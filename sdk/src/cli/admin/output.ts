/** Tables for people, proto3 JSON for scripts: the two ways admin commands print. */
import { type DescMessage, type MessageShape, toJson } from '@bufbuild/protobuf';
import { type Duration, durationMs, type Timestamp, timestampDate } from '@bufbuild/protobuf/wkt';

export function printJson<D extends DescMessage>(schema: D, message: MessageShape<D>): void {
  process.stdout.write(`${JSON.stringify(toJson(schema, message), null, 2)}\n`);
}

/** Columns padded to their widest cell; an empty list says so. */
export function printTable(headers: readonly string[], rows: readonly (readonly string[])[], empty = '(none)'): void {
  if (rows.length === 0) {
    process.stdout.write(`${empty}\n`);
    return;
  }
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: readonly string[]): string => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]))).join('  ');
  process.stdout.write(`${[line(headers), ...rows.map(line)].join('\n')}\n`);
}

export function formatTime(ts: Timestamp | undefined): string {
  return ts ? timestampDate(ts).toISOString().replace(/\.\d{3}Z$/, 'Z') : '-';
}

export function formatDuration(d: Duration | undefined): string {
  if (!d) return '-';
  const ms = durationMs(d);
  return ms < 1000 ? `${ms}ms` : ms < 60_000 ? `${(ms / 1000).toFixed(1)}s` : `${Math.floor(ms / 60_000)}m${Math.floor((ms % 60_000) / 1000)}s`;
}

export function formatBytes(n: bigint): string {
  const value = Number(n);
  if (value < 1024) return `${value}B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let scaled = value / 1024;
  let unit = 0;
  while (scaled >= 1024 && unit < units.length - 1) {
    scaled /= 1024;
    unit++;
  }
  return `${scaled.toFixed(1)}${units[unit]}`;
}

/** `keys/key_abc` -> `key_abc`: tables show ids, JSON keeps names. */
export function idOf(name: string): string {
  return name.slice(name.indexOf('/') + 1);
}

/** `KEY_ROLE_SERVER` style enum names, shortened for tables: `server`. */
export function enumLabel(names: Record<number, string>, value: number): string {
  return (names[value] ?? String(value)).toLowerCase();
}
