/**
 * SWML `send_fax`: a PDF (by URL) sent as a fax on a call that is already up, with the seven
 * send_fax_* variables, the calling.call.fax status events and a T.30 trace.
 *
 * Errors in the request reject before anything starts (InvalidOptionError, no events). Once
 * the fax operation starts, every way it can end resolves: a document that cannot be fetched
 * or rendered, a hang-up, a far end that does not answer are results, each with exactly one
 * finished event.
 */
import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { DocumentError } from '../document/errors';
import { fetchFailure } from '../document/fetch';
import { RESOLUTIONS, type DocumentResolution } from '../document/geometry';
import { prepareDocument, type PreparedDocument, type PrepareOptions } from '../document/prepare';
import { InvalidOptionError } from '../base/errors';
import { checkBoolean, checkPositive } from '../base/checks';
import { checkFileAllowed, describeUrl, NetError } from '../net';
import type { FaxEvent } from '../engine/events';
import { toNativeSend, type SendOptions } from '../engine/options';
import { checkTiffForSending } from '../engine/page';
import { ResultCode } from '../base/result-codes';
import { failedBeforeStart, type FaxResult } from '../engine/result';
import { toFaxMedia, type FaxMedia, type LoopbackMediaSpec, type MediaOutcome } from '../transports/media';
import type { CallContext } from './events';
import {
  anySignal,
  CALLBACK_WAIT_MS,
  checkOperationOptions,
  OperationEvents,
  type FaxOperationOptions,
  type FaxOperationOutcome,
} from './fax-operation';
import {
  checkCallContext,
  checkSendFaxParams,
  documentProblem,
  type CheckedContext,
  type CheckedParams,
  identityFromCallerId,
  type SendFaxParams,
} from './params';
import { sendFaxVariables, type SendFaxVariables } from './variables';

/** The call send_fax runs on: its context (ids, caller id) and the media carrying the fax. */
export type SendFaxCall = Partial<CallContext> & {
  /** A FaxMedia (e.g. a PcmMedia driven by a media server) or `{ kind: 'loopback' }`. */
  media: FaxMedia | LoopbackMediaSpec;
};

/**
 * What a document preparer hands back: a TIFF-F file, its page count, and how to remove it;
 * `pagesChecked` when its pages need no decoding before they are sent (faxline wrote them).
 * Other files are checked by sendFax, off the caller's thread.
 */
export type PreparedFax = Pick<PreparedDocument, 'file' | 'pages' | 'cleanup'> & { pagesChecked?: boolean };

/** Turns a document URL into TIFF-F pages; rejects with a DocumentError for a bad document. */
export type DocumentPreparer = (url: string, options: PrepareOptions) => Promise<PreparedFax>;

/** Progress of the document preparation: pages 1 to `page` of `pages` are ready to send. */
export interface DocumentProgressEvent {
  type: 'document';
  page: number;
  pages: number;
}

/** What a log message is about. */
export type LogKind = 'document' | 'callback' | 'listener' | 'cleanup';

/** What `onEvent` hears: the document's progress, then the sending terminal's events. */
export type SendFaxEvent = DocumentProgressEvent | FaxEvent;

/** Options of sendFax: what the host decides, beyond the SWML parameters. */
export interface SendFaxOptions extends FaxOperationOptions {
  /** Permit `file:` document URLs (default false): a local file belongs to the host, not to the SWML's author. */
  allowFiles?: boolean;
  /** Resolution the PDF is rendered at (default: the document layer's, fine). */
  resolution?: DocumentResolution;
  /** Limits and settings of fetching and rendering the document (see lib/document's prepareDocument). */
  document?: Pick<
    PrepareOptions,
    'timeoutMs' | 'maxBytes' | 'maxRedirects' | 'maxPages' | 'timeLimitMs' | 'conversion' | 'ca'
  >;
  /** T.30 settings of the sending terminal. */
  fax?: Pick<SendOptions, 'ecm' | 'modems' | 'compressions' | 'pages'>;
  /** Hears progress: document pages rendered, then every event of the sending terminal. */
  onEvent?: (event: SendFaxEvent) => void;
  /**
   * Where failures worth logging go, with what they concern: a document that cannot be sent,
   * status callbacks given up, a throwing onEvent listener, a failed clean-up. Default console.warn.
   */
  log?: (message: string, kind: LogKind) => void;
  /** How a document URL becomes TIFF-F (default: lib/document, with local TIFF-F files sent as they are). */
  prepareDocument?: DocumentPreparer;
  /**
   * The document must be ready this long after the fax operation starts, or the fax fails saying
   * so (ms). sendFax, whose call is already up, defaults to DOCUMENT_READY_MS (30 s); prepareSendFax
   * has no such bound beyond the document's own limits.
   */
  documentReadyMs?: number;
}

/** How send_fax ended. */
export interface SendFaxOutcome extends FaxOperationOutcome<SendFaxVariables> {
  /** Pages in the prepared document, 0 when it could not be prepared. */
  documentPages: number;
}

export { CALLBACK_WAIT_MS };

function isTiffFile(file: string): boolean {
  if (/\.tiff?$/i.test(file)) return true;
  let fd: number | undefined;
  try {
    fd = fs.openSync(file, 'r');
    const head = Buffer.alloc(4);
    fs.readSync(fd, head, 0, 4, 0);
    const magic = head.toString('latin1');
    return magic === 'II*\0' || magic === 'MM\0*';
  } catch {
    return false;
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

/**
 * The default preparer: a `file:` URL naming a TIFF (by extension or content) is sent as it
 * is, without rendering; everything else goes through lib/document's PDF path. Without
 * `allowFiles` a `file:` URL is refused as lib/document's fetch refuses it.
 */
export const defaultPrepareDocument: DocumentPreparer = async (url, options) => {
  const parsed = new URL(url);
  if (parsed.protocol === 'file:') {
    // Checked before the file is opened: this path does not go through fetchBytes.
    try {
      checkFileAllowed(parsed, options);
    } catch (error) {
      throw error instanceof NetError ? fetchFailure(error) : error;
    }
    const file = fileURLToPath(parsed);
    if (isTiffFile(file)) {
      // Every page, off this thread. A file that fails is left for sendFax to judge by the
      // pages it is asked to send (a missing file counts 0).
      const check = await checkTiffForSending(file);
      return { file, pages: check.pages, pagesChecked: check.code === ResultCode.OK, cleanup: async () => undefined };
    }
  }
  return prepareDocument(url, options);
};

function checkOptions(options: unknown): SendFaxOptions {
  const o = checkOperationOptions<SendFaxOptions>(options, ['onEvent', 'log', 'prepareDocument']);
  if (o.allowFiles !== undefined) checkBoolean(o.allowFiles, 'allowFiles');
  if (o.resolution !== undefined && !RESOLUTIONS.includes(o.resolution)) {
    throw new InvalidOptionError(
      `resolution must be 'standard', 'fine' or 'superfine'; got ${JSON.stringify(o.resolution)}`,
    );
  }
  if (o.documentReadyMs !== undefined) checkPositive(o.documentReadyMs, 'documentReadyMs');
  return o;
}

/** The call's context without its media: what prepareSendFax needs before the line exists. */
export type SendFaxContext = Partial<CallContext>;

/**
 * A send_fax operation whose document is prepared (or failed to be): attach it to a call with
 * `send(media)`, once. Made by prepareSendFax, so no far end waits in silence for a download.
 */
export interface SendFaxJob {
  /** The control_id of this fax operation in the status events. */
  readonly controlId: string;
  /** Our station identity as it will be sent. */
  readonly identity: string;
  /** Pages ready to send, 0 when the document failed. */
  readonly documentPages: number;
  /** The failed fax when the document cannot be sent (send() then reports it without using the line); else null. */
  readonly failure: FaxResult | null;
  /**
   * Sends the document on `media` and resolves like sendFax. A failed document is reported here:
   * its finished event is posted and the media released without the modem starting.
   */
  send(media: FaxMedia | LoopbackMediaSpec): Promise<SendFaxOutcome>;
  /** Releases the prepared document without sending it (no status events). Idempotent. */
  discard(): Promise<void>;
}

/**
 * Default bound on preparing a document for a call that is already up (sendFax with a live
 * medium): the far end gives up after T.30's T1, 35 s of waiting for our first signal.
 */
export const DOCUMENT_READY_MS = 30_000;

/**
 * Prepares `params.document` for a send_fax before any call is attached: fetches and renders it,
 * so the line opens only once the pages are ready. Rejects only with InvalidOptionError for a
 * request that is wrong in itself; a document that cannot be sent is the job's `failure`.
 */
export function prepareSendFax(
  params: SendFaxParams,
  call: SendFaxContext,
  options: SendFaxOptions = {},
): Promise<SendFaxJob> {
  return prepareJob(params, call, options, undefined);
}

/** prepareSendFax; `lineSignal` (the live media's hang-up) also ends the preparation. */
async function prepareJob(
  params: SendFaxParams,
  call: SendFaxContext,
  options: SendFaxOptions,
  lineSignal: AbortSignal | undefined,
): Promise<SendFaxJob> {
  const p = checkSendFaxParams(params);
  const context = checkCallContext(call, p.statusUrl !== undefined);
  const o = checkOptions(options);
  const identity = p.identity ?? identityFromCallerId(context.caller_id);
  const sendOptions: SendOptions = { document: '-', identity, headerInfo: p.headerInfo, ...o.fax };
  toNativeSend(sendOptions);
  const log = o.log ?? ((message: string) => console.warn(`faxline: ${message}`));
  const tell = (event: SendFaxEvent): void => {
    try {
      o.onEvent?.(event);
    } catch (error) {
      log(`onEvent listener threw: ${error instanceof Error ? error.message : String(error)}`, 'listener');
    }
  };
  const { signal, detach } = anySignal([o.signal, lineSignal]);
  let prepared: Preparation;
  try {
    prepared = await prepareFor(p.document, sendOptions, { ...o, signal }, tell, log);
  } finally {
    detach();
  }
  return new Job(p, context, o, identity, sendOptions, prepared, tell, log);
}

/**
 * Sends `params.document` as a fax on `call` and resolves with the send_fax variables, the
 * typed result, the statistics and the T.30 trace. Rejects only with InvalidOptionError, for
 * a request that is wrong in itself, before anything starts; a failed fax is a result.
 *
 * The media is already up here, so the document must be ready within `documentReadyMs`
 * (default 30 s) or the fax fails saying so, before the far end's own timer would end it. Hosts
 * that can wait to open the line use prepareSendFax, then `job.send(media)`.
 */
export async function sendFax(
  params: SendFaxParams,
  call: SendFaxCall,
  options: SendFaxOptions = {},
): Promise<SendFaxOutcome> {
  checkSendFaxParams(params);
  const media = toFaxMedia((call as { media?: unknown }).media);
  const o = checkOptions(options);
  let job: SendFaxJob;
  try {
    job = await prepareJob(
      params,
      call,
      { ...o, documentReadyMs: o.documentReadyMs ?? DOCUMENT_READY_MS },
      media.signal,
    );
  } catch (error) {
    media.end();
    throw error;
  }
  return job.send(media);
}

/** A document ready to send, or the fax that failed because it is not. */
type Preparation = { ok: true; fax: PreparedFax } | { ok: false; result: FaxResult };

async function prepareFor(
  document: string,
  sendOptions: SendOptions,
  o: SendFaxOptions,
  tell: (event: SendFaxEvent) => void,
  log: (message: string, kind: LogKind) => void,
): Promise<Preparation> {
  const failed = (result: FaxResult): Preparation => {
    log(`document ${describeUrl(document)} cannot be sent: ${result.detail}`, 'document');
    return { ok: false, result };
  };
  const problem = documentProblem(document);
  if (problem !== null) return failed(failedBeforeStart(ResultCode.FILE_ERROR, problem));
  const readyMs = o.documentReadyMs;
  const deadline = readyMs === undefined ? undefined : AbortSignal.timeout(readyMs);
  const { signal, detach } = anySignal([o.signal, deadline]);
  let prepared: PreparedFax;
  let pagesReady = 0;
  try {
    // The host's own preparer too: file: is the host's to permit, whoever reads the file.
    checkFileAllowed(new URL(document), o);
    prepared = await (o.prepareDocument ?? defaultPrepareDocument)(document, {
      ...o.document,
      resolution: o.resolution,
      allowPrivate: o.allowPrivate,
      allowFiles: o.allowFiles,
      signal,
      onPage: (page, pages) => {
        pagesReady = page;
        tell({ type: 'document', page, pages });
      },
    });
  } catch (error) {
    if (deadline?.aborted && !o.signal?.aborted) {
      return failed(
        failedBeforeStart(
          ResultCode.FILE_ERROR,
          `the document was not ready within ${readyMs! / 1000} s of the call starting; ` +
            'the far end gives up after 35 s of silence (T.30 T1): prepare it first with prepareSendFax',
        ),
      );
    }
    return failed(preparationFailure(error, o.signal));
  } finally {
    detach();
  }
  // A preparer that had nothing to render (a TIFF sent as is) reports all pages at once.
  if (pagesReady < prepared.pages) tell({ type: 'document', page: prepared.pages, pages: prepared.pages });
  // A TIFF faxline did not write is checked here, on a libuv thread, so the medium makes its
  // session without decoding every page where the line's clock runs.
  const unsendable = prepared.pagesChecked ? null : await tiffFailure(prepared.file, sendOptions.pages);
  if (unsendable) {
    await prepared.cleanup().catch((error: unknown) => log(`cleanup failed: ${String(error)}`, 'cleanup'));
    return failed(unsendable);
  }
  return { ok: true, fax: prepared };
}

class Job implements SendFaxJob {
  readonly controlId = randomUUID();
  readonly documentPages: number;
  readonly failure: FaxResult | null;
  #state: 'ready' | 'used' = 'ready';

  constructor(
    readonly params: CheckedParams,
    readonly context: CheckedContext,
    readonly options: SendFaxOptions,
    readonly identity: string,
    readonly sendOptions: SendOptions,
    readonly prepared: Preparation,
    readonly tell: (event: SendFaxEvent) => void,
    readonly log: (message: string, kind: LogKind) => void,
  ) {
    this.documentPages = prepared.ok ? prepared.fax.pages : 0;
    this.failure = prepared.ok ? null : prepared.result;
  }

  async discard(): Promise<void> {
    if (this.#state === 'used') return;
    this.#state = 'used';
    await this.#cleanup();
  }

  async #cleanup(): Promise<void> {
    if (this.prepared.ok)
      await this.prepared.fax
        .cleanup()
        .catch((error: unknown) => this.log(`cleanup failed: ${String(error)}`, 'cleanup'));
  }

  async send(mediaSpec: FaxMedia | LoopbackMediaSpec): Promise<SendFaxOutcome> {
    if (this.#state === 'used') throw new InvalidOptionError('This send_fax job was already sent or discarded');
    const media = toFaxMedia(mediaSpec);
    this.#state = 'used';
    const { params: p, context, options: o, identity, log } = this;
    const events = new OperationEvents({
      context,
      controlId: this.controlId,
      direction: 'send',
      statusUrl: p.statusUrl,
      options: o,
      listener: this.tell,
      log,
    });
    const { signal, detach } = anySignal([o.signal, media.signal]);

    let result: FaxResult;
    let durationMs = 0;
    let line: MediaOutcome['line'];
    try {
      if (!this.prepared.ok) {
        result = this.prepared.result;
      } else if (signal?.aborted) {
        result = failedBeforeStart(
          ResultCode.CALL_DROPPED,
          'the call ended before the fax started',
          this.documentPages,
        );
      } else {
        const outcome = await media.send(
          { ...this.sendOptions, document: this.prepared.fax.file, pagesChecked: true },
          { signal, onEvent: events.onEvent },
        );
        result = outcome.result;
        durationMs = outcome.durationMs;
        line = outcome.line;
      }
    } catch (error) {
      // Only a broken medium gets here (a fax failure is a result): drop the events still queued.
      await events.abandon();
      throw error;
    } finally {
      detach();
      media.end();
      await this.#cleanup();
    }

    const report = await events.finish(p.document, identity, result);
    return {
      variables: sendFaxVariables(p.document, identity, result),
      result,
      stats: result.stats,
      detail: result.detail,
      trace: events.trace(result),
      controlId: this.controlId,
      identity,
      durationMs,
      documentPages: this.documentPages,
      callbacks: report,
      ...(line ? { line } : {}),
    };
  }
}

/** The failed fax for a TIFF whose `pages` SpanDSP cannot send, or null when it can. */
async function tiffFailure(file: string, pages: SendOptions['pages']): Promise<FaxResult | null> {
  try {
    const check = await checkTiffForSending(file, pages);
    return check.code === ResultCode.OK ? null : failedBeforeStart(check.code, check.detail, check.pages);
  } catch (error) {
    return failedBeforeStart(ResultCode.FILE_ERROR, error instanceof Error ? error.message : String(error));
  }
}

function preparationFailure(error: unknown, signal: AbortSignal | undefined): FaxResult {
  if (signal?.aborted) {
    return failedBeforeStart(ResultCode.CALL_DROPPED, 'the call ended while the document was being prepared');
  }
  if (error instanceof DocumentError) return failedBeforeStart(error.resultCode, error.detail);
  return failedBeforeStart(ResultCode.FILE_ERROR, error instanceof Error ? error.message : String(error));
}
