/** Remoted URLs and dial strings (PROTOCOL.md, "URLs"). */
import { parseDialString, parseListenUrl, parseRemotedUrl, redactUrl, RemotedUrlError, urlCarriesKey } from '@remoted/sdk';

describe('parseRemotedUrl', () => {
  it('reads rws with the default port', () => {
    expect(parseRemotedUrl('rws://KEY@relay.example/db/primary')).toEqual({
      scheme: 'rws',
      key: 'KEY',
      host: 'relay.example',
      port: 37791,
      path: '/db/primary',
      secure: false,
      hostHeader: 'relay.example:37791',
    });
  });

  it('reads each scheme; the s ones are TLS', () => {
    expect(['rws', 'rwss', 'rwr', 'rwrs'].map((s) => parseRemotedUrl(`${s}://k@h:1/p`).secure)).toEqual([false, true, false, true]);
  });

  it('percent-decodes the key and keeps the query in the path', () => {
    const url = parseRemotedUrl('rwr://a%2Fb%40c@127.0.0.1:8080/x?y=1');
    expect(url.key).toBe('a/b@c');
    expect(url.port).toBe(8080);
    expect(url.path).toBe('/x?y=1');
  });

  it('handles IPv6 hosts', () => {
    const url = parseRemotedUrl('rwr://k@[::1]:9/p');
    expect(url.host).toBe('::1');
    expect(url.hostHeader).toBe('[::1]:9');
  });

  it('gives / for an empty path and is case-insensitive in the scheme', () => {
    expect(parseRemotedUrl('RWR://k@h').path).toBe('/');
  });

  it('refuses other schemes, a missing key, junk, and bad percent-encoding', () => {
    for (const bad of ['http://k@h/p', 'rwr://h/p', 'not a url', 'rwr://%E0%A4%A@h/p']) {
      expect(() => parseRemotedUrl(bad)).toThrow(RemotedUrlError);
    }
    expect(() => parseListenUrl('rwr://k@h/p')).toThrow(/rws:\/\//);
  });

  it('takes the key given apart for a URL without one; a key in the URL wins', () => {
    expect(parseRemotedUrl('rws://relay.example/p', undefined, { key: 'APART' }).key).toBe('APART');
    expect(parseRemotedUrl('rws://INLINE@relay.example/p', undefined, { key: 'APART' }).key).toBe('INLINE');
    expect(() => parseRemotedUrl('rws://relay.example/p', undefined, { key: '' })).toThrow(RemotedUrlError);
    expect(parseDialString('rwr://K1@a/x rwr://b/y', { key: 'APART' }).hops.map((h) => h.key)).toEqual(['K1', 'APART']);
    expect([urlCarriesKey('rws://K@h/p'), urlCarriesKey('rws://h/p'), urlCarriesKey('not a url')]).toEqual([true, false, false]);
  });

  it('never puts the key in an error message or a redacted URL', () => {
    expect(() => parseRemotedUrl('rwr://SECRET@')).toThrow(/\*\*\*/);
    expect(redactUrl(parseRemotedUrl('rwrs://SECRET@h/p'))).toBe('rwrs://h:37791/p');
  });
});

describe('parseDialString', () => {
  it('one URL', () => {
    const { hops, applicationUrl } = parseDialString('rwr://k@h/p');
    expect(hops.map((h) => h.path)).toEqual(['/p']);
    expect(applicationUrl).toBeUndefined();
  });

  it('chained hops separated by any white space, then the application URL', () => {
    const { hops, applicationUrl } = parseDialString(' rwr://a@one/x \n\t rwrs://b@two:443/y   https://localhost:1234/z rwr://c@three/ignored ');
    expect(hops.map((h) => [h.key, h.host, h.port, h.path, h.secure])).toEqual([
      ['a', 'one', 37791, '/x', false],
      ['b', 'two', 443, '/y', true],
    ]);
    expect(applicationUrl).toBe('https://localhost:1234/z');
  });

  it('must start with rwr(s) and not be empty', () => {
    expect(() => parseDialString('https://x rwr://k@h/p')).toThrow(RemotedUrlError);
    expect(() => parseDialString('  ')).toThrow(RemotedUrlError);
    expect(() => parseDialString('rws://k@h/p')).toThrow(RemotedUrlError);
  });
});
