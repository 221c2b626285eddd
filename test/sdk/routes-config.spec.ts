/**
 * The routes file of `remoted expose --config`: the positioned JSON parser
 * agrees with JSON.parse, and every mistake names file:line:column and the
 * field; the schema file lists the fields the parser takes.
 */
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { EXIT } from '@remoted/sdk/cli/exit-codes';
import { JsonSyntaxError, lineColumnAt, parsePositionedJson, plainValueOf } from '@remoted/sdk/cli/positioned-json';
import { parseRoutesConfig, ROUTE_FIELDS, type RouteDefaults, RoutesConfigError, readRoutesConfig, TOP_LEVEL_FIELDS } from '@remoted/sdk/cli/routes-config';

const DEFAULTS: RouteDefaults = { spares: 0, proxyProtocol: undefined, drainTimeoutSeconds: 30, maxRetryDelayMs: 30_000 };

function errorOf(text: string, env: NodeJS.ProcessEnv = {}): RoutesConfigError {
  try {
    parseRoutesConfig(text, 'routes.json', DEFAULTS, env);
  } catch (err) {
    expect(err).toBeInstanceOf(RoutesConfigError);
    expect((err as RoutesConfigError).exitCode).toBe(EXIT.usage);
    return err as RoutesConfigError;
  }
  throw new Error(`no error for ${text}`);
}

describe('parsePositionedJson', () => {
  it('gives the value JSON.parse gives, whatever the layout', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.constantFrom(0, 1, 2, '\t'), (value, indent) => {
        const text = JSON.stringify(value, null, indent);
        expect(plainValueOf(parsePositionedJson(text))).toEqual(JSON.parse(text));
      }),
      { numRuns: 300 },
    );
  });

  it('refuses what JSON.parse refuses, at the offending spot', () => {
    const cases: Array<[string, number]> = [
      ['{"a": 1,}', 8],
      ['[1 2]', 3],
      ['{"a" 1}', 5],
      ['"open', 0],
      ['{"a": tru}', 6],
      ['01', 1],
      ['{}x', 2],
      ['"a\nb"', 2],
      ['', 0],
    ];
    for (const [text, offset] of cases) {
      expect(() => JSON.parse(text)).toThrow();
      let thrown: unknown;
      try {
        parsePositionedJson(text);
      } catch (err) {
        thrown = err;
      }
      expect(thrown).toBeInstanceOf(JsonSyntaxError);
      expect((thrown as JsonSyntaxError).offset).toBe(offset);
    }
  });

  it('refuses a duplicate field and counts lines and columns from 1', () => {
    expect(() => parsePositionedJson('{"a": 1, "a": 2}')).toThrow(/duplicate field "a"/);
    expect(lineColumnAt('ab\ncd\nef', 7)).toEqual({ line: 3, column: 2 });
    expect(lineColumnAt('ab', 0)).toEqual({ line: 1, column: 1 });
  });
});

describe('parseRoutesConfig', () => {
  it('resolves routes: top-level relay and key, per-route url, key and options, flag defaults for the rest', () => {
    const text = JSON.stringify({
      relay: 'rws://relay.example:9000',
      key: 'top key',
      routes: [
        { path: '/ssh', to: '127.0.0.1:22' },
        { path: '/web', to: '8080', key: 'webkey', proxyProtocol: 'v2', spares: 4, drainTimeout: 5, maxRetryDelay: 100 },
        { path: '/auto', to: '8081', spares: 'auto' },
        { url: 'rwss://KEY2@other.example/api?x=1', to: '[::1]:9000' },
      ],
    });
    const { routes } = parseRoutesConfig(text, 'routes.json', DEFAULTS);
    expect(routes).toEqual([
      { url: 'rws://top%20key@relay.example:9000/ssh', name: 'rws://relay.example:9000/ssh', to: { host: '127.0.0.1', port: 22 }, ...DEFAULTS },
      {
        url: 'rws://webkey@relay.example:9000/web',
        name: 'rws://relay.example:9000/web',
        to: { host: '127.0.0.1', port: 8080 },
        spares: 4,
        proxyProtocol: 'v2',
        drainTimeoutSeconds: 5,
        maxRetryDelayMs: 100,
      },
      { url: 'rws://top%20key@relay.example:9000/auto', name: 'rws://relay.example:9000/auto', to: { host: '127.0.0.1', port: 8081 }, ...DEFAULTS, spares: 'auto' },
      { url: 'rwss://KEY2@other.example/api?x=1', name: 'rwss://other.example:37791/api?x=1', to: { host: '::1', port: 9000 }, ...DEFAULTS },
    ]);
  });

  it('takes REMOTED_KEY for routes that name no key', () => {
    const { routes } = parseRoutesConfig('{"relay": "rws://r", "routes": [{"path": "/a", "to": "1"}]}', 'f', DEFAULTS, { REMOTED_KEY: 'envkey' });
    expect(routes[0]?.url).toBe('rws://envkey@r/a');
  });

  it('names file, line, column and field for each mistake', () => {
    const file = (route: string): string => `{\n  "relay": "rws://relay.example",\n  "key": "k",\n  "routes": [\n    ${route}\n  ]\n}\n`;
    const cases: Array<[string, string]> = [
      ['{ "path": "/a", "to": "nowhere" }', 'routes.json:5:27: routes[0].to: expected "host:port", got "nowhere"'],
      ['{ "path": "/a", "to": "1", "spars": 2 }', 'routes.json:5:32: routes[0].spars: unknown field'],
      ['{ "path": "/a", "to": "1", "spares": 1.5 }', 'routes.json:5:42: routes[0].spares: expected a whole number from 0 to 1024, got 1.5'],
      ['{ "path": "/a", "to": "1", "spares": "many" }', 'routes.json:5:42: routes[0].spares: expected "auto" or a whole number from 0 to 1024, got "many"'],
      ['{ "path": "/a", "to": "1", "drainTimeout": "60" }', 'routes.json:5:48: routes[0].drainTimeout: expected a whole number'],
      ['{ "path": "/a", "to": "1", "proxyProtocol": "v3" }', 'routes.json:5:49: routes[0].proxyProtocol: expected one of "v1", "v2", got "v3"'],
      ['{ "path": "a", "to": "1" }', 'routes.json:5:15: routes[0].path: expected a path starting with "/"'],
      ['{ "to": "1" }', 'routes.json:5:5: routes[0]: no "path" (or "url")'],
      ['{ "path": "/a" }', 'routes.json:5:5: routes[0]: no "to"'],
      ['{ "url": "http://x/a", "to": "1" }', 'routes.json:5:14: routes[0].url: expected an rws:// or rwss:// url, got http://'],
      ['{ "url": "rws://K@x/a", "path": "/a", "to": "1" }', 'routes.json:5:29: routes[0]: give either "url", or "path"'],
      ['{ "url": "rws://K@x/a", "key": "k2", "to": "1" }', 'routes.json:5:36: routes[0].key: the key is given twice'],
      ['{ "path": "/a", "to": "1" }, { "path": "/a", "to": "2" }', 'routes.json:5:34: routes[1]: the same route as routes[0] (rws://relay.example:37791/a)'],
      ['{ "path": "/a", "to": "1", }', 'routes.json:5:32: not valid JSON: expected a field name in double quotes, got "}"'],
      ['"/a"', 'routes.json:5:5: routes[0]: expected an object, got a string'],
    ];
    for (const [route, message] of cases) {
      expect(errorOf(file(route)).message).toContain(message);
    }
    expect(errorOf('{"routes": []}').message).toBe('routes.json:1:12: routes: expected at least one route');
    expect(errorOf('[]').message).toBe('routes.json:1:1: expected an object, got an array');
    expect(errorOf('{"relay": "rws://K@r", "routes": [{"path": "/a", "to": "1"}]}').message).toContain('routes.json:1:11: relay: give the key as "key" or "keyFile", not in the relay URL');
    expect(errorOf('{"routes": [{"path": "/a", "to": "1"}]}').message).toContain('routes.json:1:14: routes[0]: no relay for this path');
    expect(errorOf('{"relay": "rws://r", "routes": [{"path": "/a", "to": "1"}]}').message).toContain('routes.json:1:33: routes[0]: no key');
  });

  describe('keyFile', () => {
    let dir: string;
    beforeEach(() => {
      dir = mkdtempSync(join(tmpdir(), 'remoted-routes-'));
    });
    afterEach(() => rmSync(dir, { recursive: true, force: true }));

    it('reads the key from a file beside the routes file, and refuses one others may read', () => {
      writeFileSync(join(dir, 'server.key'), 'filekey\n', { mode: 0o600 });
      const routesFile = join(dir, 'routes.json');
      writeFileSync(routesFile, '{"relay": "rws://r:1", "keyFile": "server.key",\n "routes": [{"path": "/a", "to": "1"}]}');
      expect(readRoutesConfig(routesFile, DEFAULTS).routes[0]?.url).toBe('rws://filekey@r:1/a');

      expect(readRoutesConfig(routesFile, DEFAULTS)).toMatchObject({ holdsKeys: false, warnings: [] });

      chmodSync(join(dir, 'server.key'), 0o644);
      expect(() => readRoutesConfig(routesFile, DEFAULTS)).toThrow(/routes\.json:1:35: keyFile: .*server\.key is open to group or others \(mode 0644\): run chmod 600 /);
      writeFileSync(routesFile, '{"relay": "rws://r:1", "keyFile": "missing.key", "routes": [{"path": "/a", "to": "1"}]}');
      expect(() => readRoutesConfig(routesFile, DEFAULTS)).toThrow(/routes\.json:1:35: keyFile: cannot read .*missing\.key: ENOENT/);
    });
  });

  it('warns of a file holding a key that others may read', () => {
    const dir = mkdtempSync(join(tmpdir(), 'remoted-routes-'));
    try {
      const routesFile = join(dir, 'routes.json');
      for (const routes of [[{ path: '/a', to: '1', key: 'k' }], [{ url: 'rws://k@r/a', to: '1' }]]) {
        writeFileSync(routesFile, JSON.stringify({ relay: 'rws://r', routes }, null, 1));
        chmodSync(routesFile, 0o644);
        expect(readRoutesConfig(routesFile, DEFAULTS)).toMatchObject({ holdsKeys: true, warnings: [expect.stringMatching(/holds a key and is open to other users \(mode 644\): chmod 600 it/)] });
        chmodSync(routesFile, 0o600);
        expect(readRoutesConfig(routesFile, DEFAULTS)).toMatchObject({ holdsKeys: true, warnings: [] });
      }
      writeFileSync(routesFile, JSON.stringify({ relay: 'rws://r', routes: [{ path: '/a', to: '1' }] }));
      chmodSync(routesFile, 0o644);
      expect(readRoutesConfig(routesFile, DEFAULTS, { REMOTED_KEY: 'k' })).toMatchObject({ holdsKeys: false, warnings: [] });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('routes.schema.json', () => {
  it('lists exactly the fields the parser takes', () => {
    const schema = JSON.parse(readFileSync(join(__dirname, '..', '..', 'sdk', 'schema', 'routes.schema.json'), 'utf8')) as {
      properties: Record<string, unknown>;
      $defs: { route: { properties: Record<string, unknown> } };
    };
    expect(Object.keys(schema.properties).sort()).toEqual([...TOP_LEVEL_FIELDS].sort());
    expect(Object.keys(schema.$defs.route.properties).sort()).toEqual([...ROUTE_FIELDS].sort());
  });
});
