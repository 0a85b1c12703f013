/**
 * Received fax pages as one PDF, each page at its physical size. Shared by the CLI's
 * `--received` folder and receive_fax's store, so both write the same PDF.
 */
import { pageToPng, type FaxPage } from './page';

const POINTS_PER_INCH = 72;

/**
 * One PDF with every page at its physical size: a fax page is 1728 dots at 204 dpi wide and
 * its rows at 98, 196 or 391 dpi, so each page's PNG is stretched to width/xDpi by
 * height/yDpi inches. `pngs` are the pages already encoded (by pageToPng), when the caller
 * has them; otherwise they are encoded here.
 */
export async function pagesToPdf(pages: readonly FaxPage[], pngs?: readonly Buffer[]): Promise<Uint8Array> {
  // Loaded on demand: only a received fax needs it.
  const { PDFDocument } = await import('pdf-lib');
  const doc = await PDFDocument.create();
  doc.setProducer('faxline');
  doc.setTitle('Received fax');
  for (const [i, page] of pages.entries()) {
    const width = (page.width / page.xDpi) * POINTS_PER_INCH;
    const height = (page.height / page.yDpi) * POINTS_PER_INCH;
    const image = await doc.embedPng(pngs?.[i] ?? pageToPng(page));
    doc.addPage([width, height]).drawImage(image, { x: 0, y: 0, width, height });
  }
  return doc.save();
}
