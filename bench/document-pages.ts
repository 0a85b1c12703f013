/**
 * The documents benchmark's pages, in one place: the benchmark part (parts/documents.ts) and
 * the tools that measure the conversion (tools/convert-timing.ts) use the same ones.
 */
import { readImageHeader } from '../lib/document/image-document';
import { PHOTO_FILES, makePdf, thirdParty, type PageSpec, type PhotoFile } from '../test/helpers/pdfs';

/** The text pages: gnuplot.pdf pages 21-30 (0-based indexes). */
export const TEXT_PAGES: readonly number[] = Array.from({ length: 10 }, (_, i) => 20 + i);

/** Pages of GS9_Color_Management.pdf (0-based) with photographs beside text and diagrams. */
export const MIXED_PAGES: readonly number[] = [17, 18, 20];

/**
 * A4 pages with one photograph each, as large as 190 × 277 mm allows at its aspect. Without
 * `partial`, undefined when any file is missing; with it, the pages of the files there are
 * (undefined when none is).
 */
export async function photoPages(
  files: readonly PhotoFile[] = PHOTO_FILES,
  partial = false,
): Promise<Uint8Array | undefined> {
  const pages: PageSpec[] = [];
  for (const name of files) {
    const bytes = thirdParty(name);
    if (!bytes) {
      if (partial) continue;
      return undefined;
    }
    const { width, height } = readImageHeader(bytes);
    const scale = Math.min(190 / width, 277 / height);
    const [w, h] = [width * scale, height * scale];
    const box: [number, number, number, number] = [10 + (190 - w) / 2, 10, w, h];
    pages.push(name.endsWith('.png') ? { png: { bytes, box } } : { jpeg: { bytes, box } });
  }
  return pages.length > 0 ? makePdf(pages) : undefined;
}
