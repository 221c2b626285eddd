/**
 * The one-way rule of the house (../shared/ARCHITECTURE.md), checked by
 * `npm run lint` (depcruise). Each rule names what may not import what; a
 * new import that breaks one fails the lint.
 *
 * The relay's door (what the control plane and observability may import from
 * src/relay) is the list in RELAY_DOOR: narrow it as the house moves on, never
 * widen it for convenience.
 */
const RELAY_DOOR = [
  // The module that provides the door, and the door: views, counts, forced disconnects.
  'relay\\.module',
  'relay-admin',
  // What happened: event snapshots and the one tally.
  'context/relay-events',
  'relay-tally',
  // The relay port's one writer of refusals, which the health and metrics answers on that port also use.
  'port/http-reply',
  'port/plain-request\\.filter',
];

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'config-imports-nothing-of-ours',
      comment: 'config is read by everyone and reads nobody: it may import only its own files (and the key policy names it validates).',
      severity: 'error',
      from: { path: '^src/config/' },
      to: { path: '^src/', pathNot: ['^src/config/', '^src/keys/route-policy\\.ts$'] },
    },
    {
      name: 'keys-below-the-relay',
      comment: 'keys serve the relay and the control plane, and know neither.',
      severity: 'error',
      from: { path: '^src/keys/' },
      to: { path: '^src/(relay|control|observability|app|status|cluster)/' },
    },
    {
      name: 'relay-knows-no-readers',
      comment: 'the data plane never imports the control plane, observability or the app that composes them.',
      severity: 'error',
      from: { path: '^src/relay/' },
      to: { path: '^src/(control|observability|app|status)/|^src/(app\\.module|create-relay-app|main)\\.ts$' },
    },
    {
      name: 'readers-use-the-relay-door',
      comment: 'control, observability and the status page see the relay through its door only (RELAY_DOOR above).',
      severity: 'error',
      from: { path: '^src/(control|observability|status)/' },
      to: { path: '^src/relay/', pathNot: `^src/relay/(${RELAY_DOOR.join('|')})\\.ts$` },
    },
    {
      name: 'control-and-observability-apart',
      comment: 'two readers of the relay; neither depends on the other.',
      severity: 'error',
      from: { path: '^src/control/' },
      to: { path: '^src/observability/' },
    },
    {
      name: 'observability-and-control-apart',
      severity: 'error',
      from: { path: '^src/observability/' },
      to: { path: '^src/control/' },
    },
    {
      name: 'status-takes-only-the-event-stream-from-control',
      comment: 'the status page watches the EventHub gRPC Watch uses (event-hub, key-events, and the module that provides them); nothing else of the control plane.',
      severity: 'error',
      from: { path: '^src/status/' },
      to: { path: '^src/control/', pathNot: '^src/control/(event-hub|key-events|control\\.module)\\.ts$' },
    },
    {
      name: 'status-and-observability-apart',
      severity: 'error',
      from: { path: '^src/status/' },
      to: { path: '^src/observability/' },
    },
    {
      name: 'only-the-app-imports-status',
      comment: 'the status page is a leaf: only the app composition (app.module, create-relay-app) knows it.',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/(status/|app\\.module\\.ts$|create-relay-app\\.ts$)' },
      to: { path: '^src/status/' },
    },
    {
      name: 'only-the-app-plugs-in-the-cluster',
      comment: 'cluster mode plugs into the key store (and later the relay\'s directory) from the app composition (app.module, create-relay-app, main); the rooms it plugs into never know it.',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/(cluster/|app\\.module\\.ts$|create-relay-app\\.ts$|main\\.ts$)' },
      to: { path: '^src/cluster/' },
    },
    {
      name: 'cluster-below-the-readers',
      comment: 'cluster mode serves the keys and the relay; it knows no reader of them (control, observability, status) and not the app.',
      severity: 'error',
      from: { path: '^src/cluster/' },
      to: { path: '^src/(control|observability|status)/|^src/(app\\.module|create-relay-app|main)\\.ts$' },
    },
    {
      name: 'cluster-plugs-into-the-directory-only',
      comment: 'of the relay, cluster mode knows only the seam it implements (relay/context/route-directory) and the face it joins through is the app\'s to call.',
      severity: 'error',
      from: { path: '^src/cluster/' },
      to: { path: '^src/relay/', pathNot: '^src/relay/context/route-directory\\.ts$' },
    },
    {
      name: 'sdk-stands-alone',
      comment: 'the SDK is its own package: it never imports the relay.',
      severity: 'error',
      from: { path: '^sdk/src/' },
      to: { path: '^src/' },
    },
    {
      name: 'relay-takes-only-wire-and-gen-from-the-sdk',
      comment: 'src/ imports from the SDK what both sides speak (sdk/src/wire: protocol names and codecs; the gRPC definition; generated code), never its dialer, listener or CLI.',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^sdk/src/', pathNot: '^sdk/src/(wire/.*|gen/.*|admin/(index|grpc-definition))\\.ts$' },
    },
    {
      name: 'wire-speaks-only',
      comment: 'sdk/src/wire is what the relay and the SDK both speak: its codecs import one another and Node, never a dialer, listener, the CLI or the relay.',
      severity: 'error',
      from: { path: '^sdk/src/wire/' },
      to: { path: '^(src|sdk/src)/', pathNot: '^sdk/src/wire/' },
    },
    // The SDK, one way down: cli -> { listen, admin } -> dial -> wire <- gen; its top-level files
    // (index, protocol, fetch) are the package's public faces, which no room inside imports.
    {
      name: 'sdk-rooms-skip-the-faces',
      comment: 'sdk/src/index.ts, protocol.ts and fetch.ts are what users import; the rooms import one another directly.',
      severity: 'error',
      from: { path: '^sdk/src/(dial|listen|admin|wire|cli)/' },
      to: { path: '^sdk/src/[^/]+\\.ts$' },
    },
    {
      name: 'sdk-dial-knows-no-listener',
      comment: 'sdk/src/dial (the client half of WebRoute: dial, the WebRoute client, agents, fetch) is used by the listener, not the other way.',
      severity: 'error',
      from: { path: '^sdk/src/dial/' },
      to: { path: '^sdk/src/(listen|admin|cli)/' },
    },
    {
      name: 'sdk-listen-and-admin-apart',
      comment: 'the listener and the admin client are two uses of the relay; only the CLI knows both.',
      severity: 'error',
      from: { path: '^sdk/src/(listen|admin)/' },
      to: { path: '^sdk/src/(listen|admin)/', pathNot: '^sdk/src/$1/' },
    },
    {
      name: 'sdk-cli-on-top',
      comment: 'the CLI uses the SDK; nothing of the SDK uses the CLI.',
      severity: 'error',
      from: { path: '^sdk/src/', pathNot: '^sdk/src/cli/' },
      to: { path: '^sdk/src/cli/' },
    },
    // Inside the relay, one way down: face (module, service, door, router, enforcer, sweeper, tally)
    // -> dials -> routes -> links -> port -> context. A room may import any room below it, never one above.
    {
      name: 'relay-context-is-the-ground',
      comment: 'relay/context (settings, log, clock, the event stream, setup stages) is what every room reports to: it imports no room.',
      severity: 'error',
      from: { path: '^src/relay/context/' },
      to: { path: '^src/relay/', pathNot: '^src/relay/context/' },
    },
    {
      name: 'relay-port-knows-no-rooms-above',
      comment: 'relay/port (the socket, PROXY, TLS, client address, request parsing, the one writer of refusals) serves the rooms above and knows none.',
      severity: 'error',
      from: { path: '^src/relay/port/' },
      to: { path: '^src/relay/(links/|routes/|dials/|[^/]+\\.ts$)' },
    },
    {
      name: 'relay-links-know-no-rooms-above',
      comment: 'relay/links (two sockets spliced, their table, the offload worker) know nothing of listeners or dialers.',
      severity: 'error',
      from: { path: '^src/relay/links/' },
      to: { path: '^src/relay/(routes/|dials/|[^/]+\\.ts$)' },
    },
    {
      name: 'relay-link-names-the-host-it-needs',
      comment: 'Link takes the offload through the narrow SpliceHost it declares; only the offload knows the worker.',
      severity: 'error',
      from: { path: '^src/relay/links/[^/]+\\.ts$' },
      to: { path: '^src/relay/links/offload/' },
    },
    {
      name: 'relay-routes-know-no-dialers',
      comment: 'relay/routes (listeners on paths) hand what a listener leaving means for dials to the DialsOfListener port they declare.',
      severity: 'error',
      from: { path: '^src/relay/routes/' },
      to: { path: '^src/relay/(dials/|[^/]+\\.ts$)' },
    },
    {
      name: 'relay-dials-below-the-face',
      comment: 'relay/dials (dialers, offers, spares, the link broker) take the key check as the KeyCheck port they declare, not the face.',
      severity: 'error',
      from: { path: '^src/relay/dials/' },
      to: { path: '^src/relay/[^/]+\\.ts$' },
    },
    {
      name: 'no-cycles',
      severity: 'error',
      from: { path: '^(src|sdk/src)/' },
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)gen/|node_modules|^dist|^sdk/dist' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    // @remoted/sdk/* resolves to the SDK's sources, as in jest.config.js.
    enhancedResolveOptions: { exportsFields: [], conditionNames: ['require', 'default'] },
  },
};
