/**
 * Fax results and SpanDSP's completion codes. Codes and texts are read from the linked
 * SpanDSP at run time; nothing here is a hand-made table.
 */
import { native, type NativeResult, type NativeStats } from '../native';

/** SpanDSP's T.30 completion codes that faxline itself reports or tests for, by name. */
export const ResultCode = Object.freeze({
  /** The fax completed. */
  OK: native.constants.T30_ERR_OK,
  /** Nobody answered in time. */
  T0_EXPIRED: native.constants.T30_ERR_T0_EXPIRED,
  /** The far end did not respond to the first message. */
  T1_EXPIRED: native.constants.T30_ERR_T1_EXPIRED,
  /** The document could not be opened, fetched or read. */
  FILE_ERROR: native.constants.T30_ERR_FILEERROR,
  /** The document (or the requested page range) has no page. */
  NO_PAGE: native.constants.T30_ERR_NOPAGE,
  /** The TIFF is not a format fax can carry (e.g. not bilevel). */
  BAD_TIFF: native.constants.T30_ERR_BADTIFF,
  /** A TIFF page number tag is missing. */
  BAD_PAGE: native.constants.T30_ERR_BADPAGE,
  /** TIFF tags have values fax cannot carry (width, resolution). */
  BAD_TAG: native.constants.T30_ERR_BADTAG,
  /** The TIFF header is unusable. */
  BAD_TIFF_HEADER: native.constants.T30_ERR_BADTIFFHDR,
  /** The call ended (hang-up, cancel) before the fax completed. */
  CALL_DROPPED: native.constants.T30_ERR_CALLDROPPED,
});

/** One SpanDSP completion code and its text. */
export interface CompletionCode {
  code: number;
  text: string;
}

let codes: readonly CompletionCode[] | undefined;

/** Every completion code of the linked SpanDSP with its text, in code order. */
export function completionCodes(): readonly CompletionCode[] {
  codes ??= Object.freeze(native.completionCodes().map((c) => Object.freeze(c)));
  return codes;
}

/** SpanDSP's text for a completion code (`"OK"` for 0). */
export function resultText(code: number): string {
  return completionCodes()[code]?.text ?? `Unknown completion code ${code}`;
}

/** Vertical resolutions of fax pages, by their T.30 names. */
export type Resolution = 'standard' | 'fine' | 'superfine' | 'other';

/** Transfer statistics of a fax, from SpanDSP. */
export interface FaxStats {
  /** Image data rate in bit/s (2400 … 14400). */
  bitRate: number;
  /** Whether error correcting mode was used. */
  ecm: boolean;
  /** Pages confirmed by the receiver (sending) or received (receiving). */
  pagesTransferred: number;
  /** Pages in the file being sent (sending), -1 when unknown. */
  pagesInFile: number;
  /** Horizontal resolution of the last page, pixels per metre. */
  xResolution: number;
  /** Vertical resolution of the last page, pixels per metre. */
  yResolution: number;
  /** The vertical resolution by name. */
  resolution: Resolution;
  /** Width of the last page in pixels. */
  width: number;
  /** Length of the last page in rows. */
  length: number;
  /** Size of the last page's coded image, bytes. */
  imageSize: number;
  /** The compression used on the line, as SpanDSP names it (e.g. "T.6"). */
  compression: string;
  /** The compression as SpanDSP's T4_COMPRESSION_ITU_* number. */
  encoding: number;
  /** Rows received damaged in the last page. */
  badRows: number;
  /** Longest run of damaged rows in the last page. */
  longestBadRowRun: number;
  /** ECM frame retransmissions. */
  ecmRetries: number;
  /** The far end's station identity (TSI or CSI), `""` if it sent none. */
  remoteIdentity: string;
  /** The far end's country, vendor and model, from its NSF, when known. */
  remoteCountry: string;
  remoteVendor: string;
  remoteModel: string;
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
