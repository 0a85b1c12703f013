/**
 * PDF bytes to a TIFF-F file of fax pages, rendered off the JS thread on a worker_thread
 * (render-worker.ts) running PDFium's WebAssembly.
 *
 * Each document gets a PDFium instance of its own, with its own memory, instantiated from the
 * WebAssembly compiled once per process (pdfium.ts): nothing one document leaves in PDFium's
 * heap can reach the next, and WebAssembly memory, which never shrinks, goes with its
 * instance. The thread is reused: starting one (an isolate, our modules, PDFium's JS glue)
 * cost about as much CPU as rendering two text pages, on every document. A worker goes back
 * to the idle list only after a document that ended well; any failure, an abort or the time
 * limit is `worker.terminate()`, which stops even a render stuck inside one PDFium call, and
 * a renderer that misbehaved is never used again. Idle workers do not keep the process alive
 * and end after {@link IDLE_WORKER_MS}; a worker retires after {@link MAX_JOBS_PER_WORKER}
 * documents, or after one whose PDFium heap grew past {@link RETIRE_HEAP_BYTES} (until the
 * garbage collector takes that memory, it counts twice).
 *
 * Running from TypeScript sources (ts-jest, `ts-node` for the bench) there is no compiled
 * render-worker.js, and a worker is a new thread whose module loader knows nothing of the
 * parent's TypeScript hook; so the worker is started on render-worker.ts with ts-node's
 * transpile-only hook preloaded (`--require`), reading this package's tsconfig.json. The
 * built package (dist/) starts dist/document/render-worker.js and never needs ts-node.
 *
 * How many documents render at once is limited process-wide (render-slots.ts), and so is the
 * number of workers, idle or not.
 */
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { ImageFileError } from '../base/errors';
import type { NativeTiffCompression } from '../native';
import { DocumentError, type DocumentFailure } from './errors';
import type { DocumentResolution } from './geometry';
import { compiledPdfium, type WasmModule } from './pdfium';
import { acquireRenderSlot, renderConcurrency } from './render-slots';

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

/** What the worker is given when it starts (workerData); each job is then a posted RenderJob. */
export interface RenderWorkerData {
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
  | { type: 'done'; pages: number; heapBytes: number }
  | RenderFailureMessage
  | { type: 'error'; kind: 'write' | 'internal'; message: string };

const PACKAGE_ROOT = path.resolve(__dirname, '..', '..');
// setTimeout's largest delay; a longer one would fire at once.
const MAX_TIMEOUT_MS = 2 ** 31 - 1;
/** How long a worker waits, idle, for another document before it ends. */
export const IDLE_WORKER_MS = 10_000;
/** Documents one worker renders before it is replaced (bounds anything the thread accumulates). */
export const MAX_JOBS_PER_WORKER = 64;
/** A document whose PDFium heap grew past this retires its worker after it. */
export const RETIRE_HEAP_BYTES = 128 * 2 ** 20;

/** A started render worker and how many documents it has rendered. */
interface RenderWorker {
  worker: Worker;
  jobs: number;
  idleTimer?: NodeJS.Timeout;
}

/** Workers that finished a document well, waiting for the next; most recent last. */
const idleWorkers: RenderWorker[] = [];
let workersStarted = 0;

/** Render workers started in this process so far, and how many are idle now (for tests and diagnostics). */
export function renderWorkerCounts(): { started: number; idle: number } {
  return { started: workersStarted, idle: idleWorkers.length };
}

/** Ends the idle render workers now (a host shutting down, or a test that counts threads). */
export async function closeIdleRenderWorkers(): Promise<void> {
  const closing = idleWorkers.splice(0).map((idle) => {
    clearTimeout(idle.idleTimer);
    return idle.worker.terminate();
  });
  await Promise.all(closing);
}

function startWorker(wasm: WasmModule): RenderWorker {
  const entry = workerEntry();
  const data: RenderWorkerData = { wasm };
  const worker = new Worker(entry.filename, { workerData: data, execArgv: entry.execArgv, env: entry.env });
  workersStarted++;
  const started: RenderWorker = { worker, jobs: 0 };
  // A worker that ends while idle (terminated, or its thread died) leaves the idle list.
  worker.once('exit', () => {
    clearTimeout(started.idleTimer);
    const at = idleWorkers.indexOf(started);
    if (at >= 0) idleWorkers.splice(at, 1);
  });
  return started;
}

function takeWorker(wasm: WasmModule): RenderWorker {
  const idle = idleWorkers.pop();
  if (!idle) return startWorker(wasm);
  clearTimeout(idle.idleTimer);
  idle.worker.ref();
  return idle;
}

function parkWorker(rendered: RenderWorker, heapBytes: number): void {
  rendered.jobs++;
  // One idle worker per render slot at most: more could never be used at once.
  if (
    rendered.jobs >= MAX_JOBS_PER_WORKER ||
    heapBytes > RETIRE_HEAP_BYTES ||
    idleWorkers.length >= renderConcurrency()
  ) {
    void rendered.worker.terminate();
    return;
  }
  rendered.worker.unref();
  rendered.idleTimer = setTimeout(() => void rendered.worker.terminate(), IDLE_WORKER_MS);
  rendered.idleTimer.unref();
  idleWorkers.push(rendered);
}

function workerEntry(): { filename: string; execArgv?: string[]; env?: NodeJS.ProcessEnv } {
  if (path.extname(__filename) !== '.ts') return { filename: path.join(__dirname, 'render-worker.js') };
  return {
    filename: path.join(__dirname, 'render-worker.ts'),
    execArgv: ['--require', require.resolve('ts-node/register/transpile-only')],
    env: { ...process.env, TS_NODE_PROJECT: path.join(PACKAGE_ROOT, 'tsconfig.json') },
  };
}

/**
 * Renders every page of a PDF into a TIFF-F file on a worker thread, once a render slot is
 * free (render-slots.ts). Rejects with a DocumentError for a bad document, with
 * `signal.reason` when aborted (waiting or rendering), with an ImageFileError when the file
 * cannot be written. It settles only once the file is closed (the worker wrote it whole) or
 * abandoned (the worker has ended). On failure the caller removes the file.
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
  const rendering = takeWorker(wasm);
  const { worker } = rendering;

  return new Promise<RenderOutcome>((resolve, reject) => {
    let failure: { error: unknown } | undefined;
    let total = 0;
    let done = 0;
    const detach = (): void => {
      clearTimeout(timer);
      control.signal?.removeEventListener('abort', onAbort);
      worker.off('message', onMessage);
      worker.off('error', onError);
      worker.off('exit', onExit);
    };
    // A failure ends the worker where it is; the render rejects once it has exited, so a
    // partly written file is abandoned (its writer deletes it) before the caller cleans up.
    const fail = (error: unknown): void => {
      if (failure) return;
      failure = { error };
      void worker.terminate();
    };
    const timer = setTimeout(
      () => {
        const at = total > 0 ? ` (${done} of ${total} pages done)` : '';
        fail(
          new DocumentError(
            'corrupt',
            `the PDF could not be rendered within the time limit of ${control.timeLimitMs / 1000} s${at}`,
          ),
        );
      },
      Math.min(control.timeLimitMs, MAX_TIMEOUT_MS),
    );
    const onAbort = (): void => fail(control.signal!.reason);
    control.signal?.addEventListener('abort', onAbort, { once: true });

    const onMessage = (message: RenderMessage): void => {
      if (failure) return;
      switch (message.type) {
        case 'opened':
          total = message.total;
          break;
        case 'page':
          done = message.page;
          try {
            control.onPage?.(message.page, total);
          } catch (error) {
            fail(error);
          }
          break;
        case 'done':
          // The worker closed the file before saying so: the render is over, the worker free.
          detach();
          parkWorker(rendering, message.heapBytes);
          resolve({ pages: message.pages, documentPages: total });
          break;
        case 'failed':
          fail(new DocumentError(message.reason, message.detail));
          break;
        case 'error':
          fail(
            message.kind === 'write'
              ? new ImageFileError(`writing the fax pages to ${job.file} failed: ${message.message}`)
              : new Error(`the render worker failed: ${message.message}`),
          );
          break;
      }
    };
    const onError = (error: Error): void => {
      // ERR_WORKER_OUT_OF_MEMORY and the like: the document exhausted the renderer.
      const code = (error as NodeJS.ErrnoException).code;
      fail(
        code === 'ERR_WORKER_OUT_OF_MEMORY'
          ? new DocumentError('corrupt', 'the renderer ran out of memory on this PDF', { cause: error })
          : error,
      );
    };
    const onExit = (code: number): void => {
      detach();
      reject(failure?.error ?? new Error(`the render worker exited (code ${code}) without a result`));
    };
    worker.on('message', onMessage);
    worker.on('error', onError);
    worker.on('exit', onExit);
    const posted: RenderJob = { ...job, pdf };
    worker.postMessage(posted, [pdf.buffer]);
  });
}
