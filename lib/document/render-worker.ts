/**
 * The render worker, on its own thread (see render.ts for when one is reused). For each job
 * the parent posts, it instantiates a fresh PDFium from the compiled module, opens the PDF
 * and, page by page, renders 8-bit gray at fax geometry, converts it to 1-bit
 * (native.grayToBilevel) and appends it to the TIFF-F (native.TiffFWriter), so at any time
 * it holds the PDF and one page. It reports progress and the outcome as RenderMessages, then
 * waits for the next job; the parent terminates it on abort, timeout or any failure.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { native, type NativeTiffFWriter } from '../native';
import { FAX_LINE_PX, X_DPI } from './geometry';
import { PdfRenderer, RenderFailure } from './pdf-renderer';
import { instantiatePdfium, isWasmRuntimeError } from './pdfium';
import type { RenderJob, RenderMessage, RenderWorkerData } from './render';

/** A failure writing the TIFF (disk full, permissions): not the document's fault. */
class WriteFailure extends Error {}

/** The document page being rendered (1-based; 0 before the first), for messages. */
let currentPage = 0;

function post(message: RenderMessage): void {
  parentPort!.postMessage(message);
}

function writing<T>(call: () => T): T {
  try {
    return call();
  } catch (error) {
    throw new WriteFailure(error instanceof Error ? error.message : String(error));
  }
}

function run(job: RenderJob, renderer: PdfRenderer): number {
  const total = renderer.pageCount;
  if (total <= 0) throw new RenderFailure('no-pages', 'the PDF has no pages');
  if (total > job.maxPages) {
    throw new RenderFailure('too-many-pages', `the PDF has ${total} pages, more than the limit of ${job.maxPages}`);
  }
  post({ type: 'opened', total });
  const writer: NativeTiffFWriter = writing(() => new native.TiffFWriter(job.file, job.compression));
  let faxPages = 0;
  for (let index = 0; index < total; index++) {
    currentPage = index + 1;
    faxPages += renderer.renderPage(index, job.resolution, ({ gray, rows }, layout) => {
      const page = native.grayToBilevel(gray, FAX_LINE_PX, rows, {
        mode: job.conversion,
        xDpi: X_DPI,
        yDpi: layout.yDpi,
      });
      writing(() => writer.addPage(page));
    });
    post({ type: 'page', page: currentPage });
  }
  // Not closed on failure: an unclosed writer deletes its partial file.
  writing(() => writer.close());
  return faxPages;
}

async function render(job: RenderJob): Promise<void> {
  currentPage = 0;
  try {
    // A fresh instance, with a fresh memory, per document: nothing one document left in
    // PDFium's heap can reach the next, and the last one's memory goes with its instance.
    const pdfium = await instantiatePdfium((workerData as RenderWorkerData).wasm);
    const renderer = new PdfRenderer(pdfium, job.pdf);
    // PDFium has its own copy now.
    job.pdf = new Uint8Array(0);
    try {
      const pages = run(job, renderer);
      post({ type: 'done', pages, heapBytes: pdfium.HEAPU8.byteLength });
    } finally {
      renderer.close();
    }
  } catch (error) {
    if (error instanceof RenderFailure) post({ type: 'failed', reason: error.reason, detail: error.detail });
    else if (error instanceof WriteFailure) post({ type: 'error', kind: 'write', message: error.message });
    else if (isWasmRuntimeError(error)) {
      // PDFium trapping or aborting (out of its 2 GB, say) is the document breaking the renderer.
      const where = currentPage > 0 ? ` on page ${currentPage}` : ' opening it';
      post({ type: 'failed', reason: 'corrupt', detail: `the renderer failed on this PDF${where} (${error.message})` });
    } else {
      post({
        type: 'error',
        kind: 'internal',
        message: error instanceof Error ? (error.stack ?? error.message) : String(error),
      });
    }
  }
}

parentPort!.on('message', (job: RenderJob) => void render(job));
