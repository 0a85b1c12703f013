/** What `faxline send --received DIR` writes: the receiver's pages as TIFF, PNGs and one PDF, and the ladder. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { LoopbackCall } from '../engine/loopback';
import { pageToPng, type FaxPage } from '../engine/page';
import { traceToSvg, type T30Trace } from '../engine/trace';

const POINTS_PER_INCH = 72;

/**
 * One PDF with every page at its physical size: a fax page is 1728 dots at 204 dpi wide and
 * its rows at 98, 196 or 391 dpi, so each PNG is stretched to width/xDpi by height/yDpi inches.
 */
async function pagesToPdf(pages: readonly FaxPage[], pngs: readonly Buffer[]): Promise<Uint8Array> {
  // Loaded on demand: only --received needs it.
  const { PDFDocument } = await import('pdf-lib');
  const doc = await PDFDocument.create();
  doc.setProducer('faxline');
  doc.setTitle('Received fax');
  for (const [i, page] of pages.entries()) {
    const width = (page.width / page.xDpi) * POINTS_PER_INCH;
    const height = (page.height / page.yDpi) * POINTS_PER_INCH;
    const image = await doc.embedPng(pngs[i]!);
    doc.addPage([width, height]).drawImage(image, { x: 0, y: 0, width, height });
  }
  return doc.save();
}

/**
 * Writes received.tif, page-NNN.png and received.pdf (when pages arrived) and ladder.svg into
 * dir. `call` is null when the fax failed before the line was used (the ladder still shows why).
 */
export async function writeReceived(
  dir: string,
  call: LoopbackCall | null,
  trace: T30Trace,
  title: string,
): Promise<string[]> {
  await fs.promises.mkdir(dir, { recursive: true });
  const written: string[] = [];
  const write = async (name: string, data: string | Uint8Array): Promise<void> => {
    await fs.promises.writeFile(path.join(dir, name), data);
    written.push(name);
  };
  const pages = call?.receivedPages ?? [];
  if (call?.receivedTiff) await write('received.tif', call.receivedTiff);
  const pngs = pages.map((page) => pageToPng(page)); // encoded once, for the files and the PDF
  for (const [i, png] of pngs.entries()) await write(`page-${String(i + 1).padStart(3, '0')}.png`, png);
  if (pages.length > 0) await write('received.pdf', await pagesToPdf(pages, pngs));
  await write('ladder.svg', traceToSvg(trace, { title }));
  return written;
}
