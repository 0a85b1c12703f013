/**
 * The SDP of a fax call (RFC 4566 text, RFC 3264 offer/answer), written and read with
 * sdp-transform: G.711 audio (PCMU/0, PCMA/8, telephone-event offered and ignored, 20 ms) and
 * T.38 over UDPTL (`m=image PORT udptl t38`, its attributes from lib/transports/t38/sdp.ts).
 *
 * The rules, in one place:
 * - The stream we use from a far end's SDP: under 't38-ok', the first `m=image … udptl t38` with a
 *   port ≠ 0 and an IPv4 address wins over any audio (a peer offering both asks to fax over T.38;
 *   Asterisk and Cisco gateways send audio and image together in the switch-over re-INVITE); else
 *   the first `m=audio … RTP/AVP` with a port ≠ 0 listing PT 0 or 8. Under 'audio-only' images are
 *   never taken.
 * - The codec of an audio stream: the first of its formats that is PCMU (0) or PCMA (8). Dynamic
 *   payload types naming G.711 are not taken: our RTP line sends the static ones.
 * - An answer has the offer's m-lines in the offer's order (RFC 3264 §6): the one we take answered,
 *   every other one with port 0 and the offer's first format.
 * - A session refresh (RFC 3264 §8): the same o= line (session id and version) and, beyond what
 *   §8 requires, the same media. Peers exist that change the media without raising the version;
 *   taking their change for a refresh would keep a stream they have left.
 */
import { randomInt } from 'node:crypto';
import { isIP, isIPv4 } from 'node:net';
import * as sdpTransform from 'sdp-transform';
import { checkArray, checkInteger, checkNonEmptyString, checkObject, checkOneOf, invalidOption } from '../base/checks';
import type { G711Law } from '../transports/g711';
import { G711_PAYLOAD_TYPE } from '../transports/g711';
import {
  answerT38,
  DEFAULT_T38_PARAMS,
  parseT38Attributes,
  t38AttributeLines,
  type T38Params,
} from '../transports/t38/sdp';
import { SipSdpError } from './errors';

export type { T38Params } from '../transports/t38/sdp';

/** Our side of an SDP. */
export interface LocalMedia {
  /** The address the far end sends media to (the public one behind NAT), for `c=` and `o=`. */
  address: string;
  /** Our RTP port, for audio offers and answers. */
  audioPort?: number;
  /** Our UDPTL port, for T.38 offers and answers. */
  imagePort?: number;
  /** o= sess-id: decimal digits, fixed for the call. */
  sessionId: string;
  /** o= sess-version: raised for each new offer or answer of ours (nextVersion). */
  version: number;
  /** Our T.38 capabilities; DEFAULT_T38_PARAMS when absent. */
  t38?: T38Params;
}

/** What a far end's SDP asks for: the one stream we take (see the rules above). */
export interface RemoteMedia {
  kind: 'audio' | 'image';
  /** Where to send: the stream's c= address, else the session's. */
  address: string;
  port: number;
  /** The audio codec (kind 'audio'). */
  codec?: G711Law;
  /** The far end's T.38 capabilities (kind 'image'). */
  t38?: T38Params;
  /** a=ptime of the audio stream, ms, when stated. */
  ptime?: number;
  /** The SDP text, as given (answerFor reads its m-lines again). */
  sdp: string;
  /** o= sess-id and sess-version, as written (digits may exceed 2^53). */
  origin: { sessionId: string; version: string };
}

/** Which streams we may take: T.38 when offered, or only G.711 audio. */
export type FaxSdpPolicy = 't38-ok' | 'audio-only';

/** The longest SDP read, in characters: a SIP message's own bound over UDP. */
export const MAX_SDP_CHARS = 65535;
/** The most m-lines read: a fax call has one or two. */
export const MAX_MEDIA_LINES = 16;

/** telephone-event's payload type in our offers (the common choice; any dynamic one would do). */
const TELEPHONE_EVENT_PT = 101;
/** The DTMF events we offer (RFC 4733 §3.2: 0-9 * # A-D and flash), received and ignored. */
const TELEPHONE_EVENTS = '0-16';
/** Packet time we send and ask for, ms. */
const PTIME = 20;

const ENCODING: Record<G711Law, string> = { pcmu: 'PCMU', pcma: 'PCMA' };
const LAW_OF_PT = new Map<number, G711Law>([
  [G711_PAYLOAD_TYPE.pcmu, 'pcmu'],
  [G711_PAYLOAD_TYPE.pcma, 'pcma'],
]);

type Session = sdpTransform.SessionDescription;
type Media = Session['media'][number];

function checkLocal(local: LocalMedia): void {
  checkObject(local, 'local');
  checkNonEmptyString(local.address, 'local.address');
  if (isIP(local.address) === 0) throw invalidOption('an IP address', 'local.address', JSON.stringify(local.address));
  if (typeof local.sessionId !== 'string' || !/^\d{1,20}$/.test(local.sessionId))
    throw invalidOption('1 to 20 decimal digits', 'local.sessionId', JSON.stringify(local.sessionId));
  checkInteger(local.version, 'local.version', 0);
}

function port(local: LocalMedia, key: 'audioPort' | 'imagePort'): number {
  return checkInteger(local[key], `local.${key}`, 1, 65535);
}

/** The session part every SDP of ours starts with. */
function session(local: LocalMedia, media: Media[]): Session {
  const ipVer = isIPv4(local.address) ? 4 : 6;
  return {
    version: 0,
    origin: {
      username: 'faxline',
      sessionId: local.sessionId,
      sessionVersion: local.version,
      netType: 'IN',
      ipVer,
      address: local.address,
    },
    name: 'faxline',
    connection: { version: ipVer, ip: local.address },
    timing: { start: 0, stop: 0 },
    media,
  };
}

/** An `m=image` section: the T.38 attributes go through `invalid`, sdp-transform's verbatim lines. */
function imageMedia(portNumber: number, params: T38Params): Media {
  return {
    type: 'image',
    port: portNumber,
    protocol: 'udptl',
    payloads: 't38',
    rtp: [],
    fmtp: [],
    invalid: t38AttributeLines(params).map((line) => ({ value: line.slice(2) })),
  };
}

/**
 * An SDP offer of G.711 audio: the codecs in order of preference (PCMU then PCMA by default),
 * telephone-event/101 with events 0-16 (offered because many gateways expect it; we ignore what
 * arrives), a=ptime:20, a=sendrecv. The caller raises `local.version` for each new offer.
 */
export function audioOffer(local: LocalMedia, codecs: G711Law[] = ['pcmu', 'pcma']): string {
  checkLocal(local);
  checkArray(codecs, 'codecs');
  if (codecs.length === 0) throw invalidOption('at least one codec', 'codecs', 'an empty array');
  codecs.forEach((codec, i) => checkOneOf(codec, `codecs[${i}]`, ['pcmu', 'pcma'] as const));
  const unique = [...new Set(codecs)];
  const pts = unique.map((codec) => G711_PAYLOAD_TYPE[codec]);
  const media: Media = {
    type: 'audio',
    port: port(local, 'audioPort'),
    protocol: 'RTP/AVP',
    payloads: [...pts, TELEPHONE_EVENT_PT].join(' '),
    rtp: [
      ...unique.map((codec) => ({ payload: G711_PAYLOAD_TYPE[codec], codec: ENCODING[codec], rate: 8000 })),
      { payload: TELEPHONE_EVENT_PT, codec: 'telephone-event', rate: 8000 },
    ],
    fmtp: [{ payload: TELEPHONE_EVENT_PT, config: TELEPHONE_EVENTS }],
    ptime: PTIME,
    direction: 'sendrecv',
  };
  return sdpTransform.write(session(local, [media]));
}

/**
 * An SDP offer of T.38 alone: `m=image PORT udptl t38` and the Annex D attributes of `params`
 * (local.t38, else DEFAULT_T38_PARAMS). Sent in the re-INVITE that switches a call to T.38, or
 * as the first offer of a route set to T.38 only.
 */
export function t38Offer(local: LocalMedia, params?: T38Params): string {
  checkLocal(local);
  return sdpTransform.write(
    session(local, [imageMedia(port(local, 'imagePort'), params ?? local.t38 ?? DEFAULT_T38_PARAMS)]),
  );
}

/** One m-line as written: sdp-transform rejects `PORT/COUNT` and turns a lone format into a number. */
interface MLine {
  type: string;
  port: number | null;
  protocol: string;
  formats: string[];
}

function readMLine(line: string): MLine {
  const fields = line.slice(2).trim().split(/\s+/);
  // "PORT/COUNT" (RFC 4566 §5.14): the first port is the stream's.
  const portText = (fields[1] ?? '').split('/')[0];
  const portNumber = /^\d{1,5}$/.test(portText) && Number(portText) <= 65535 ? Number(portText) : null;
  return {
    type: (fields[0] ?? '').toLowerCase(),
    port: portNumber,
    protocol: fields[2] ?? '',
    formats: fields.slice(3),
  };
}

/** An SDP read: the parse, its m-lines side by side with `parsed.media`, and the stream chosen. */
interface ReadSdp {
  parsed: Session;
  lines: MLine[];
  /** The index of the stream we take. */
  chosen: number;
  remote: RemoteMedia;
}

function fail(reason: ConstructorParameters<typeof SipSdpError>[0], message: string): never {
  throw new SipSdpError(reason, message);
}

/** Reads and chooses, or throws SipSdpError. */
function readSdp(sdp: string, policy: FaxSdpPolicy): ReadSdp {
  if (typeof sdp !== 'string') fail('malformed', `Expected SDP text but got ${typeof sdp}`);
  if (sdp.length > MAX_SDP_CHARS) fail('too-large', `SDP longer than MAX_SDP_CHARS (${MAX_SDP_CHARS})`);
  // The same line split and m= test sdp-transform makes, so lines[i] is parsed.media[i].
  const mLines = sdp
    .split(/\r\n|\r|\n/)
    .filter((line) => /^m=/.test(line))
    .map(readMLine);
  if (mLines.length > MAX_MEDIA_LINES)
    fail('too-many-media', `SDP with ${mLines.length} m-lines, more than MAX_MEDIA_LINES (${MAX_MEDIA_LINES})`);
  const parsed = sdpTransform.parse(sdp);
  if (parsed.version !== 0 || parsed.origin === undefined || typeof parsed.origin.address !== 'string')
    fail('malformed', 'SDP without v=0 and a readable o= line');
  if (parsed.media.length !== mLines.length) fail('malformed', 'SDP m-lines could not be read');

  let audioWithoutCodec = false;
  let audio: { index: number; codec: G711Law } | null = null;
  let image: number | null = null;
  for (const [i, m] of mLines.entries()) {
    if (m.port === null || m.port === 0) continue;
    const address = (parsed.media[i].connection ?? parsed.connection)?.ip;
    if (address === undefined) continue;
    if (
      m.type === 'image' &&
      m.protocol.toLowerCase() === 'udptl' &&
      m.formats.some((f) => f.toLowerCase() === 't38')
    ) {
      // The UDPTL line is IPv4 only.
      if (image === null && isIPv4(address)) image = i;
    } else if (m.type === 'audio' && m.protocol.toUpperCase() === 'RTP/AVP') {
      const pt = m.formats.find((f) => f === '0' || f === '8');
      if (pt === undefined) audioWithoutCodec = true;
      else if (audio === null) audio = { index: i, codec: LAW_OF_PT.get(Number(pt)) as G711Law };
    }
  }
  const origin = {
    sessionId: String(parsed.origin.sessionId),
    version: String(parsed.origin.sessionVersion),
  };
  const chosenImage = policy === 't38-ok' ? image : null;
  const chosenAudio = audio;
  if (chosenImage !== null) {
    const media = parsed.media[chosenImage];
    const attributes = (media.invalid ?? []).map((entry) => entry.value);
    return {
      parsed,
      lines: mLines,
      chosen: chosenImage,
      remote: {
        kind: 'image',
        address: (media.connection ?? parsed.connection)?.ip as string,
        port: mLines[chosenImage].port as number,
        t38: parseT38Attributes(attributes),
        sdp,
        origin,
      },
    };
  }
  if (chosenAudio !== null) {
    const media = parsed.media[chosenAudio.index];
    const remote: RemoteMedia = {
      kind: 'audio',
      address: (media.connection ?? parsed.connection)?.ip as string,
      port: mLines[chosenAudio.index].port as number,
      codec: chosenAudio.codec,
      sdp,
      origin,
    };
    if (typeof media.ptime === 'number' && Number.isInteger(media.ptime) && media.ptime > 0) remote.ptime = media.ptime;
    return { parsed, lines: mLines, chosen: chosenAudio.index, remote };
  }
  if (audioWithoutCodec) fail('no-common-codec', 'SDP audio offers neither PCMU (0) nor PCMA (8)');
  fail(
    'no-usable-media',
    policy === 't38-ok'
      ? 'SDP has no G.711 audio or T.38 image stream with a port and an address'
      : 'SDP has no G.711 audio stream with a port and an address (T.38 not allowed)',
  );
}

/**
 * Reads a far end's SDP (an offer, or the answer to ours): the stream we take under `policy` (see
 * the rules in this file's header), its address, port and codec or T.38 parameters, and the o=
 * line. Throws SipSdpError: 'malformed' (no v=0/o=), 'too-large' (MAX_SDP_CHARS), 'too-many-media'
 * (MAX_MEDIA_LINES), 'no-common-codec' (audio without PCMU/PCMA and nothing else to take),
 * 'no-usable-media'.
 */
export function parseRemote(sdp: string, policy: FaxSdpPolicy = 't38-ok'): RemoteMedia {
  checkOneOf(policy, 'policy', ['t38-ok', 'audio-only'] as const);
  return readSdp(sdp, policy).remote;
}

/** RFC 3264 §6.1: the answer's direction mirrors the offer's. */
function answerDirection(offered: Media['direction']): NonNullable<Media['direction']> {
  if (offered === 'sendonly') return 'recvonly';
  if (offered === 'recvonly') return 'sendonly';
  if (offered === 'inactive') return 'inactive';
  return 'sendrecv';
}

/**
 * Our answer to the far end's offer, or null when nothing in it is acceptable under `policy` (the
 * caller answers 488). The m-lines of the offer in its order and number: the stream parseRemote
 * takes under `policy` answered (audio: its codec, telephone-event echoed with the offer's payload
 * type and events when offered, ptime 20, the mirrored direction; image: local.imagePort and
 * answerT38 of the offer and local.t38), every other line port 0. The caller raises
 * `local.version` first when this answer is new (nextVersion). Throws InvalidOptionError when
 * `local` lacks the port of the stream taken.
 */
export function answerFor(remote: RemoteMedia, local: LocalMedia, policy: FaxSdpPolicy): string | null {
  checkObject(remote, 'remote');
  checkLocal(local);
  checkOneOf(policy, 'policy', ['t38-ok', 'audio-only'] as const);
  let read: ReadSdp;
  try {
    read = readSdp(remote.sdp, policy);
  } catch (error) {
    if (error instanceof SipSdpError) return null;
    throw error;
  }
  const media = read.lines.map((m, i): Media => {
    if (i !== read.chosen) {
      return { type: m.type, port: 0, protocol: m.protocol, payloads: m.formats[0] ?? '0', rtp: [], fmtp: [] };
    }
    const offered = read.parsed.media[i];
    if (read.remote.kind === 'image') {
      return imageMedia(
        port(local, 'imagePort'),
        answerT38(read.remote.t38 as T38Params, local.t38 ?? DEFAULT_T38_PARAMS),
      );
    }
    const codec = read.remote.codec as G711Law;
    const pt = G711_PAYLOAD_TYPE[codec];
    const answer: Media = {
      type: 'audio',
      port: port(local, 'audioPort'),
      protocol: 'RTP/AVP',
      payloads: String(pt),
      rtp: [{ payload: pt, codec: ENCODING[codec], rate: 8000 }],
      fmtp: [],
      ptime: PTIME,
      direction: answerDirection(offered.direction),
    };
    const event = offered.rtp.find(
      (r) => r.codec.toLowerCase() === 'telephone-event' && r.rate === 8000 && m.formats.includes(String(r.payload)),
    );
    if (event) {
      answer.payloads = `${pt} ${event.payload}`;
      answer.rtp.push({ payload: event.payload, codec: 'telephone-event', rate: 8000 });
      const events = offered.fmtp.find((f) => f.payload === event.payload);
      if (events) answer.fmtp.push({ payload: event.payload, config: events.config });
    }
    return answer;
  });
  return sdpTransform.write(session(local, media));
}

/** The o= line's fields and the lines after it, normalised (CRLF or LF, trailing blanks, empty lines). */
function comparable(sdp: string): { origin: string | null; rest: string[] } | null {
  if (typeof sdp !== 'string' || sdp.length > MAX_SDP_CHARS) return null;
  const lines = sdp
    .split(/\r\n|\r|\n/)
    .map((line) => line.trimEnd())
    .filter((line) => line !== '');
  const o = lines.find((line) => line.startsWith('o='));
  return {
    origin: o === undefined ? null : o.slice(2).trim().split(/\s+/).join(' '),
    rest: lines.filter((line) => line !== o),
  };
}

/**
 * Whether `b` repeats `a` (RFC 3264 §8: an offer with the o= version unchanged is the same
 * session, as sent in a session-timer refresh): the same o= line (username, sess-id, sess-version,
 * address) and the same other lines, ignoring only line ends and trailing blanks.
 */
export function sameSession(a: string, b: string): boolean {
  const x = comparable(a);
  const y = comparable(b);
  if (!x || !y || x.origin === null || x.origin !== y.origin) return false;
  return x.rest.length === y.rest.length && x.rest.every((line, i) => line === y.rest[i]);
}

/** A fresh o= sess-id (RFC 4566 §5.2: digits, unique to us; 47 random bits). */
export function newSessionId(): string {
  return String(randomInt(1, 2 ** 47));
}

/** `local` with the o= version raised by one, for a new offer or answer (RFC 3264 §8). */
export function nextVersion(local: LocalMedia): LocalMedia {
  checkLocal(local);
  return { ...local, version: local.version + 1 };
}
