/** Fetching a document: through lib/net's policy and limits, then checked to be a PDF, PNG or JPEG. */
import { describeUrl, fetchBytes, NetError, type NetOptions } from '../net';
import { DocumentError } from './errors';
import { imageKind, type ImageKind } from './image-document';

/** How far into the content the `%PDF-` header may start (readers tolerate leading junk). */
const PDF_HEADER_WINDOW = 1024;
const PDF_MAGIC = Buffer.from('%PDF-', 'latin1');

/** The kinds of document accepted, told by their first bytes. */
export type DocumentFormat = 'pdf' | ImageKind;

/**
 * Fetch the document at `url` (`https:`, `http:`, `data:`, or `file:` with `allowFiles`) under
 * the net policy and limits: a PDF, a PNG or a JPEG, told by its bytes, never by the URL or
 * the Content-Type ({@link documentFormat}). Rejects with a {@link DocumentError}: `fetch` or
 * `too-large` (see {@link fetchFailure}, e.g. "HTTP 404 from …", "timed out after 30 s …"),
 * or `not-pdf` naming what the content looks like instead.
 */
export async function fetchDocument(url: string, options: NetOptions = {}): Promise<Buffer> {
  let fetched;
  try {
    fetched = await fetchBytes(url, options);
  } catch (error) {
    throw error instanceof NetError ? fetchFailure(error) : error;
  }
  const { bytes, contentType } = fetched;
  if (!documentFormat(bytes)) {
    const type = contentType ? `Content-Type ${contentType}, ` : '';
    throw new DocumentError(
      'not-pdf',
      `${describeUrl(fetched.url)} is not a PDF, PNG or JPEG: it looks like ${describeContent(bytes)} (${type}${bytes.length} bytes)`,
    );
  }
  return bytes;
}

/**
 * A document that could not be fetched: DocumentError `too-large` or `fetch`, with the
 * {@link NetError} as cause and its message as detail.
 */
export function fetchFailure(error: NetError): DocumentError {
  return new DocumentError(error.reason === 'too-large' ? 'too-large' : 'fetch', error.message, { cause: error });
}

/** Whether the PDF header `%PDF-` starts within the first 1024 bytes. */
export function isPdf(bytes: Buffer): boolean {
  return bytes.subarray(0, PDF_HEADER_WINDOW + PDF_MAGIC.length - 1).includes(PDF_MAGIC);
}

/** What a document is, by its first bytes: a PDF, a PNG, a JPEG, or undefined for anything else. */
export function documentFormat(bytes: Buffer): DocumentFormat | undefined {
  // An image's magic is at byte 0; a PDF's header may follow junk, so it is the weaker sign.
  return imageKind(bytes) ?? (isPdf(bytes) ? 'pdf' : undefined);
}

const SIGNATURES: readonly [string, Buffer][] = [
  ['a PNG image', Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])],
  ['a JPEG image', Buffer.from([0xff, 0xd8, 0xff])],
  ['a GIF image', Buffer.from('GIF8', 'latin1')],
  ['a TIFF image', Buffer.from('II*\0', 'latin1')],
  ['a TIFF image', Buffer.from('MM\0*', 'latin1')],
  ['a WebP image', Buffer.from('RIFF', 'latin1')],
  ['a ZIP archive (e.g. a DOCX or ODT document)', Buffer.from('PK\x03\x04', 'latin1')],
  ['a gzip archive', Buffer.from([0x1f, 0x8b])],
  ['a PostScript document', Buffer.from('%!PS', 'latin1')],
];

/** What content that is not a document looks like, for the error detail: "an HTML page", "a PNG image", … */
export function describeContent(bytes: Buffer): string {
  if (bytes.length === 0) return 'nothing (the content is empty)';
  for (const [name, signature] of SIGNATURES) {
    if (bytes.subarray(0, signature.length).equals(signature)) return name;
  }
  const head = bytes
    .subarray(0, PDF_HEADER_WINDOW)
    .toString('utf8')
    .replace(/^\uFEFF/, '')
    .trimStart()
    .toLowerCase();
  if (head.startsWith('<!doctype html') || head.startsWith('<html') || /<(head|body|title)[\s>]/.test(head)) {
    return 'an HTML page';
  }
  if (head.startsWith('<?xml') || head.startsWith('<svg'))
    return head.includes('<svg') ? 'an SVG image' : 'an XML document';
  if (head.startsWith('{') || head.startsWith('[')) return 'JSON or other text';
  // Text if the head has no control bytes but tab, newline and carriage return.
  const sample = bytes.subarray(0, PDF_HEADER_WINDOW);
  if (!sample.some((b) => b < 0x20 && b !== 0x09 && b !== 0x0a && b !== 0x0d)) return 'plain text';
  return 'unrecognised binary data';
}
