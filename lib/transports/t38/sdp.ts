/**
 * The SDP a host needs for T.38 over UDPTL (ITU-T T.38 Annex D; the `image/t38` media type of
 * RFC 3362, its parameters as RFC 4612 lists them): our capabilities as an object and as `a=`
 * lines for an offer or an answer, reading the far end's, and what the negotiation means for our
 * UDPTL sender. faxline does not own SIP or SDP: the host builds the message and hands us what it
 * learnt. Lines are returned with their `a=`/`m=` prefix and without line ends, as rtp/sdp.ts does.
 */
import { isIPv4 } from 'node:net';
import { InvalidOptionError } from '../../base/errors';
import { T38_DEFAULTS, type T38ErrorCorrection, type T38RateManagement } from '../../engine/options';
import { native } from '../../native';

export type { T38ErrorCorrection, T38RateManagement } from '../../engine/options';

/** The T.38 version (T38FaxVersion); 3 is the highest SpanDSP 0.0.6 knows. */
export type T38Version = 0 | 1 | 2 | 3;

/** The T.38 capabilities one side states in its SDP. */
export interface T38Params {
  /** T38FaxVersion, 0..3. */
  version: T38Version;
  /** T38MaxBitRate: the fastest image data rate, bit/s (14400 for V.17). */
  maxBitRate: number;
  /** T38FaxRateManagement. */
  rateManagement: T38RateManagement;
  /** T38FaxMaxBuffer: the octets our receive buffer holds; undefined = not stated. */
  maxBuffer?: number;
  /** T38FaxMaxDatagram: the largest UDPTL datagram we accept, octets; undefined = not stated. */
  maxDatagram?: number;
  /** T38FaxUdpEC. */
  errorCorrection: T38ErrorCorrection;
  /** T38FaxFillBitRemoval: fill bits of non-ECM data may be removed. */
  fillBitRemoval: boolean;
  /** T38FaxTranscodingMMR: can transcode the line's coding to and from MMR. */
  transcodingMMR: boolean;
  /** T38FaxTranscodingJBIG: can transcode to and from JBIG. */
  transcodingJBIG: boolean;
}

/**
 * What faxline offers. T38FaxMaxBuffer 2000 and T38FaxMaxDatagram 400 are the values common SIP
 * fax peers send (3GPP TS 29.163 recommends at least 1800 and at least 150); fill-bit removal and
 * MMR/JBIG transcoding are gateway features a terminal does not offer.
 */
export const DEFAULT_T38_PARAMS: Readonly<T38Params> = Object.freeze({
  version: 0,
  maxBitRate: T38_DEFAULTS.maxBitRate,
  rateManagement: T38_DEFAULTS.rateManagement,
  maxBuffer: T38_DEFAULTS.maxBuffer,
  maxDatagram: T38_DEFAULTS.maxDatagram,
  errorCorrection: T38_DEFAULTS.errorCorrection,
  fillBitRemoval: T38_DEFAULTS.fillBitRemoval,
  transcodingMMR: T38_DEFAULTS.transcodingMMR,
  transcodingJBIG: T38_DEFAULTS.transcodingJBIG,
});

/** The fastest T.38 image data rate (V.34, T.38 version 3). */
const MAX_BIT_RATE = 33600;
/** Largest T38FaxMaxBuffer/T38FaxMaxDatagram read or written: a UDP datagram's own bound. */
const MAX_OCTETS = 65535;
/** The number of lines read from an SDP at most: anything longer is not an SDP we take. */
const MAX_SDP_LINES = 10_000;

const EC_TOKEN: Record<Exclude<T38ErrorCorrection, 'none'>, string> = {
  redundancy: 't38UDPRedundancy',
  fec: 't38UDPFEC',
};
/** Error correction ordered by what it asks of the peer: an answer takes the lesser of two. */
const EC_RANK: Record<T38ErrorCorrection, number> = { none: 0, redundancy: 1, fec: 2 };

function isIntegerIn(value: unknown, min: number, max: number): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max;
}

function checkParams(params: T38Params, name: string): void {
  if (typeof params !== 'object' || params === null) throw new InvalidOptionError(`Expected an object for ${name}`);
  if (!isIntegerIn(params.version, 0, 3))
    throw new InvalidOptionError(`Expected an integer in [0, 3] for ${name}.version but got ${String(params.version)}`);
  if (!isIntegerIn(params.maxBitRate, 1, MAX_BIT_RATE))
    throw new InvalidOptionError(
      `Expected an integer in [1, ${MAX_BIT_RATE}] for ${name}.maxBitRate but got ${String(params.maxBitRate)}`,
    );
  if (params.rateManagement !== 'transferredTCF' && params.rateManagement !== 'localTCF')
    throw new InvalidOptionError(
      `Expected 'transferredTCF' or 'localTCF' for ${name}.rateManagement but got ${String(params.rateManagement)}`,
    );
  for (const key of ['maxBuffer', 'maxDatagram'] as const) {
    const value = params[key];
    if (value !== undefined && !isIntegerIn(value, 1, MAX_OCTETS))
      throw new InvalidOptionError(`Expected an integer in [1, ${MAX_OCTETS}] for ${name}.${key} but got ${value}`);
  }
  if (!(params.errorCorrection in EC_RANK))
    throw new InvalidOptionError(
      `Expected 'none', 'redundancy' or 'fec' for ${name}.errorCorrection but got ${String(params.errorCorrection)}`,
    );
  for (const key of ['fillBitRemoval', 'transcodingMMR', 'transcodingJBIG'] as const) {
    if (typeof params[key] !== 'boolean') throw new InvalidOptionError(`Expected a boolean for ${name}.${key}`);
  }
}

/**
 * The `a=` lines of our T.38 capabilities, in the order T.38 Annex D lists the attributes.
 * The three booleans are flags: the bare attribute when true, nothing when false (Annex D and
 * RFC 4612: "inclusion = true, exclusion = false"; a `:0` some peers send would read as true to
 * a peer that only looks for the name). Error correction 'none' is likewise the absence of
 * T38FaxUdpEC, which defines only t38UDPFEC and t38UDPRedundancy. MaxBuffer and MaxDatagram
 * appear when set.
 *
 * @example t38AttributeLines(DEFAULT_T38_PARAMS)[0] // 'a=T38FaxVersion:0'
 */
export function t38AttributeLines(params: T38Params): string[] {
  checkParams(params, 'params');
  const lines = [`a=T38FaxVersion:${params.version}`, `a=T38MaxBitRate:${params.maxBitRate}`];
  if (params.fillBitRemoval) lines.push('a=T38FaxFillBitRemoval');
  if (params.transcodingMMR) lines.push('a=T38FaxTranscodingMMR');
  if (params.transcodingJBIG) lines.push('a=T38FaxTranscodingJBIG');
  lines.push(`a=T38FaxRateManagement:${params.rateManagement}`);
  if (params.maxBuffer !== undefined) lines.push(`a=T38FaxMaxBuffer:${params.maxBuffer}`);
  if (params.maxDatagram !== undefined) lines.push(`a=T38FaxMaxDatagram:${params.maxDatagram}`);
  if (params.errorCorrection !== 'none') lines.push(`a=T38FaxUdpEC:${EC_TOKEN[params.errorCorrection]}`);
  return lines;
}

/**
 * The media section of an offer (or answer) for T.38 over UDPTL: `m=image PORT udptl t38`
 * (RFC 3362, T.38 Annex D) and the attribute lines. The host adds `c=` and whatever else its
 * SDP carries. Port 0 refuses the stream (RFC 3264 §6).
 */
export function t38MediaLines(port: number, params: T38Params): string[] {
  if (!isIntegerIn(port, 0, 65535))
    throw new InvalidOptionError(`Expected an integer in [0, 65535] for port but got ${String(port)}`);
  return [`m=image ${port} udptl t38`, ...t38AttributeLines(params)];
}

/** Splits SDP text (CRLF or LF) or takes given lines, trimmed, bounded. */
function toLines(input: string | readonly string[]): string[] {
  const raw = typeof input === 'string' ? input.split(/\r?\n/, MAX_SDP_LINES) : input.slice(0, MAX_SDP_LINES);
  return raw.filter((line): line is string => typeof line === 'string').map((line) => line.trim());
}

/** Whether an `m=` line is a T.38 over UDPTL stream: media `image`, proto `udptl`, format `t38`. */
function isT38MediaLine(line: string): boolean {
  const fields = line.slice(2).trim().split(/\s+/);
  return (
    fields.length >= 4 &&
    fields[0].toLowerCase() === 'image' &&
    fields[2].toLowerCase() === 'udptl' &&
    fields.slice(3).some((format) => format.toLowerCase() === 't38')
  );
}

interface ImageSection {
  /** The session-level lines (before the first m=). */
  session: string[];
  /** The m= line, or null for a fragment without one. */
  media: string | null;
  /** The section's lines after its m= line (the whole text for a fragment). */
  lines: string[];
}

/** The first T.38 media section, or the whole input when it has no `m=` line; null when none. */
function findImageSection(input: string | readonly string[]): ImageSection | null {
  const lines = toLines(input);
  const first = lines.findIndex((line) => line.startsWith('m='));
  if (first < 0) return { session: lines, media: null, lines };
  const session = lines.slice(0, first);
  for (let i = first; i < lines.length; i++) {
    if (!lines[i].startsWith('m=') || !isT38MediaLine(lines[i])) continue;
    let end = i + 1;
    while (end < lines.length && !lines[end].startsWith('m=')) end++;
    return { session, media: lines[i], lines: lines.slice(i + 1, end) };
  }
  return null;
}

/** Attribute names as they are read (lower case) → the parameter, with the field's other spellings. */
const ATTRIBUTE: Record<string, keyof T38Params> = {
  t38faxversion: 'version',
  t38maxbitrate: 'maxBitRate',
  t38faxmaxrate: 'maxBitRate',
  t38faxratemanagement: 'rateManagement',
  t38faxmaxbuffer: 'maxBuffer',
  t38faxmaxdatagram: 'maxDatagram',
  t38maxdatagram: 'maxDatagram',
  t38faxudpec: 'errorCorrection',
  t38faxfillbitremoval: 'fillBitRemoval',
  t38faxtranscodingmmr: 'transcodingMMR',
  t38faxtranscodingjbig: 'transcodingJBIG',
};

/** A decimal integer in [min, max], or null. */
function readInteger(value: string | null, min: number, max: number): number | null {
  if (value === null || !/^\d{1,9}$/.test(value)) return null;
  const n = Number(value);
  return n >= min && n <= max ? n : null;
}

/**
 * Reads the far end's T.38 capabilities. Takes SDP text, whose first `m=image … udptl t38`
 * section is read (a text without `m=` lines is read whole, as a fragment), or attribute lines
 * with or without `a=`. Lenient, as the field needs:
 * - names case-insensitively; `T38FaxMaxRate` for T38MaxBitRate and `T38MaxDatagram` for
 *   T38FaxMaxDatagram (spellings seen in the field);
 * - the booleans as a bare flag (true) or by value, `:1` true and `:0` false (some peers write
 *   `:0` and mean false; reading the name alone would turn it into true);
 * - unknown attributes ignored; the first of a repeated attribute wins;
 * - a value that cannot be read leaves the parameter as if absent, with a note in `notes`.
 * Absent: version 0 (RFC 4612), bit rate 14400, rate management transferredTCF (UDP's method),
 * error correction 'none' (T38FaxUdpEC states it), booleans false, buffer and datagram undefined.
 * A version above 3 reads as 3, the highest we speak (T.38 versions are backward compatible).
 */
export function parseT38Attributes(input: string | readonly string[], notes?: string[]): T38Params {
  const params: T38Params = {
    version: 0,
    maxBitRate: DEFAULT_T38_PARAMS.maxBitRate,
    rateManagement: 'transferredTCF',
    errorCorrection: 'none',
    fillBitRemoval: false,
    transcodingMMR: false,
    transcodingJBIG: false,
  };
  const note = (text: string): void => void notes?.push(text);
  const section = typeof input === 'string' || Array.isArray(input) ? findImageSection(input) : null;
  if (!section) return params;
  const seen = new Set<keyof T38Params>();
  for (const line of section.lines) {
    const m = /^(?:a=)?(T38[A-Za-z]+)[ \t]*(?::[ \t]*(.*))?$/i.exec(line);
    if (!m) continue;
    const key = ATTRIBUTE[m[1].toLowerCase()];
    if (key === undefined) continue;
    if (seen.has(key)) {
      note(`${m[1]} repeated: the first one is used`);
      continue;
    }
    seen.add(key);
    const value = m[2] === undefined ? null : m[2].trim();
    const bad = (): void => note(`${m[1]}:${value ?? ''} cannot be read; ignored`);
    switch (key) {
      case 'version': {
        const n = readInteger(value, 0, 255);
        if (n === null) bad();
        else params.version = Math.min(n, 3) as T38Version;
        break;
      }
      case 'maxBitRate': {
        const n = readInteger(value, 1, 1_000_000);
        if (n === null) bad();
        else params.maxBitRate = Math.min(n, MAX_BIT_RATE);
        break;
      }
      case 'maxBuffer':
      case 'maxDatagram': {
        const n = readInteger(value, 1, MAX_OCTETS);
        if (n === null) bad();
        else params[key] = n;
        break;
      }
      case 'rateManagement': {
        const token = value?.toLowerCase();
        if (token === 'transferredtcf') params.rateManagement = 'transferredTCF';
        else if (token === 'localtcf') params.rateManagement = 'localTCF';
        else bad();
        break;
      }
      case 'errorCorrection': {
        const token = value?.toLowerCase();
        if (token === 't38udpredundancy') params.errorCorrection = 'redundancy';
        else if (token === 't38udpfec') params.errorCorrection = 'fec';
        // Not in Annex D, but unambiguous where a peer writes it.
        else if (token === 't38udpnoec') params.errorCorrection = 'none';
        else bad();
        break;
      }
      default: {
        if (value === null || value === '1' || value.toLowerCase() === 'true') params[key] = true;
        else if (value === '0' || value.toLowerCase() === 'false') params[key] = false;
        // Claiming a capability needs a clear yes: an unreadable value is not one.
        else bad();
      }
    }
  }
  return params;
}

/** Where the far end wants T.38 and what it can take, from its SDP. */
export interface T38Media {
  /** The IPv4 address of the stream's `c=` line (media level, else session level). */
  host: string;
  /** The UDPTL port of the `m=image` line. */
  port: number;
  /** Its T.38 capabilities (parseT38Attributes over the section). */
  params: T38Params;
}

/**
 * Finds the first T.38 stream (`m=image PORT udptl t38`) of an SDP: its address, port and
 * parameters. Null when there is none, when its port is 0 (refused, RFC 3264 §6), or when its
 * connection address is not IPv4 (the UDPTL line is IPv4 only).
 */
export function parseT38Media(sdp: string, notes?: string[]): T38Media | null {
  if (typeof sdp !== 'string') return null;
  const section = findImageSection(sdp);
  if (!section || section.media === null) return null;
  const portField = section.media.slice(2).trim().split(/\s+/)[1];
  // "PORT/COUNT" (RFC 4566 §5.14) names consecutive ports; the first is the stream's.
  const port = readInteger(portField.split('/')[0], 0, 65535);
  if (port === null || port === 0) return null;
  const connection = (lines: string[]): string | null => {
    for (const line of lines) {
      const m = /^c=IN\s+IP4\s+([^\s/]+)/i.exec(line);
      if (m) return m[1];
      if (line.startsWith('c=')) return null;
    }
    return null;
  };
  const mediaHasC = section.lines.some((line) => line.startsWith('c='));
  const host = mediaHasC ? connection(section.lines) : connection(section.session);
  if (host === null || !isIPv4(host)) return null;
  return { host, port, params: parseT38Attributes(section.lines, notes) };
}

/**
 * Our answer to the far end's offer, given what we can do (`ours`): the lower version and bit
 * rate; the offer's rate management (T.38 Annex D: the answer states the method the offer
 * chose; SpanDSP does both); the lesser error correction, so an offer of FEC is answered with
 * FEC only when we offer FEC ourselves, else redundancy, and an offer of redundancy is never
 * answered with FEC; each boolean only when both sides have it. MaxBuffer and MaxDatagram are
 * not negotiated: each side states its own, so the answer carries ours.
 */
export function answerT38(offer: T38Params, ours: T38Params): T38Params {
  checkParams(offer, 'offer');
  checkParams(ours, 'ours');
  const answer: T38Params = {
    version: Math.min(offer.version, ours.version) as T38Version,
    maxBitRate: Math.min(offer.maxBitRate, ours.maxBitRate),
    rateManagement: offer.rateManagement,
    errorCorrection: lesserErrorCorrection(offer.errorCorrection, ours.errorCorrection),
    fillBitRemoval: offer.fillBitRemoval && ours.fillBitRemoval,
    transcodingMMR: offer.transcodingMMR && ours.transcodingMMR,
    transcodingJBIG: offer.transcodingJBIG && ours.transcodingJBIG,
  };
  if (ours.maxBuffer !== undefined) answer.maxBuffer = ours.maxBuffer;
  if (ours.maxDatagram !== undefined) answer.maxDatagram = ours.maxDatagram;
  return answer;
}

function lesserErrorCorrection(a: T38ErrorCorrection, b: T38ErrorCorrection): T38ErrorCorrection {
  return EC_RANK[a] <= EC_RANK[b] ? a : b;
}

/** What drives our UDPTL sender once the offer/answer is done. */
export interface NegotiatedUdptl {
  /** The error recovery both sides stated (the lesser of the two). */
  errorCorrection: T38ErrorCorrection;
  /** The far end's maximum datagram, octets, within the bounds our UDPTL sender takes. */
  maxDatagram: number;
}

/**
 * What our UDPTL sender uses, from our side's parameters and the far end's (offer or answer,
 * either way round): the lesser error correction (a conforming answer already is), and the far
 * end's T38FaxMaxDatagram, since it bounds what it receives; when it stated none, our default
 * (400). Clamped to the range our sender supports.
 */
export function negotiatedUdptl(local: T38Params, remote: T38Params): NegotiatedUdptl {
  checkParams(local, 'local');
  checkParams(remote, 'remote');
  const stated = remote.maxDatagram ?? (DEFAULT_T38_PARAMS.maxDatagram as number);
  const min = native.constants.UDPTL_MIN_MAX_DATAGRAM;
  const max = native.constants.UDPTL_MAX_DATAGRAM;
  return {
    errorCorrection: lesserErrorCorrection(local.errorCorrection, remote.errorCorrection),
    maxDatagram: Math.min(max, Math.max(min, stated)),
  };
}
