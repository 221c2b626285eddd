/**
 * The one peer known to lose bytes after its 101: the original's PHP SDK
 * (WebRoute::Connect) reads its 101 and drops whatever came in the same
 * read. It is recognised by what its requests carry: `Pragma: no-cache` and
 * `Connection: keep-alive, Upgrade`, which WebRoute::Connect always sends and
 * our SDK never does. Only such a peer has its first bytes held back
 * (docs/protocol.md, "Early bytes"); every other peer is relayed to at once.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { LegacyPeerQuirk } from '../../config/config';

function headerText(value: string | string[] | undefined): string {
  return (Array.isArray(value) ? value.join(',') : (value ?? '')).toLowerCase();
}

/** Whether the request looks like the original PHP SDK's WebRoute::Connect. */
export function looksLikeOriginalPhpSdk(headers: IncomingHttpHeaders): boolean {
  if (headerText(headers.pragma).trim() !== 'no-cache') return false;
  const tokens = headerText(headers.connection).split(',').map((token) => token.trim());
  return tokens.includes('keep-alive') && tokens.includes('upgrade');
}

/**
 * Whether bytes for this peer wait after its 101. A peer that declared
 * `early-data` keeps them, whatever the setting says.
 */
export function holdsBytesAfter101(quirk: LegacyPeerQuirk, declaresEarlyData: boolean, headers: IncomingHttpHeaders): boolean {
  if (declaresEarlyData || quirk === 'never') return false;
  return quirk === 'always' || looksLikeOriginalPhpSdk(headers);
}
