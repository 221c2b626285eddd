/**
 * Bytes after a 101 (docs/protocol.md, "Early bytes"): held only for a peer
 * that loses them (the original PHP SDK, recognised by its request headers,
 * or every peer without early-data under `legacyPeerQuirk: always`), and
 * released by that peer's own first byte. Everyone else gets its 101 and the
 * bytes already waiting for it in one write.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { DeepPartial } from '../../src/config/load-config';
import type { Config } from '../../src/config/config';
import { readBytes } from '../helpers/raw-http';
import { dialBack, linkedSocket, startDial, TestListener } from '../helpers/relay-peers';
import { type StartedRelay, startRelay } from '../helpers/start-relay';
import { RelayAdmin } from '../../src/relay/relay-admin';
import { waitFor } from '../helpers/wait-for';

/** What the original PHP SDK's WebRoute::Connect sends beside the base headers (its Connection is the helper's default). */
const PHP_SDK_HEADERS = { Pragma: 'no-cache', Connection: 'keep-alive, Upgrade' };
/** A hold far longer than any loopback link takes: bytes that arrive well before it were not held. */
const LONG_HOLD_MS = 5000;
const WELL_BEFORE_HOLD_MS = 2000;

async function within<T>(ms: number, what: Promise<T>): Promise<T | 'still waiting'> {
  return Promise.race([what, sleep(ms).then(() => 'still waiting' as const)]);
}

describe('early bytes after a 101', () => {
  let relay: StartedRelay;
  let listener: TestListener;

  async function open(overrides: DeepPartial<Config>): Promise<void> {
    relay = await startRelay(overrides);
    listener = await TestListener.open(relay.port, '/app', relay.keys.server);
  }
  afterEach(async () => {
    await listener.close();
    await relay.close();
  });

  /** A dialer that sends EARLY with its request, and a dial-back with the given headers. */
  async function linkWithEarlyDialer(listenerHeaders: Record<string, string>) {
    const dial = startDial(relay.port, '/app', relay.keys.client, { extra: 'EARLY' });
    const notice = await listener.nextNotice();
    const listenerSide = await dialBack(relay.port, '/app', relay.keys.server, notice.id, { headers: listenerHeaders });
    return { dialer: await dial.response, listenerSide };
  }

  it('writes the 101 and the bytes already waiting in one write to a peer that does not need the hold', async () => {
    await open({ legacyPeerDelayMs: LONG_HOLD_MS });
    // No early-data and no PHP SDK headers: a peer written to the protocol, which reads a stream.
    const { dialer, listenerSide } = await linkWithEarlyDialer({ Connection: 'Upgrade' });
    // They came in the read of the 101: one write, no hold.
    expect(listenerSide.rest.toString()).toBe('EARLY');
    const admin = relay.app.get(RelayAdmin);
    const [link] = admin.links();
    // The 101 is not counted as payload; the bytes written with it are.
    expect(link.bytesToListener).toBe(5);
    listenerSide.socket.write('reply');
    expect((await readBytes(linkedSocket(dialer), 5)).toString()).toBe('reply');
    expect(admin.link(link.linkId)?.bytesToDialer).toBe(5);
    dialer.socket.destroy();
    listenerSide.socket.destroy();
    await waitFor(() => admin.links().length === 0, 'the link closes');
  });

  it('holds them for the original PHP SDK, so that its 101 arrives in a read of its own', async () => {
    await open({ legacyPeerDelayMs: 50 });
    const { dialer, listenerSide } = await linkWithEarlyDialer(PHP_SDK_HEADERS);
    // A reader like the PHP SDK drops what shares the read of its 101: nothing did.
    expect(listenerSide.rest.length).toBe(0);
    expect((await readBytes(listenerSide.socket, 5)).toString()).toBe('EARLY');
    dialer.socket.destroy();
    listenerSide.socket.destroy();
  });

  it('lets them go as soon as the held peer sends its own first byte (it has read its 101)', async () => {
    await open({ legacyPeerDelayMs: LONG_HOLD_MS });
    const { dialer, listenerSide } = await linkWithEarlyDialer(PHP_SDK_HEADERS);
    expect(listenerSide.rest.length).toBe(0);
    // A server that speaks first, as SSH does.
    listenerSide.socket.write('banner');
    expect((await readBytes(linkedSocket(dialer), 6)).toString()).toBe('banner');
    expect(await within(WELL_BEFORE_HOLD_MS, readBytes(listenerSide.socket, 5).then(String))).toBe('EARLY');
    dialer.socket.destroy();
    listenerSide.socket.destroy();
  });

  it('holds for every peer without early-data under legacyPeerQuirk always, and for none under never', async () => {
    await open({ legacyPeerDelayMs: 50, legacyPeerQuirk: 'always' });
    const always = await linkWithEarlyDialer({ Connection: 'Upgrade' });
    expect(always.listenerSide.rest.length).toBe(0);
    expect((await readBytes(always.listenerSide.socket, 5)).toString()).toBe('EARLY');
    always.dialer.socket.destroy();
    always.listenerSide.socket.destroy();
    await listener.close();
    await relay.close();

    await open({ legacyPeerDelayMs: LONG_HOLD_MS, legacyPeerQuirk: 'never' });
    const never = await linkWithEarlyDialer(PHP_SDK_HEADERS);
    expect(never.listenerSide.rest.toString()).toBe('EARLY');
    never.dialer.socket.destroy();
    never.listenerSide.socket.destroy();
  });

  it('never holds for a peer that declared early-data, whatever its other headers say', async () => {
    await open({ legacyPeerDelayMs: LONG_HOLD_MS, legacyPeerQuirk: 'always' });
    const { dialer, listenerSide } = await linkWithEarlyDialer({ ...PHP_SDK_HEADERS, 'X-Remoted-Features': 'early-data' });
    expect(listenerSide.rest.toString()).toBe('EARLY');
    dialer.socket.destroy();
    listenerSide.socket.destroy();
  });
});
