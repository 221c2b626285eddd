/**
 * Preloaded into the bench's relay with `--stages` (`node -r setup-stages.js
 * dist/main.js`): it subscribes to the relay's `remoted:link:setup` channel
 * (src/relay/setup-trace.ts) and, when the relay exits, writes each stage's
 * durations per target to $REMOTED_BENCH_STAGES_FILE. Loaded only then, so the
 * bench's other figures are taken with tracing off.
 */
import { subscribe } from 'node:diagnostics_channel';
import { writeFileSync } from 'node:fs';

/** The relay's stage order (setup-trace.ts SETUP_STAGES); a stage a link did not pass is skipped. */
const STAGES = ['accepted', 'upgrade', 'key_checked', 'chosen', 'dialback_accepted', 'dialback_upgrade', 'dialback_key_checked', 'linked', 'started', 'announced'];
/** Enough for the full bench's links per target; beyond it the first samples stand for the rest. */
const MAX_SAMPLES = 200_000;

interface SetupMessage {
  path: string;
  via: string;
  times: Record<string, bigint | undefined>;
}

/** "target via alone|overlapping" -> "from->to" -> durations in µs */
export type StageSamples = Record<string, Record<string, number[]>>;

const samples: StageSamples = {};
/** When the link before was announced: a link whose upgrade came later was set up alone. */
let lastAnnounced = 0n;

/** Which bench target a path belongs to (targets.ts names the routes). */
function targetOf(path: string): string {
  if (path.startsWith('/legacy-')) return 'remoted_legacy';
  if (path.startsWith('/spares-')) return 'remoted_spares';
  return 'remoted';
}

subscribe('remoted:link:setup', (raw) => {
  const message = raw as SetupMessage;
  // The setup-latency scenario dials one link at a time; links/s keeps 64 in flight, where stages queue.
  const alone = (message.times.upgrade ?? 0n) > lastAnnounced;
  lastAnnounced = message.times.announced ?? lastAnnounced;
  const byStage = (samples[`${targetOf(message.path)} ${message.via} ${alone ? 'alone' : 'overlapping'}`] ??= {});
  let previous: string | undefined;
  for (const stage of STAGES) {
    const at = message.times[stage];
    if (at === undefined) continue;
    if (previous !== undefined) {
      const list = (byStage[`${previous}->${stage}`] ??= []);
      if (list.length < MAX_SAMPLES) list.push(Number(at - (message.times[previous] as bigint)) / 1000);
    }
    previous = stage;
  }
});

process.on('exit', () => {
  const file = process.env.REMOTED_BENCH_STAGES_FILE;
  if (file) writeFileSync(file, JSON.stringify(samples));
});
