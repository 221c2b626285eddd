/**
 * Builds the Config from defaults < JSON file (--config) < environment <
 * command-line flags, and checks every value once, so that nothing later
 * reads process.env or meets a bad value.
 */
import { readFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import { DEFAULT_CONFIG, type Config } from './config';
import { CONFIG_FIELDS, type ConfigField } from './config-fields';

export class ConfigError extends Error {
  override name = 'ConfigError';
  constructor(readonly problems: readonly string[]) {
    super(`invalid configuration:\n  ${problems.join('\n  ')}`);
  }
}

export interface ConfigSources {
  argv?: readonly string[];
  env?: NodeJS.ProcessEnv;
  /** Values applied last, above flags: how tests and embedders set options. */
  overrides?: DeepPartial<Config>;
}

export type DeepPartial<T> = { [K in keyof T]?: T[K] extends object ? DeepPartial<T[K]> : T[K] };

type Raw = { value: unknown; source: string };

/** Parses command-line flags; `--help` and `--version` print and exit here. */
export function buildCommand(): Command {
  const program = new Command('remoted-relay')
    .description('remoted relay: TCP servers behind a firewall listen over WebSocket; clients dial them with WebRoute.')
    .option('-c, --config <file>', 'JSON file of settings (same keys as the Config, e.g. {"port":37791,"limits":{"maxHeaderBytes":16384}})')
    .allowExcessArguments(false)
    .showHelpAfterError();
  for (const field of CONFIG_FIELDS) {
    program.addOption(new Option(`--${field.flag} <value>`, `${field.description} [env ${field.env}]`));
  }
  program.addHelpText('after', '\nPrecedence: defaults < --config file < environment < flags.\n\nCluster mode: import-keys --from <file> copies a single node\'s keys into the cluster\'s Redis (import-keys --help; docs/cluster.md).');
  return program;
}

export function loadConfig(sources: ConfigSources = {}): Config {
  const problems: string[] = [];
  const raw = new Map<string, Raw>();

  let flags: Record<string, string | undefined> = {};
  if (sources.argv) {
    const program = buildCommand();
    program.parse([...sources.argv], { from: 'user' });
    flags = program.opts();
  }
  if (flags.config) readFile(flags.config, raw, problems);

  const env = sources.env ?? {};
  for (const field of CONFIG_FIELDS) {
    const fromEnv = env[field.env];
    if (fromEnv !== undefined && fromEnv !== '') raw.set(field.path, { value: fromEnv, source: field.env });
    const fromFlag = flags[camel(field.flag)];
    if (fromFlag !== undefined) raw.set(field.path, { value: fromFlag, source: `--${field.flag}` });
  }
  if (sources.overrides) flatten(sources.overrides, '', raw, 'options', problems);

  const config = structuredClone(DEFAULT_CONFIG) as Config;
  for (const field of CONFIG_FIELDS) {
    const entry = raw.get(field.path);
    if (!entry) continue;
    const checked = checkValue(field, entry);
    if ('problem' in checked) problems.push(checked.problem);
    else setPath(config, field.path, checked.value);
  }
  problems.push(...crossFieldProblems(config, raw));
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

/** Settings that are each fine alone but not together. */
function crossFieldProblems(config: Config, raw: ReadonlyMap<string, Raw>): string[] {
  const problems: string[] = [];
  const { redisUrl, secret } = config.cluster;
  if (redisUrl !== undefined && secret === undefined) {
    const source = raw.get('cluster.redisUrl')?.source ?? 'REMOTED_REDIS_URL';
    problems.push(`${source}: cluster mode needs REMOTED_CLUSTER_SECRET (--cluster-secret), the same on every node: at least 32 random characters, e.g. from \`openssl rand -hex 32\``);
  }
  return problems;
}

function readFile(file: string, raw: Map<string, Raw>, problems: string[]): void {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    problems.push(`--config ${file}: ${(err as Error).message}`);
    return;
  }
  if (!isRecord(parsed)) {
    problems.push(`--config ${file}: expected a JSON object`);
    return;
  }
  flatten(parsed, '', raw, file, problems);
}

const KNOWN_PATHS = new Set(CONFIG_FIELDS.map((f) => f.path));
const KNOWN_SECTIONS = new Set(CONFIG_FIELDS.filter((f) => f.path.includes('.')).map((f) => f.path.split('.')[0]));

function flatten(obj: object, prefix: string, raw: Map<string, Raw>, source: string, problems: string[]): void {
  for (const [key, value] of Object.entries(obj)) {
    const path = prefix + key;
    if (value === undefined) continue;
    if (KNOWN_SECTIONS.has(path) && isRecord(value)) flatten(value, `${path}.`, raw, source, problems);
    else if (KNOWN_PATHS.has(path)) raw.set(path, { value, source: `${source}: ${path}` });
    else problems.push(`${source}: unknown setting "${path}"`);
  }
}

function checkValue(field: ConfigField, { value, source }: Raw): { value: unknown } | { problem: string } {
  const kind = field.kind;
  const shown = JSON.stringify(value);
  switch (kind.type) {
    case 'string':
      if (typeof value !== 'string') return { problem: `${source}: ${shown} is not a string` };
      if (kind.nonEmpty && value.trim() === '') return { problem: `${source}: must not be empty` };
      // A URL may hold a password: the problem says what is wanted, not what was given.
      if (kind.shape && !kind.shape.pattern.test(value)) return { problem: `${source}: must be ${kind.shape.says}` };
      return { value };
    case 'secret':
      // The value is a secret: a problem names its source and length, never the value.
      if (typeof value !== 'string') return { problem: `${source}: not a string` };
      // Trimmed, as the relay trims the key header: padding does not make a key longer.
      if (value.trim().length < kind.minLength) {
        return { problem: `${source}: ${kind.what} of ${value.trim().length} characters is too short; use at least ${kind.minLength} random characters (${kind.why})` };
      }
      return { value };
    case 'enum':
      if (typeof value !== 'string' || !kind.values.includes(value)) {
        return { problem: `${source}: ${shown} is not one of ${kind.values.join(', ')}` };
      }
      return { value };
    case 'boolean':
      if (typeof value === 'boolean') return { value };
      if (value === 'true' || value === 'false') return { value: value === 'true' };
      return { problem: `${source}: ${shown} is not true or false` };
    case 'int': {
      const n = typeof value === 'number' ? value : typeof value === 'string' && /^-?\d+$/.test(value.trim()) ? Number(value) : NaN;
      if (!Number.isSafeInteger(n) || n < kind.min || n > kind.max) {
        return { problem: `${source}: ${shown} is not a whole number from ${kind.min} to ${kind.max}` };
      }
      return { value: n };
    }
  }
}

function setPath(target: object, path: string, value: unknown): void {
  const parts = path.split('.');
  let node = target as Record<string, unknown>;
  for (const part of parts.slice(0, -1)) node = node[part] as Record<string, unknown>;
  node[parts[parts.length - 1]] = value;
}

function camel(flag: string): string {
  return flag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
