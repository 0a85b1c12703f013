/**
 * SWML `receive_fax`: answers a fax on a call that is already up and hands it to the host's
 * store, with the seven receive_fax_* variables, the calling.call.fax status events
 * (direction "receive") and a T.30 trace.
 *
 * Errors in the request, and a medium that cannot receive, reject before anything starts
 * (InvalidOptionError, no events). Once the receiving terminal runs, every way the call can
 * end resolves: a sender that hangs up mid-page, a far end without fax tones, an abort are
 * results, each with exactly one finished event and the pages received so far.
 */
import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { InvalidOptionError } from '../base/errors';
import type { FaxEvent } from '../engine/events';
import { pagesToPdf } from '../engine/fax-pdf';
import { toNativeReceive, type ReceiveOptions } from '../engine/options';
import { readTiffPages } from '../engine/page';
import type { FaxResult } from '../engine/result';
import { withTempDir } from '../engine/temp-dir';
import type { LineStats } from '../transports/line';
import { toFaxMedia, type FaxMedia, type LoopbackMediaSpec } from '../transports/media';
import type { CallContext } from './events';
import {
  anySignal,
  checkOperationOptions,
  OperationEvents,
  type FaxOperationOptions,
  type FaxOperationOutcome,
} from './fax-operation';
import { checkCallContext, checkReceiveFaxParams, identityFromCallerId, type ReceiveFaxParams } from './params';
import { receiveFaxVariables, type ReceiveFaxVariables } from './variables';

/** The call receive_fax runs on: its context (ids, caller id) and the media carrying the fax. */
export type ReceiveFaxCall = Partial<CallContext> & {
  /** A FaxMedia that can receive (e.g. a PcmMedia), or `{ kind: 'loopback', sender: { document } }`. */
  media: FaxMedia | LoopbackMediaSpec;
};

/** What the store gets: one received fax, in files that are removed once the store has resolved. */
export interface ReceivedFax {
  /** The control_id of this fax operation (a UUID): a unique name for the stored fax. */
  controlId: string;
  /** The received TIFF-F file (read or copy it before resolving). */
  tiffFile: string;
  /** The pages as one PDF at their real size; null when the PDF could not be made (logged). */
  pdf: Uint8Array | null;
  /** Pages received (at least 1: a fax without pages is not stored). */
  pages: number;
  /** The receiving terminal's result (a failed fax keeps the pages it got). */
  result: FaxResult;
}

/** The host's storage: keeps a received fax and resolves with its URL (receive_fax_document). */
export type FaxStore = (fax: ReceivedFax) => Promise<string>;

/** What a log message of receiveFax is about. */
export type ReceiveLogKind = 'store' | 'callback' | 'listener';

/** Options of receiveFax: what the host decides, beyond the SWML parameters. */
export interface ReceiveFaxOptions extends FaxOperationOptions {
  /** T.30 settings of the receiving terminal. */
  fax?: Pick<ReceiveOptions, 'ecm' | 'modems' | 'compressions'>;
  /** Hears every event of the receiving terminal. */
  onEvent?: (event: FaxEvent) => void;
  /** Where failures worth logging go: a failed store, status callbacks given up, a throwing listener. Default console.warn. */
  log?: (message: string, kind: ReceiveLogKind) => void;
  /** The host's storage (default: {@link defaultReceiveStore} in `storeDir`). */
  store?: FaxStore;
  /** Folder of the default store (default: {@link DEFAULT_RECEIVE_DIR}); not with `store`. */
  storeDir?: string;
  /** How long the store may take, ms, before the fax is reported as not stored. Default 60 000. */
  storeTimeoutMs?: number;
}

/** How receive_fax ended. */
export interface ReceiveFaxOutcome extends FaxOperationOutcome<ReceiveFaxVariables> {
  /** The stored fax's URL (receive_fax_document): "" when no page arrived or the store failed. */
  document: string;
  /** The stored TIFF-F's path, when the default store kept it. */
  pagesFile?: string;
}

/** Where the default store keeps received faxes: a folder of its own, never swept like faxline's temp folders. */
export const DEFAULT_RECEIVE_DIR = path.join(os.tmpdir(), 'faxline-received');

/** Default time the store may take. */
export const STORE_TIMEOUT_MS = 60_000;

const TIFF_NAME = 'received.tif';
const PDF_NAME = 'received.pdf';

/**
 * The default store: writes `<dir>/<controlId>/received.tif` and, when the PDF could be
 * made, `received.pdf` beside it, and resolves with the PDF's `file:` URL (the TIFF's when
 * there is no PDF).
 */
export function defaultReceiveStore(dir: string = DEFAULT_RECEIVE_DIR): FaxStore {
  if (typeof dir !== 'string' || dir === '') throw new InvalidOptionError('Expected a folder path for storeDir');
  return async (fax) => {
    // controlId names a folder: only a UUID's characters, so it cannot climb out of dir.
    if (!/^[0-9a-f-]{36}$/i.test(fax.controlId)) throw new InvalidOptionError('controlId must be a UUID');
    const folder = path.join(dir, fax.controlId);
    await fs.promises.mkdir(folder, { recursive: true });
    const tiff = path.join(folder, TIFF_NAME);
    await fs.promises.copyFile(fax.tiffFile, tiff);
    if (fax.pdf === null) return pathToFileURL(tiff).href;
    const pdf = path.join(folder, PDF_NAME);
    await fs.promises.writeFile(pdf, fax.pdf);
    return pathToFileURL(pdf).href;
  };
}

function checkOptions(options: unknown): ReceiveFaxOptions {
  const o = checkOperationOptions<ReceiveFaxOptions>(options, ['onEvent', 'log', 'store']);
  const storeWait = o.storeTimeoutMs;
  if (storeWait !== undefined && (typeof storeWait !== 'number' || !(storeWait > 0) || !Number.isFinite(storeWait))) {
    throw new InvalidOptionError('storeTimeoutMs must be a number of milliseconds above 0');
  }
  if (o.storeDir !== undefined && (typeof o.storeDir !== 'string' || o.storeDir === '')) {
    throw new InvalidOptionError('Expected a folder path for storeDir');
  }
  if (o.store !== undefined && o.storeDir !== undefined) {
    throw new InvalidOptionError('storeDir is the default store’s folder; give either store or storeDir');
  }
  return o;
}

/** The store's promise, or a rejection once `ms` have passed. */
async function withinTime<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`the store did not finish within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

const message = (error: unknown): string => (error instanceof Error ? error.message : String(error));

/**
 * Receives a fax on `call` and resolves with the receive_fax variables, the typed result, the
 * statistics, the T.30 trace and the stored fax's URL. Rejects only with InvalidOptionError,
 * for a request that is wrong in itself or a medium that cannot receive, before any event; a
 * failed fax is a result. With no page received nothing is stored and the document is "".
 */
export async function receiveFax(
  params: ReceiveFaxParams | undefined,
  call: ReceiveFaxCall,
  options: ReceiveFaxOptions = {},
): Promise<ReceiveFaxOutcome> {
  // Everything that can be wrong with the request is found here, before any event.
  const p = checkReceiveFaxParams(params);
  const context = checkCallContext(call, p.statusUrl !== undefined);
  const o = checkOptions(options);
  const media = toFaxMedia((call as { media?: unknown }).media);
  if (typeof (media as Partial<FaxMedia>).receive !== 'function') {
    media.end();
    throw new InvalidOptionError(`call.media (${String(media.kind)}) cannot receive a fax`);
  }
  const identity = p.identity ?? identityFromCallerId(context.caller_id);
  const fax = { ...o.fax, identity };
  toNativeReceive({ ...fax, receivedFile: '-' });
  const store = o.store ?? defaultReceiveStore(o.storeDir);
  const log = o.log ?? ((text: string) => console.warn(`faxline: ${text}`));
  const controlId = randomUUID();
  const events = new OperationEvents({
    context,
    controlId,
    direction: 'receive',
    statusUrl: p.statusUrl,
    options: o,
    listener: o.onEvent,
    log,
  });
  const { signal, detach } = anySignal([o.signal, media.signal]);

  let stored: { result: FaxResult; durationMs: number; line?: LineStats; document: string; pagesFile?: string };
  try {
    // The terminal writes into a private folder, removed once the store has its copy.
    stored = await withTempDir('receive', async (dir) => {
      const receivedFile = path.join(dir, TIFF_NAME);
      const outcome = await media.receive({ ...fax, receivedFile }, { signal, onEvent: events.onEvent });
      const { result } = outcome;
      let document = '';
      let pagesFile: string | undefined;
      if (result.pages > 0 && fs.existsSync(receivedFile)) {
        const pdf = await receivedPdf(receivedFile, result.pages).catch((error: unknown) => {
          log(`received fax ${controlId}: no PDF: ${message(error)}`, 'store');
          return null;
        });
        try {
          const url = await withinTime(
            store({ controlId, tiffFile: receivedFile, pdf, pages: result.pages, result }),
            o.storeTimeoutMs ?? STORE_TIMEOUT_MS,
          );
          if (typeof url !== 'string') throw new Error(`the store resolved with ${typeof url}, not a URL`);
          document = url;
          if (o.store === undefined) pagesFile = path.join(o.storeDir ?? DEFAULT_RECEIVE_DIR, controlId, TIFF_NAME);
        } catch (error) {
          log(`received fax ${controlId} (${result.pages} pages) was not stored: ${message(error)}`, 'store');
        }
      }
      return { result, durationMs: outcome.durationMs, line: outcome.line, document, pagesFile };
    });
  } catch (error) {
    // A medium that cannot receive, or a broken one (a fax failure is a result): no finished event.
    await events.abandon();
    throw error;
  } finally {
    detach();
    media.end();
  }

  const { result, document } = stored;
  const report = await events.finish(document, identity, result);
  return {
    variables: receiveFaxVariables(document, identity, result),
    result,
    stats: result.stats,
    detail: result.detail,
    trace: events.trace(result),
    controlId,
    identity,
    durationMs: stored.durationMs,
    document,
    ...(stored.pagesFile !== undefined && { pagesFile: stored.pagesFile }),
    callbacks: report,
    ...(stored.line !== undefined && { line: stored.line }),
  };
}

/** The first `pages` pages of the received TIFF-F as one PDF. */
async function receivedPdf(file: string, pages: number): Promise<Uint8Array> {
  return pagesToPdf(readTiffPages(file).slice(0, pages));
}
