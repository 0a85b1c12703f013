/** Why a document could not become fax pages, with the SpanDSP code the fax fails with. */
import { FaxlineError } from '../base/errors';
import { ResultCode } from '../base/result-codes';

/** The kinds of document failure, each a stable reason string. */
export type DocumentFailure =
  | 'fetch' // the URL could not be fetched (network, HTTP status, timeout, refused address or file: URL)
  | 'too-large' // more bytes than the size limit, or an image beyond the image limits (image-document.ts)
  | 'not-pdf' // the content is not a PDF, PNG or JPEG (the name is kept: it is a stable reason string)
  | 'encrypted' // needs a user password
  | 'corrupt' // the renderer cannot read it: a damaged PDF, a damaged or undecodable image
  | 'no-pages' // zero pages
  | 'too-many-pages'; // more pages than the page limit

/**
 * A document that cannot be sent. `resultCode` is SpanDSP's file-error code, or its no-page
 * code for a document without pages; `detail` names the cause for people and logs.
 */
export class DocumentError extends FaxlineError {
  readonly reason: DocumentFailure;
  readonly resultCode: number;
  readonly detail: string;
  constructor(reason: DocumentFailure, detail: string, options?: { cause?: unknown }) {
    super('ERR_FAXLINE_DOCUMENT', detail, options);
    this.reason = reason;
    this.detail = detail;
    this.resultCode = reason === 'no-pages' ? ResultCode.NO_PAGE : ResultCode.FILE_ERROR;
  }
}
