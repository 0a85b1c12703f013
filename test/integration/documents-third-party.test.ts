/**
 * Real PDFs made by other programs (LaTeX, dblatex, cairo, LibreOffice), taken from Debian
 * packages by test/fixtures/fetch-pdfs.sh (see test/fixtures/pdfs/README.md), which jest's
 * global setup runs when they are missing.
 */
import { readTiffPages, type FaxPage } from '../../lib';
import { preparePdf, type PrepareOptions } from '../../lib/document';
import {
  blurredSsim,
  grayRenders,
  inkBox,
  inkShare,
  makePdf,
  pageCountOf,
  pickPages,
  thirdParty,
  type ThirdPartyFile,
} from '../helpers/pdfs';

const FILES: ThirdPartyFile[] = [
  'gnuplot.pdf',
  'gs9-color-management.pdf',
  'debian-reference-ja.pdf',
  'package-lifecycle.pdf',
  'cups-testpage.pdf',
  'cups-form.pdf',
  'grace_hopper.jpg',
];
const missing = FILES.filter((name) => thirdParty(name) === undefined);

test('the third-party fixtures are present (test/fixtures/fetch-pdfs.sh)', () => {
  expect(missing).toEqual([]);
});

const file = (name: ThirdPartyFile): Buffer => thirdParty(name)!;

/** Fax pages of a PDF, and how much each resembles its own gray render. */
async function faxWithResemblance(
  pdf: Uint8Array,
  options: PrepareOptions = {},
): Promise<{ pages: FaxPage[]; ssim: number[] }> {
  const prepared = await preparePdf(pdf, options);
  try {
    const pages = readTiffPages(prepared.file);
    const references = await grayRenders(pdf, options.resolution ?? 'fine');
    expect(references).toHaveLength(pages.length);
    return { pages, ssim: pages.map((page, i) => blurredSsim(page, references[i]!)) };
  } finally {
    await prepared.cleanup();
  }
}

describe('third-party PDFs', () => {
  test('a whole LaTeX manual with photographs (42 pages) keeps its page count', async () => {
    const pdf = file('gs9-color-management.pdf');
    const prepared = await preparePdf(pdf, { resolution: 'standard' });
    try {
      expect(prepared.pages).toBe(await pageCountOf(pdf));
      expect(prepared.pages).toBe(42);
      const pages = readTiffPages(prepared.file);
      // US Letter at standard resolution, every page with something on it.
      for (const page of pages) expect(page).toMatchObject({ width: 1728, height: 1076 });
      expect(pages.filter((page) => inkBox(page) === null)).toHaveLength(0);
    } finally {
      await prepared.cleanup();
    }
  });

  test('text pages (gnuplot manual, LaTeX, Letter): the text block sits inside the margins', async () => {
    const pdf = await pickPages(file('gnuplot.pdf'), [5, 40, 120]);
    const { pages, ssim } = await faxWithResemblance(pdf);
    expect(pages).toHaveLength(3);
    for (const page of pages) {
      expect(page).toMatchObject({ width: 1728, height: 2151 });
      const box = inkBox(page)!;
      // LaTeX's margins on Letter are well over 15 mm on every side.
      expect(box.left).toBeGreaterThan(15 * 8);
      expect(box.right).toBeLessThan(1728 - 15 * 8);
      expect(box.top).toBeGreaterThan(10 * 7.7);
      expect(box.bottom).toBeLessThan(2151 - 10 * 7.7);
    }
    for (const value of ssim) expect(value).toBeGreaterThan(0.9);
  });

  test('Japanese text (CJK, embedded CID fonts) renders its glyphs', async () => {
    const pdf = await pickPages(file('debian-reference-ja.pdf'), [20, 21]);
    const { pages, ssim } = await faxWithResemblance(pdf);
    expect(pages).toHaveLength(2);
    for (const page of pages) {
      expect(page).toMatchObject({ width: 1728, height: 2287 });
      // A page of dense CJK text: a few percent of its area is ink.
      expect(inkShare(page, 0, 0, page.width, page.height)).toBeGreaterThan(0.01);
    }
    for (const value of ssim) expect(value).toBeGreaterThan(0.9);
  });

  test('pages with colour photographs become readable halftones', async () => {
    const pdf = await pickPages(file('gs9-color-management.pdf'), [18, 20]);
    const { pages, ssim } = await faxWithResemblance(pdf);
    expect(pages).toHaveLength(2);
    for (const value of ssim) expect(value).toBeGreaterThan(0.8);
  });

  test('a photograph (JPEG) placed on a page', async () => {
    const pdf = await makePdf([{ jpeg: { bytes: file('grace_hopper.jpg'), box: [20, 20, 170, 200] } }]);
    const { pages, ssim } = await faxWithResemblance(pdf);
    const share = inkShare(pages[0]!, 30 * 8, 30 * 7.7, 180 * 8, 210 * 7.7);
    expect(share).toBeGreaterThan(0.1);
    expect(share).toBeLessThan(0.9);
    expect(ssim[0]).toBeGreaterThan(0.65);
  });

  test('vector drawings (the CUPS test page, cairo, A4)', async () => {
    const { pages, ssim } = await faxWithResemblance(file('cups-testpage.pdf'));
    expect(pages).toHaveLength(1);
    expect(pages[0]).toMatchObject({ width: 1728, height: 2287 });
    // The drawings fill the upper half; the lower half of an A4 test page is blank.
    expect(inkShare(pages[0]!, 0, 0, 1728, 1143)).toBeGreaterThan(0.02);
    expect(ssim[0]).toBeGreaterThan(0.75);
  });

  test('a tall vector diagram (877 × 1932 pt) is scaled to the line, one page of its own length', async () => {
    const { pages, ssim } = await faxWithResemblance(file('package-lifecycle.pdf'));
    expect(pages).toHaveLength(1);
    // Its MediaBox is 877.32 × 1931.82 pt: 309.5 mm wide, scaled by 216 / 309.5.
    expect(pages[0]).toMatchObject({ width: 1728, height: Math.round((1931.82 / 877.32) * 216 * 7.7) });
    expect(ssim[0]).toBeGreaterThan(0.85);
  });

  test('a form made with LibreOffice (AcroForm)', async () => {
    const { pages, ssim } = await faxWithResemblance(file('cups-form.pdf'));
    expect(pages).toHaveLength(1);
    expect(inkBox(pages[0]!)).not.toBeNull();
    expect(ssim[0]).toBeGreaterThan(0.8);
  });
});
