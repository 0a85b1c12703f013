/**
 * The SDP a host needs for our audio: the `a=rtpmap` lines of the G.711 codecs and, for RFC 2198
 * redundancy, the RED lines (RFC 2198 §5, RFC 4102: `a=rtpmap:<pt> red/8000` and
 * `a=fmtp:<pt> <primary>/<redundant>/…`); and reading whether the far end's answer took RED.
 * faxline does not own SIP or SDP: the host builds the offer and hands us what it learnt.
 */
import { InvalidOptionError } from '../../base/errors';
import { G711_PAYLOAD_TYPE, type G711Law } from '../g711';
import { MAX_REDUNDANCY_DEPTH } from './packet';

/** What the host offers: codecs in order of preference, and RED if wanted. */
export interface AudioOfferOptions {
  /** G.711 laws to offer, preferred first (at least one). */
  codecs: G711Law[];
  /** RFC 2198 redundancy of the first codec: a dynamic payload type (96–127) and a depth. */
  redundancy?: { payloadType: number; depth: number };
}

const ENCODING_NAME: Record<G711Law, string> = { pcmu: 'PCMU', pcma: 'PCMA' };

function checkOffer(options: AudioOfferOptions): void {
  if (!Array.isArray(options.codecs) || options.codecs.length === 0)
    throw new InvalidOptionError('Expected at least one codec for codecs');
  for (const codec of options.codecs) {
    if (codec !== 'pcmu' && codec !== 'pcma')
      throw new InvalidOptionError(`Expected 'pcmu' or 'pcma' for a codec but got ${String(codec)}`);
  }
  const red = options.redundancy;
  if (red) {
    if (!Number.isInteger(red.payloadType) || red.payloadType < 96 || red.payloadType > 127)
      throw new InvalidOptionError(
        `Expected a dynamic payload type (96-127) for redundancy.payloadType but got ${String(red.payloadType)}`,
      );
    if (!Number.isInteger(red.depth) || red.depth < 1 || red.depth > MAX_REDUNDANCY_DEPTH)
      throw new InvalidOptionError(
        `Expected an integer in [1, ${MAX_REDUNDANCY_DEPTH}] for redundancy.depth but got ${String(red.depth)}`,
      );
  }
}

/**
 * The payload types for the offer's `m=audio` line, in order: RED first when offered (RFC 2198
 * §5: the preferred format first), then the codecs.
 */
export function audioOfferPayloadTypes(options: AudioOfferOptions): number[] {
  checkOffer(options);
  const pts = options.codecs.map((codec) => G711_PAYLOAD_TYPE[codec]);
  return options.redundancy ? [options.redundancy.payloadType, ...pts] : pts;
}

/**
 * The attribute lines of the offer, without line ends: an `a=rtpmap` per codec (static payload
 * types, listed anyway for clarity), and for RED its `a=rtpmap` and an `a=fmtp` repeating the
 * first codec's payload type depth + 1 times (the primary and each redundant copy).
 */
export function audioOfferLines(options: AudioOfferOptions): string[] {
  checkOffer(options);
  const lines: string[] = [];
  const red = options.redundancy;
  if (red) {
    const primary = G711_PAYLOAD_TYPE[options.codecs[0]];
    lines.push(`a=rtpmap:${red.payloadType} red/8000`);
    lines.push(`a=fmtp:${red.payloadType} ${new Array<number>(red.depth + 1).fill(primary).join('/')}`);
  }
  for (const codec of options.codecs) lines.push(`a=rtpmap:${G711_PAYLOAD_TYPE[codec]} ${ENCODING_NAME[codec]}/8000`);
  return lines;
}

/** The number of lines read from an SDP at most: anything longer is not an SDP we take. */
const MAX_SDP_LINES = 10_000;

/**
 * Reads the far end's SDP: the RED payload type and depth it takes for `codec`, or null when it
 * did not take RED for that codec. Only `m=audio` sections are read (or the whole text when it
 * has no `m=` line, a fragment); a RED payload type that the `m=audio` line does not list was
 * refused. The fmtp entries must all be the codec's payload type (same-codec redundancy, the only
 * kind we send); depth = entries − 1. Line ends CRLF or LF, any order, unknown lines ignored.
 */
export function parseRedundancyAnswer(sdp: string, codec: G711Law): { payloadType: number; depth: number } | null {
  if (typeof sdp !== 'string' || (codec !== 'pcmu' && codec !== 'pcma')) return null;
  const codecPt = G711_PAYLOAD_TYPE[codec];
  const lines = sdp.split(/\r?\n/, MAX_SDP_LINES);
  const hasMedia = lines.some((line) => line.startsWith('m='));
  let inAudio = !hasMedia;
  let formats: Set<number> | null = null;
  const redPts: number[] = [];
  const fmtp = new Map<number, string>();
  // Candidates from every audio section; the first whose fmtp fits wins.
  const candidates: { pt: number; formats: Set<number> | null; fmtp: Map<number, string> }[] = [];
  const flush = (): void => {
    for (const pt of redPts) candidates.push({ pt, formats, fmtp: new Map(fmtp) });
    redPts.length = 0;
    fmtp.clear();
  };
  for (const raw of lines) {
    const line = raw.trim();
    if (line.startsWith('m=')) {
      if (inAudio) flush();
      const fields = line.slice(2).split(/\s+/);
      inAudio = fields[0] === 'audio';
      formats = inAudio ? new Set(fields.slice(3).map(Number).filter(Number.isInteger)) : null;
      continue;
    }
    if (!inAudio) continue;
    let m = /^a=rtpmap:(\d{1,3})\s+red\/8000(?:\/1)?$/i.exec(line);
    if (m) {
      redPts.push(Number(m[1]));
      continue;
    }
    m = /^a=fmtp:(\d{1,3})\s+(.*)$/i.exec(line);
    if (m) fmtp.set(Number(m[1]), m[2].trim());
  }
  if (inAudio) flush();
  for (const candidate of candidates) {
    if (candidate.pt > 127 || (candidate.formats && !candidate.formats.has(candidate.pt))) continue;
    const params = candidate.fmtp.get(candidate.pt);
    if (params === undefined) continue;
    const entries = params.split('/').map((entry) => entry.trim());
    if (entries.length < 2 || !entries.every((entry) => entry === String(codecPt))) continue;
    return { payloadType: candidate.pt, depth: entries.length - 1 };
  }
  return null;
}
