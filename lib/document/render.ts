/**
 * PDF bytes to a TIFF-F file of fax pages, rendered off the JS thread: each document gets its
 * own worker_thread (render-worker.ts) running PDFium's WebAssembly. A worker per document
 * isolates what a hostile PDF can do to the renderer: a PDFium crash or runaway allocation
 * dies with the worker (WebAssembly memory never shrinks, so a reused worker would keep a bad
 * document's peak), and an abort or the time limit is `worker.terminate()`, which stops
 * even a render stuck inside one PDFium call. The cost of a fresh worker is small because the
 * WebAssembly is compiled once per process and handed to each worker (pdfium.ts).
 *
 * Running from TypeScript sources (ts-jest, `ts-node` for the bench) there is no compiled
 * render-worker.js, and a worker is a new thread whose module loader knows nothing of the
 * parent's TypeScript hook; so the worker is started on render-worker.ts with ts-node's
 * transpile-only hook preloaded (`--require`), reading this package's tsconfig.json. The
 * built package (dist/) starts dist/document/render-worker.js and never needs ts-node.
 *
 * How many workers run at once is limited process-wide (render-slots.ts).
 */
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { ImageFileError } from '../base/errors';
import type { NativeTiffCompression } from '../native';
import { DocumentError, type DocumentFailure } from './errors';
import type { DocumentResolution } from './geometry';
import { compiledPdfium, type WasmModule } from './pdfium';
import { acquireRenderSlot } from './render-slots';

/** How gray becomes black and white: per region automatically, or all as text or all as photo. */
export type Conversion = 'auto' | 'text' | 'photo';

/** What to render, and where. */
export interface RenderJob {
  /** The PDF's bytes (copied: the caller's buffer is left alone). */
  pdf: Uint8Array;
  /** The TIFF-F file to write. */
  file: string;
  resolution: DocumentResolution;
  /** More document pages than this: DocumentError 'too-many-pages'. */
  maxPages: number;
  conversion: Conversion;
  compression: NativeTiffCompression;
}

/** Progress, cancellation and the time limit of one render. */
export interface RenderControl {
  /** After each document page is written: pages done (1-based) and the document's page count. */
  onPage?: (page: number, total: number) => void;
  /** Aborting terminates the worker; the render rejects with `signal.reason`. */
  signal?: AbortSignal;
  /** The render's time limit; past it the worker is terminated and a DocumentError ('corrupt') thrown. */
  timeLimitMs: number;
}

/** What a finished render wrote. */
export interface RenderOutcome {
  /** Fax pages in the file (more than documentPages when a very long page was cut). */
  pages: number;
  /** Pages of the PDF. */
  documentPages: number;
}

/** What the worker is given (workerData). */
export interface RenderWorkerData extends RenderJob {
  wasm: WasmModule;
}

/** The worker's report of a bad document. */
export interface RenderFailureMessage {
  type: 'failed';
  reason: DocumentFailure;
  detail: string;
}

/** Messages from the worker, in the order it sends them. */
export type RenderMessage =
  | { type: 'opened'; total: number }
  | { type: 'page'; page: number }
  | { type: 'done'; pages: number }
  | RenderFailureMessage
  | { type: 'error'; kind: 'write' | 'internal'; message: string };

const PACKAGE_ROOT = path.resolve(__dirname, '..', '..');
// setTimeout's largest delay; a longer one would fire at once.
const MAX_TIMEOUT_MS = 2 ** 31 - 1;

function workerEntry(): { filename: string; execArgv?: string[]; env?: NodeJS.ProcessEnv } {
  if (path.extname(__filename) !== '.ts') return { filename: path.join(__dirname, 'render-worker.js') };
  return {
    filename: path.join(__dirname, 'render-worker.ts'),
    execArgv: ['--require', require.resolve('ts-node/register/transpile-only')],
    env: { ...process.env, TS_NODE_PROJECT: path.join(PACKAGE_ROOT, 'tsconfig.json') },
  };
}

type Settled = { ok: RenderOutcome } | { error: unknown };

/**
 * Renders every page of a PDF into a TIFF-F file on a worker thread, once a render slot is
 * free (render-slots.ts). Rejects with a DocumentError for a bad document, with
 * `signal.reason` when aborted (waiting or rendering), with an ImageFileError when the file
 * cannot be written. It settles only once the worker has ended, so the file is closed (or
 * abandoned) by then. On failure the caller removes the file.
 */
export async function renderToTiff(job: RenderJob, control: RenderControl): Promise<RenderOutcome> {
  const wasm = await compiledPdfium();
  const release = await acquireRenderSlot(control.signal);
  try {
    return await renderOnWorker(job, control, wasm);
  } finally {
    release();
  }
}

async function renderOnWorker(job: RenderJob, control: RenderControl, wasm: WasmModule): Promise<RenderOutcome> {
  control.signal?.throwIfAborted();
  const pdf = new Uint8Array(job.pdf);
  const data: RenderWorkerData = { ...job, pdf, wasm };
  const entry = workerEntry();
  const worker = new Worker(entry.filename, {
    workerData: data,
    transferList: [pdf.buffer],
    execArgv: entry.execArgv,
    env: entry.env,
  });

  return new Promise<RenderOutcome>((resolve, reject) => {
    let settled: Settled | undefined;
    let total = 0;
    let done = 0;
    const settle = (result: Settled): void => {
      if (settled) return;
      settled = result;
      // The worker ends by itself after 'done'; otherwise it is stopped where it is.
      if ('error' in result) void worker.terminate();
    };
    const timer = setTimeout(
      () => {
        const at = total > 0 ? ` (${done} of ${total} pages done)` : '';
        settle({
          error: new DocumentError(
            'corrupt',
            `the PDF could not be rendered within the time limit of ${control.timeLimitMs / 1000} s${at}`,
          ),
        });
      },
      Math.min(control.timeLimitMs, MAX_TIMEOUT_MS),
    );
    const onAbort = (): void => settle({ error: control.signal!.reason });
    control.signal?.addEventListener('abort', onAbort, { once: true });

    worker.on('message', (message: RenderMessage) => {
      switch (message.type) {
        case 'opened':
          total = message.total;
          break;
        case 'page':
          done = message.page;
          try {
            control.onPage?.(message.page, total);
          } catch (error) {
            settle({ error });
          }
          break;
        case 'done':
          settle({ ok: { pages: message.pages, documentPages: total } });
          break;
        case 'failed':
          settle({ error: new DocumentError(message.reason, message.detail) });
          break;
        case 'error':
          settle({
            error:
              message.kind === 'write'
                ? new ImageFileError(`writing the fax pages to ${job.file} failed: ${message.message}`)
                : new Error(`the render worker failed: ${message.message}`),
          });
          break;
      }
    });
    worker.on('error', (error) => {
      // ERR_WORKER_OUT_OF_MEMORY and the like: the document exhausted the renderer.
      const code = (error as NodeJS.ErrnoException).code;
      settle({
        error:
          code === 'ERR_WORKER_OUT_OF_MEMORY'
            ? new DocumentError('corrupt', 'the renderer ran out of memory on this PDF', { cause: error })
            : error,
      });
    });
    worker.on('exit', (code) => {
      clearTimeout(timer);
      control.signal?.removeEventListener('abort', onAbort);
      const result = settled ?? { error: new Error(`the render worker exited (code ${code}) without a result`) };
      if ('ok' in result) resolve(result.ok);
      else reject(result.error);
    });
  });
}
