/**
 * Fax results: the addon's result and statistics with the fields derived from them. The
 * completion codes themselves are in lib/base/result-codes.
 */
import { resultText } from '../base/result-codes';
import { native, type NativeResult, type NativeStats } from '../native';

/** Vertical resolutions of fax pages, by their T.30 names. */
export type Resolution = 'standard' | 'fine' | 'superfine' | 'other';

/** Transfer statistics of a fax, from SpanDSP (each field documented on NativeStats), with the derived ones. */
export interface FaxStats extends NativeStats {
  /** The vertical resolution by name. */
  resolution: Resolution;
}

/** How a fax ended. */
export interface FaxResult {
  /** SpanDSP's T.30 completion code; 0 is success. */
  code: number;
  /** SpanDSP's text for the code. */
  text: string;
  /** `code === 0`. */
  success: boolean;
  /** Pages confirmed by the receiver (sending) or received (receiving). */
  pages: number;
  /** The cause in words when known beyond the code (e.g. why a document cannot be sent), else `""`. */
  detail: string;
  /** The far end's identity, `""` if none. */
  remoteIdentity: string;
  stats: FaxStats;
}

function resolutionName(pixelsPerMetre: number): Resolution {
  const c = native.constants;
  // SpanDSP rounds resolutions to its own table, so a near match is the same resolution.
  const near = (value: number) => Math.abs(pixelsPerMetre - value) <= value * 0.03;
  if (near(c.T4_Y_RESOLUTION_STANDARD)) return 'standard';
  if (near(c.T4_Y_RESOLUTION_FINE)) return 'fine';
  if (near(c.T4_Y_RESOLUTION_SUPERFINE)) return 'superfine';
  return 'other';
}

/** @internal Adds derived fields to the addon's statistics. */
export function toStats(s: NativeStats): FaxStats {
  return { ...s, resolution: resolutionName(s.yResolution) };
}

/** @internal Adds derived fields to the addon's result. */
export function toResult(r: NativeResult): FaxResult {
  return {
    code: r.code,
    text: r.text,
    success: r.success,
    pages: r.pages,
    detail: r.detail,
    remoteIdentity: r.stats.remoteIdentity,
    stats: toStats(r.stats),
  };
}

/** The statistics of a fax that never reached the modem. */
function emptyStats(pagesInFile: number): FaxStats {
  return {
    bitRate: 0,
    ecm: false,
    pagesTransferred: 0,
    pagesInFile,
    xResolution: 0,
    yResolution: 0,
    resolution: 'other',
    width: 0,
    length: 0,
    imageSize: 0,
    compression: '',
    encoding: 0,
    badRows: 0,
    longestBadRowRun: 0,
    ecmRetries: 0,
    remoteIdentity: '',
    remoteCountry: '',
    remoteVendor: '',
    remoteModel: '',
  };
}

/** A fax that ended before the modem started (a bad document, a line that never opened): a code, no pages. */
export function failedBeforeStart(code: number, detail: string, pagesInFile = 0): FaxResult {
  return {
    code,
    text: resultText(code),
    success: false,
    pages: 0,
    detail,
    remoteIdentity: '',
    stats: emptyStats(pagesInFile),
  };
}
