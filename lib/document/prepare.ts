/**
 * A document URL to a TIFF-F file the engine can send: fetch (through lib/net's policy and
 * limits), check, render page by page on a worker thread, and keep the result in a private
 * temp folder until the caller cleans it up. A PNG or JPEG document becomes a one-page PDF
 * first (image-document.ts), so it is rendered by the same rules.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  checkBytes,
  checkFunction,
  checkInteger,
  checkObject,
  checkOneOf,
  checkPositive,
  checkSignal,
} from '../base/checks';
import { COMPRESSIONS } from '../engine/options';
import { makeTempDir } from '../engine/temp-dir';
import { DEFAULT_TIMEOUT_MS, type NetOptions } from '../net';
import type { NativeTiffCompression } from '../native';
import { DocumentError } from './errors';
import { describeContent, documentFormat, fetchDocument, isPdf } from './fetch';
import { RESOLUTIONS, type DocumentResolution } from './geometry';
import { imageToPdf } from './image-document';
import { renderToTiff, type Conversion } from './render';

/** Default page limit: a PDF with more pages is refused ('too-many-pages'). */
export const DEFAULT_MAX_PAGES = 500;
/** Default time limit of a whole preparation, fetch included, ms. */
export const DEFAULT_PREPARE_TIME_LIMIT_MS = 120_000;

const CONVERSIONS: readonly Conversion[] = ['auto', 'text', 'photo'];

/** Options of {@link prepareDocument}: the fetch's limits and policy, and the rendering's. */
export type PrepareOptions = NetOptions & {
  /** Vertical resolution of the fax pages (default 'fine': 7.7 lines/mm, 204 × 196 dpi). */
  resolution?: DocumentResolution;
  /** A PDF with more pages is refused with DocumentError 'too-many-pages' (default 500). */
  maxPages?: number;
  /** Gray to black and white: 'auto' per region (default), or the whole page as 'text' or 'photo'. */
  conversion?: Conversion;
  /** Coding of the TIFF-F file (storage only: the line coding is negotiated); default 't6'. */
  compression?: NativeTiffCompression;
  /** Called on the caller's thread after each document page is written: (pages done, page count). */
  onPage?: (page: number, total: number) => void;
  /**
   * Time limit of the whole preparation, fetch included, ms (default 120 000). The fetch is
   * also bound by `timeoutMs` (default 30 000). Past it: DocumentError, reason 'fetch' while
   * fetching, 'corrupt' while rendering.
   */
  timeLimitMs?: number;
};

/** A document ready to send: a TIFF-F file in a private temp folder. */
export interface PreparedDocument {
  /** The TIFF-F file; pass it as the engine's `document`. */
  file: string;
  /** Fax pages in the file. */
  pages: number;
  /**
   * Pages of the PDF, 1 for an image (fewer than `pages` only when a very long page was cut;
   * see geometry.ts).
   */
  documentPages: number;
  /**
   * Always true: faxline wrote the pages, so a sending session need not decode them again
   * (SendOptions.pagesChecked).
   */
  pagesChecked: true;
  /** Removes the temp folder and the file. Idempotent: later calls return the first call's promise. */
  cleanup(): Promise<void>;
}

interface Settings {
  resolution: DocumentResolution;
  maxPages: number;
  conversion: Conversion;
  compression: NativeTiffCompression;
  timeLimitMs: number;
  onPage: ((page: number, total: number) => void) | undefined;
  signal: AbortSignal | undefined;
}

function oneOf<T extends string>(value: unknown, allowed: readonly T[], name: string, fallback: T): T {
  return value === undefined ? fallback : checkOneOf(value, name, allowed);
}

function settingsOf(options: PrepareOptions): Settings {
  checkObject(options, 'options');
  const { maxPages = DEFAULT_MAX_PAGES, timeLimitMs = DEFAULT_PREPARE_TIME_LIMIT_MS, onPage, signal } = options;
  checkInteger(maxPages, 'maxPages', 1);
  checkPositive(timeLimitMs, 'timeLimitMs');
  if (onPage !== undefined) checkFunction(onPage, 'onPage');
  if (signal !== undefined) checkSignal(signal);
  return {
    resolution: oneOf(options.resolution, RESOLUTIONS, 'resolution', 'fine'),
    maxPages,
    conversion: oneOf(options.conversion, CONVERSIONS, 'conversion', 'auto'),
    compression: oneOf(options.compression, COMPRESSIONS, 'compression', 't6'),
    timeLimitMs,
    onPage,
    signal,
  };
}

/**
 * Fetches a document (a PDF, or a PNG or JPEG image placed on a page of its natural size) and
 * renders it to fax pages in a TIFF-F file (see {@link PrepareOptions}).
 *
 * Rejects with a DocumentError (its `resultCode` is SpanDSP's file-error or no-page code, its
 * `detail` the cause) for every bad document or failed fetch, with InvalidOptionError for bad
 * options, and, when `signal` aborts, with `signal.reason` itself (an AbortError DOMException
 * unless the caller gave another reason): an abort is the caller's decision, not a bad
 * document. Whatever the failure, nothing is left in the temp folder.
 */
export async function prepareDocument(url: string, options: PrepareOptions = {}): Promise<PreparedDocument> {
  const settings = settingsOf(options);
  const deadline = Date.now() + settings.timeLimitMs;
  settings.signal?.throwIfAborted();
  let document: Buffer;
  try {
    document = await fetchDocument(url, {
      ...options,
      timeoutMs: Math.min(options.timeoutMs ?? DEFAULT_TIMEOUT_MS, settings.timeLimitMs),
    });
  } catch (error) {
    settings.signal?.throwIfAborted();
    throw error;
  }
  const remaining = deadline - Date.now();
  if (remaining <= 0) {
    throw new DocumentError(
      'fetch',
      `fetching the document used up the time limit of ${settings.timeLimitMs / 1000} s`,
    );
  }
  return prepareSettled(document, { ...settings, timeLimitMs: remaining }, true);
}

/**
 * Renders PDF bytes already in hand (no fetch) to fax pages in a TIFF-F file; the options,
 * errors and clean-up are those of {@link prepareDocument} (the net options are not used).
 */
export async function preparePdf(pdf: Uint8Array, options: PrepareOptions = {}): Promise<PreparedDocument> {
  return prepareSettled(checkBytes(pdf, 'pdf'), settingsOf(options), false);
}

async function prepareSettled(document: Uint8Array, settings: Settings, images: boolean): Promise<PreparedDocument> {
  settings.signal?.throwIfAborted();
  const deadline = Date.now() + settings.timeLimitMs;
  const bytes = Buffer.from(document.buffer, document.byteOffset, document.byteLength);
  const format = images ? documentFormat(bytes) : isPdf(bytes) ? 'pdf' : undefined;
  // The same check as a fetch's, for bytes given directly (fetched ones passed it already).
  if (!format) {
    throw new DocumentError('not-pdf', `the document is not a PDF: it looks like ${describeContent(bytes)}`);
  }
  let pdf = document;
  let remaining = settings.timeLimitMs;
  if (format !== 'pdf') {
    pdf = await imageToPdf(document, { signal: settings.signal, timeLimitMs: settings.timeLimitMs });
    remaining = deadline - Date.now();
    if (remaining <= 0) {
      throw new DocumentError(
        'corrupt',
        `decoding the image used up the time limit of ${settings.timeLimitMs / 1000} s`,
      );
    }
  }
  // Not withTempDir: the folder outlives this call, until the caller's cleanup().
  const dir = await makeTempDir('document');
  const remove = (): Promise<void> => fs.promises.rm(dir, { recursive: true, force: true });
  const file = path.join(dir, 'document.tif');
  try {
    const outcome = await renderToTiff(
      {
        pdf,
        file,
        resolution: settings.resolution,
        maxPages: settings.maxPages,
        conversion: settings.conversion,
        compression: settings.compression,
      },
      { onPage: settings.onPage, signal: settings.signal, timeLimitMs: remaining },
    );
    let removed: Promise<void> | undefined;
    return {
      file,
      pages: outcome.pages,
      documentPages: outcome.documentPages,
      pagesChecked: true,
      cleanup: () => (removed ??= remove()),
    };
  } catch (error) {
    await remove();
    throw error;
  }
}
