/** What `faxline send --received DIR` writes: the receiver's pages as TIFF, PNGs and one PDF, and the ladder. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { pagesToPdf } from '../engine/fax-pdf';
import type { LoopbackCall } from '../transports/loopback';
import { pageToPng } from '../engine/page';
import { traceToSvg, type T30Trace } from '../engine/trace';

/** The pages a receiver got, decoded, and its TIFF-F file's bytes (null when it got none). */
export type ReceivedPages = Pick<LoopbackCall, 'receivedPages' | 'receivedTiff'>;

/** Names of the files written into dir. */
const RECEIVED_PDF = 'received.pdf';

/**
 * Writes received.tif, page-NNN.png and received.pdf (when pages arrived) into dir; returns the
 * names written.
 */
export async function writeReceivedPages(dir: string, received: ReceivedPages | null): Promise<string[]> {
  await fs.promises.mkdir(dir, { recursive: true });
  const written: string[] = [];
  const write = async (name: string, data: string | Uint8Array): Promise<void> => {
    await fs.promises.writeFile(path.join(dir, name), data);
    written.push(name);
  };
  const pages = received?.receivedPages ?? [];
  if (received?.receivedTiff) await write('received.tif', received.receivedTiff);
  const pngs = pages.map((page) => pageToPng(page)); // encoded once, for the files and the PDF
  for (const [i, png] of pngs.entries()) await write(`page-${String(i + 1).padStart(3, '0')}.png`, png);
  if (pages.length > 0) await write(RECEIVED_PDF, await pagesToPdf(pages, pngs));
  return written;
}

/** The path of the PDF writeReceivedPages writes into dir. */
export function receivedPdfPath(dir: string): string {
  return path.join(dir, RECEIVED_PDF);
}

/** Writes the T.30 ladder diagram as dir/ladder.svg. */
export async function writeLadder(dir: string, trace: T30Trace, title: string): Promise<string> {
  await fs.promises.mkdir(dir, { recursive: true });
  await fs.promises.writeFile(path.join(dir, 'ladder.svg'), traceToSvg(trace, { title }));
  return 'ladder.svg';
}

/**
 * Writes the received pages (writeReceivedPages) and ladder.svg into dir. `received` is null when
 * the fax failed before the line was used (the ladder still shows why).
 */
export async function writeReceived(
  dir: string,
  received: ReceivedPages | null,
  trace: T30Trace,
  title: string,
): Promise<string[]> {
  const written = await writeReceivedPages(dir, received);
  written.push(await writeLadder(dir, trace, title));
  return written;
}
