/**
 * The link-setup stages on the `remoted:link:setup` diagnostics channel
 * (src/relay/setup-trace.ts), which `npm run bench -- --stages` reads: one
 * message per link, each stage stamped once and in order, the spare path
 * without the dial-back stages.
 */
import { type Channel, channel } from 'node:diagnostics_channel';
import type { Socket } from 'node:net';
import { dial, listen, type RemotedServer, type RouteOpenEvent } from '@remoted/sdk';
import { LINK_SETUP_CHANNEL, type LinkSetupMessage, SETUP_STAGES, type SetupStage } from '../../src/relay/context/setup-trace';
import { type StartedRelay, startRelay } from '../helpers/start-relay';
import { waitFor } from '../helpers/wait-for';

const DIALBACK_STAGES: SetupStage[] = ['dialback_accepted', 'dialback_upgrade', 'dialback_key_checked'];

function echoListener(relay: StartedRelay, path: string, spares: number): Promise<RemotedServer> {
  const server = listen(relay.url('rws', path), { spares });
  server.on('connection', (socket: Socket) => socket.pipe(socket));
  return new Promise((resolve, reject) => {
    server.once('route:open', (e: RouteOpenEvent) => (spares === 0 || e.spares > 0 ? resolve(server) : reject(new Error('no spares granted'))));
    server.once('error', reject);
  });
}

function closed(server: RemotedServer): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

async function echoOnce(relay: StartedRelay, path: string): Promise<void> {
  const socket = await dial(relay.url('rwr', path));
  socket.write('x');
  await new Promise<void>((resolve) => socket.once('data', () => resolve()));
  socket.destroy();
}

/** The stages the message has, in the channel's order, each later than the one before. */
function stagesInOrder(message: LinkSetupMessage): SetupStage[] {
  const passed = SETUP_STAGES.filter((stage) => message.times[stage] !== undefined);
  for (let i = 1; i < passed.length; i++) expect(message.times[passed[i]]! >= message.times[passed[i - 1]]!).toBe(true);
  return passed;
}

describe('link setup stages on the diagnostics channel', () => {
  let relay: StartedRelay;
  let setup: Channel;
  const messages: LinkSetupMessage[] = [];
  const onMessage = (message: unknown): void => {
    messages.push(message as LinkSetupMessage);
  };

  beforeAll(async () => {
    relay = await startRelay();
    setup = channel(LINK_SETUP_CHANNEL);
  });
  afterAll(() => relay.close());
  beforeEach(() => {
    messages.length = 0;
    setup.subscribe(onMessage);
  });
  afterEach(() => setup.unsubscribe(onMessage));

  it('stamps every stage of a dial-back link once, in order', async () => {
    const server = await echoListener(relay, '/traced', 0);
    try {
      await echoOnce(relay, '/traced');
      await waitFor(() => messages.length === 1, 'one setup message');
      const [message] = messages;
      expect(message).toMatchObject({ path: '/traced', via: 'dialback' });
      expect(message.linkId).toMatch(/^lnk_/);
      expect(stagesInOrder(message)).toEqual([...SETUP_STAGES]);
    } finally {
      await closed(server);
    }
  });

  it('a link made with a spare skips the dial-back stages', async () => {
    const server = await echoListener(relay, '/traced-spare', 2);
    try {
      await echoOnce(relay, '/traced-spare');
      await waitFor(() => messages.length === 1, 'one setup message');
      const [message] = messages;
      expect(message.via).toBe('spare');
      expect(stagesInOrder(message)).toEqual(SETUP_STAGES.filter((stage) => !DIALBACK_STAGES.includes(stage)));
    } finally {
      await closed(server);
    }
  });

  it('publishes nothing when nobody subscribes', async () => {
    setup.unsubscribe(onMessage);
    const server = await echoListener(relay, '/untraced', 0);
    try {
      await echoOnce(relay, '/untraced');
      expect(setup.hasSubscribers).toBe(false);
      expect(messages).toEqual([]);
    } finally {
      await closed(server);
    }
  });
});
