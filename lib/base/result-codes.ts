/**
 * SpanDSP's T.30 completion codes, the SPEC's result codes: every room names results by them
 * (a document that cannot be sent fails with FILE_ERROR), so they sit in the base with the
 * errors. Codes and texts are read from the linked SpanDSP at run time; nothing here is a
 * hand-made table.
 */
import { native } from '../native';

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
