/**
 * The one URL policy of faxline: which schemes each operation takes and which addresses a
 * socket may connect to. The address check runs on the address actually connected (see
 * client.ts), never on the host name as written.
 */
import { BlockList, isIP } from 'node:net';
import { NetError } from './errors';

/** Schemes a document may be fetched from (`file:` only with `allowFiles`; see {@link checkFileAllowed}). */
export const FETCH_SCHEMES: readonly string[] = Object.freeze(['https:', 'http:', 'file:', 'data:']);

/** Schemes that reach the network: the only ones a redirect may lead to or a status callback may use. */
export const HTTP_SCHEMES: readonly string[] = Object.freeze(['https:', 'http:']);

/**
 * Why an address is not public. All of these are refused unless the caller opts in with
 * `allowPrivate`: `shared` is carrier-grade NAT (100.64/10), `reserved` covers ranges no
 * public server lives in (240/4 and broadcast, 192.0.0/24, 198.18/15, IPv6 site-local).
 */
export type AddressCategory =
  'unspecified' | 'loopback' | 'private' | 'link-local' | 'shared' | 'multicast' | 'reserved';

const RANGES: readonly [AddressCategory, string, number, 'ipv4' | 'ipv6'][] = [
  ['unspecified', '0.0.0.0', 8, 'ipv4'],
  ['unspecified', '::', 128, 'ipv6'],
  ['loopback', '127.0.0.0', 8, 'ipv4'],
  ['loopback', '::1', 128, 'ipv6'],
  ['private', '10.0.0.0', 8, 'ipv4'],
  ['private', '172.16.0.0', 12, 'ipv4'],
  ['private', '192.168.0.0', 16, 'ipv4'],
  ['private', 'fc00::', 7, 'ipv6'],
  ['link-local', '169.254.0.0', 16, 'ipv4'],
  ['link-local', 'fe80::', 10, 'ipv6'],
  ['shared', '100.64.0.0', 10, 'ipv4'],
  ['multicast', '224.0.0.0', 4, 'ipv4'],
  ['multicast', 'ff00::', 8, 'ipv6'],
  ['reserved', '240.0.0.0', 4, 'ipv4'],
  ['reserved', '192.0.0.0', 24, 'ipv4'],
  ['reserved', '198.18.0.0', 15, 'ipv4'],
  ['reserved', 'fec0::', 10, 'ipv6'],
];

// One BlockList per category so a refusal can say why. BlockList also matches the
// IPv4-mapped form (::ffff:a.b.c.d) of an IPv4 rule.
const LISTS: ReadonlyMap<AddressCategory, BlockList> = (() => {
  const lists = new Map<AddressCategory, BlockList>();
  for (const [category, network, prefix, family] of RANGES) {
    let list = lists.get(category);
    if (!list) lists.set(category, (list = new BlockList()));
    list.addSubnet(network, prefix, family);
  }
  return lists;
})();

/**
 * Why `address` (an IPv4 or IPv6 literal, brackets and zone id allowed) is not public, or
 * `undefined` when it is public. IPv6 forms that carry an IPv4 address (mapped `::ffff:0:0/96`,
 * compatible `::/96`, NAT64 `64:ff9b::/96`) are judged by that IPv4 address. A string that is
 * not an IP address counts as `reserved`, so the check fails closed.
 */
export function classifyAddress(address: string): AddressCategory | undefined {
  let ip = address.startsWith('[') && address.endsWith(']') ? address.slice(1, -1) : address;
  const zone = ip.indexOf('%');
  if (zone >= 0) ip = ip.slice(0, zone);
  const family = isIP(ip);
  if (family === 0) return 'reserved';
  if (family === 6) {
    const embedded = embeddedIpv4(ipv6Words(ip));
    if (embedded !== undefined) return classifyAddress(embedded);
  }
  const type = family === 4 ? 'ipv4' : 'ipv6';
  for (const [category, list] of LISTS) {
    if (list.check(ip, type)) return category;
  }
  return undefined;
}

/** The eight 16-bit words of a valid IPv6 literal (without zone). */
function ipv6Words(ip: string): number[] {
  const lastColon = ip.lastIndexOf(':');
  const tail = ip.slice(lastColon + 1);
  if (tail.includes('.')) {
    const [a, b, c, d] = tail.split('.').map(Number);
    ip = `${ip.slice(0, lastColon + 1)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, rest] = ip.split('::');
  const left = head ? head.split(':') : [];
  const right = rest ? rest.split(':') : [];
  const zeros = rest === undefined ? [] : Array<string>(8 - left.length - right.length).fill('0');
  return [...left, ...zeros, ...right].map((word) => parseInt(word, 16));
}

/** The IPv4 address an IPv6 address carries in its last 32 bits, if it is one of the embedding forms. */
function embeddedIpv4(words: number[]): string | undefined {
  const zeroUpTo = (n: number): boolean => words.slice(0, n).every((w) => w === 0);
  const mapped = zeroUpTo(5) && words[5] === 0xffff;
  // ::/96 minus :: and ::1, which have their own categories.
  const compatible = zeroUpTo(6) && !(words[6] === 0 && words[7] <= 1);
  const nat64 = words[0] === 0x64 && words[1] === 0xff9b && words.slice(2, 6).every((w) => w === 0);
  if (!mapped && !compatible && !nat64) return undefined;
  return [words[6] >> 8, words[6] & 0xff, words[7] >> 8, words[7] & 0xff].join('.');
}

/**
 * Parse `input` and check its scheme against `schemes`. Throws NetError `url` for a string
 * that is not an absolute URL and `scheme` for a scheme not in the list.
 */
export function parseUrl(input: string, schemes: readonly string[]): URL {
  let url: URL;
  try {
    url = new URL(input);
  } catch (error) {
    throw new NetError('url', `invalid URL ${JSON.stringify(describeUrl(input))} (not an absolute URL)`, {
      cause: error,
    });
  }
  if (!schemes.includes(url.protocol)) {
    throw new NetError(
      'scheme',
      `unsupported scheme ${url.protocol} in ${describeUrl(url)} (allowed: ${schemes.join(', ')})`,
    );
  }
  return url;
}

/**
 * Refuse a `file:` URL unless `allowFiles` is set: throws NetError `scheme`. Any other URL
 * passes. The one check for both fetchBytes and a preparer that reads a local file itself,
 * made before the file is opened (whether it exists is the host's business too).
 */
export function checkFileAllowed(url: URL, options: { allowFiles?: boolean }): void {
  // Only a real true opens the door: the check fails closed on anything else.
  if (url.protocol === 'file:' && options.allowFiles !== true) {
    throw new NetError('scheme', `file: URLs are refused: ${describeUrl(url)} (a local file; allowFiles to permit)`);
  }
}

const MAX_URL_IN_MESSAGE = 200;

/** A URL as it may appear in messages and logs: password hidden, long ones (data:) shortened. */
export function describeUrl(url: string | URL): string {
  let text = String(url);
  if (typeof url !== 'string' && url.password) {
    const copy = new URL(url.href);
    copy.password = '***';
    text = copy.href;
  }
  return text.length > MAX_URL_IN_MESSAGE ? `${text.slice(0, MAX_URL_IN_MESSAGE)}…` : text;
}
