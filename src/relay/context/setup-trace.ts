/**
 * How long each stage of a link's setup took, for a profiler or
 * `npm run bench -- --stages`: one message per link made, published on the
 * diagnostics channel `remoted:link:setup` (node:diagnostics_channel, the way
 * undici publishes its request stages). Nothing is timed or kept unless
 * something subscribes: each stamp is first one `hasSubscribers` check.
 */
import { channel } from 'node:diagnostics_channel';
import type { Socket } from 'node:net';
import type { LinkVia } from './relay-events';

export const LINK_SETUP_CHANNEL = 'remoted:link:setup';

/**
 * The stages, in the order a link passes them. A dial answered by a spare goes
 * from `chosen` to `linked`; one that waits for a dial-back passes the three
 * `dialback_` stages between them (the listener's round trip is in
 * `dialback_accepted`).
 */
export const SETUP_STAGES = [
  'accepted',
  'upgrade',
  'key_checked',
  'chosen',
  'dialback_accepted',
  'dialback_upgrade',
  'dialback_key_checked',
  'linked',
  'started',
  'announced',
] as const;
export type SetupStage = (typeof SETUP_STAGES)[number];

/** process.hrtime.bigint() at each stage passed (ns). */
export type SetupTimes = Partial<Record<SetupStage, bigint>>;

/** What a subscriber receives once per link made. */
export interface LinkSetupMessage {
  linkId: string;
  path: string;
  via: LinkVia;
  times: SetupTimes;
}

const setupChannel = channel(LINK_SETUP_CHANNEL);
/** When each socket was accepted, kept only while someone subscribes; a WeakMap so that a socket never stays for it. */
const acceptedAt = new WeakMap<Socket, bigint>();

export function isTracingSetup(): boolean {
  return setupChannel.hasSubscribers;
}

/** The relay port accepted a socket. */
export function stampAccepted(socket: Socket): void {
  if (setupChannel.hasSubscribers) acceptedAt.set(socket, process.hrtime.bigint());
}

/** An upgrade request arrived on `socket`: its times so far, or undefined when nobody subscribes. */
export function startSetupTimes(socket: Socket): SetupTimes | undefined {
  if (!setupChannel.hasSubscribers) return undefined;
  return { accepted: acceptedAt.get(socket), upgrade: process.hrtime.bigint() };
}

export function stamp(times: SetupTimes | undefined, stage: SetupStage): void {
  if (times) times[stage] = process.hrtime.bigint();
}

/** A dial-back's own stages, renamed onto the dialer's. */
export function joinDialback(dialer: SetupTimes | undefined, dialback: SetupTimes | undefined): SetupTimes | undefined {
  if (!dialer || !dialback) return dialer;
  return { ...dialer, dialback_accepted: dialback.accepted, dialback_upgrade: dialback.upgrade, dialback_key_checked: dialback.key_checked };
}

export function publishSetup(message: LinkSetupMessage): void {
  if (setupChannel.hasSubscribers) setupChannel.publish(message);
}
