import * as fs from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { readTiffPages, type FaxPage } from '../../lib';
import { prepareDocument, preparePdf, type PrepareOptions } from '../../lib/document';
import { LINES_PER_MM, type DocumentResolution } from '../../lib/document/geometry';
import {
  A4,
  A4_LEFT_MM,
  LETTER,
  MM,
  blurredSsim,
  expectBlank,
  expectMark,
  grayRenders,
  inkBox,
  inkShare,
  makePdf,
  type PageSpec,
} from '../helpers/pdfs';
import { tempDir } from '../helpers/pages';

let tmp: ReturnType<typeof tempDir>;
beforeAll(() => (tmp = tempDir()));
afterAll(() => tmp.cleanup());

/** Prepares a PDF, reads its fax pages back, and cleans up. */
async function fax(
  pdf: Uint8Array,
  options: PrepareOptions = {},
): Promise<{ pages: FaxPage[]; documentPages: number }> {
  const prepared = await preparePdf(pdf, options);
  try {
    const pages = readTiffPages(prepared.file);
    expect(pages).toHaveLength(prepared.pages);
    return { pages, documentPages: prepared.documentPages };
  } finally {
    await prepared.cleanup();
  }
}

describe('page count and geometry', () => {
  test.each([
    ['standard', 98, 1143],
    ['fine', 196, 2287],
    ['superfine', 391, 4574],
  ] as const)('three A4 text pages at %s: three pages of 1728 × %i dpi, %i rows', async (resolution, yDpi, rows) => {
    const { pages, documentPages } = await fax(await makePdf([{ text: true }, { text: true }, { text: true }]), {
      resolution,
    });
    expect(documentPages).toBe(3);
    expect(pages).toHaveLength(3);
    for (const page of pages) expect(page).toMatchObject({ width: 1728, height: rows, xDpi: 204, yDpi });
  });

  test('the default resolution is fine', async () => {
    const { pages } = await fax(await makePdf([{ size: LETTER, text: true }]));
    expect(pages[0]).toMatchObject({ width: 1728, height: 2151, yDpi: 196 });
  });

  test('a long document (60 pages) keeps its page count and order, with progress for each page', async () => {
    const specs: PageSpec[] = Array.from({ length: 60 }, (_, i) => ({
      marks: [[20 + (i % 10) * 15, 20 + Math.floor(i / 10) * 20, 10, 10]],
    }));
    const progress: [number, number][] = [];
    const { pages } = await fax(await makePdf(specs), {
      resolution: 'standard',
      onPage: (n, total) => progress.push([n, total]),
    });
    expect(pages).toHaveLength(60);
    expect(progress).toEqual(Array.from({ length: 60 }, (_, i) => [i + 1, 60]));
    pages.forEach((page, i) =>
      expectMark(page, [A4_LEFT_MM + 20 + (i % 10) * 15, 20 + Math.floor(i / 10) * 20, 10, 10], 'standard'),
    );
  });

  test('each of a stored TIFF coding reads back the same pages', async () => {
    const pdf = await makePdf([{ text: true, marks: [[20, 20, 40, 20]] }]);
    const [t6, mh] = [await fax(pdf), await fax(pdf, { compression: 't4-1d' })];
    expect(Buffer.compare(Buffer.from(t6.pages[0]!.data), Buffer.from(mh.pages[0]!.data))).toBe(0);
  });
});

describe('where the content lands on the page', () => {
  test.each(['standard', 'fine', 'superfine'] as DocumentResolution[])(
    'a mark at the top-left of a portrait A4 page is at the top-left of the fax page (%s)',
    async (resolution) => {
      const { pages } = await fax(await makePdf([{ marks: [[20, 10, 30, 15]] }]), { resolution });
      expectMark(pages[0]!, [A4_LEFT_MM + 20, 10, 30, 15], resolution);
      const box = inkBox(pages[0]!)!;
      const lpm = LINES_PER_MM[resolution];
      expect(box.left).toBeCloseTo((A4_LEFT_MM + 20) * 8, -1);
      expect(box.right).toBeCloseTo((A4_LEFT_MM + 50) * 8, -1);
      expect(Math.abs(box.top - 10 * lpm)).toBeLessThanOrEqual(2);
      expect(Math.abs(box.bottom - 25 * lpm)).toBeLessThanOrEqual(2);
    },
  );

  test('text drawn at the top of a page is at the top of the fax page, the rest of the page below it', async () => {
    const { pages } = await fax(await makePdf([{ text: { lines: 3 } }]));
    const box = inkBox(pages[0]!)!;
    // The heading's cap height starts about 18 mm down; three lines end before 55 mm.
    expect(box.top / 7.7).toBeGreaterThan(15);
    expect(box.top / 7.7).toBeLessThan(22);
    expect(box.bottom / 7.7).toBeLessThan(55);
    expectBlank(pages[0]!, [0, 60, 216, 230]);
  });

  test('a landscape page is turned a quarter counter-clockwise: its top runs down the left edge', async () => {
    // 297 × 210 mm; mark at the page's top-left corner area and one at its top-right.
    const { pages } = await fax(
      await makePdf([
        {
          size: [A4[1], A4[0]],
          marks: [
            [10, 10, 40, 20],
            [250, 10, 30, 20],
          ],
        },
      ]),
    );
    const page = pages[0]!;
    expect(page).toMatchObject({ width: 1728, height: 2287 });
    // A point (x, y) of the 297 × 210 page lands at (y, 297 - x) of the portrait fax page.
    expectMark(page, [A4_LEFT_MM + 10, 297 - 50, 20, 40]);
    expectMark(page, [A4_LEFT_MM + 10, 297 - 280, 20, 30]);
    expectBlank(page, [A4_LEFT_MM + 40, 0, 170, 297]);
  });

  test('a page with /Rotate 180 comes out as a viewer shows it: upside down', async () => {
    const { pages } = await fax(await makePdf([{ rotate: 180, marks: [[20, 10, 30, 15]] }]));
    expectMark(pages[0]!, [A4_LEFT_MM + 210 - 50, 297 - 25, 30, 15]);
    expectBlank(pages[0]!, [0, 0, 216, 200]);
  });

  test.each([90, 270] as const)(
    'a portrait page that /Rotate %i shows sideways comes out as authored in its MediaBox, upright',
    async (rotate) => {
      const { pages } = await fax(await makePdf([{ rotate, marks: [[20, 10, 30, 15]] }]));
      expect(pages[0]).toMatchObject({ width: 1728, height: 2287 });
      expectMark(pages[0]!, [A4_LEFT_MM + 20, 10, 30, 15]);
      expectBlank(pages[0]!, [0, 40, 216, 257]);
    },
  );

  test('a landscape MediaBox with /Rotate 90 is portrait as shown: its top on the right', async () => {
    const { pages } = await fax(await makePdf([{ size: [A4[1], A4[0]], rotate: 90, marks: [[10, 10, 40, 20]] }]));
    // Shown rotated clockwise: a point (x, y) of the 297 × 210 MediaBox is at (210 - y, x).
    expectMark(pages[0]!, [A4_LEFT_MM + 210 - 30, 10, 20, 40]);
  });

  test('mixed page sizes each get their own fit', async () => {
    const { pages } = await fax(
      await makePdf([
        { size: A4, marks: [[0, 0, 210, 10]] },
        { size: LETTER, marks: [[0, 0, 215.9, 10]] },
        { size: [148 * MM, 210 * MM], marks: [[0, 0, 148, 10]] },
        { size: [297 * MM, 420 * MM], marks: [[0, 0, 297, 10]] },
        { size: [A4[1], A4[0]], marks: [[0, 0, 10, 210]] },
      ]),
    );
    const expected = [
      [24, 1704, 2287], // A4 at 1:1, centred
      [0, 1727, 2151], // Letter fills the line
      [272, 1456, 1617], // A5 at 1:1, centred
      [0, 1728, Math.round(420 * (216 / 297) * 7.7)], // A3 scaled to the line
      [24, 1704, 2287], // landscape A4 turned: its left edge is now along the bottom
    ];
    expect(pages).toHaveLength(expected.length);
    pages.forEach((page, i) => {
      const box = inkBox(page)!;
      const [left, right, height] = expected[i]!;
      expect(page.height).toBe(height);
      expect(Math.abs(box.left - left!)).toBeLessThanOrEqual(1);
      expect(Math.abs(box.right - right!)).toBeLessThanOrEqual(1);
    });
  });

  test('a tiny page (a business card) stays at its natural size, centred, sharp', async () => {
    const card: [number, number] = [85 * MM, 55 * MM];
    const { pages } = await fax(
      await makePdf([
        {
          size: card,
          marks: [
            [5, 5, 20, 10],
            [0, 45, 85, 10],
          ],
        },
      ]),
    );
    const page = pages[0]!;
    expect(page).toMatchObject({ width: 1728, height: 424 });
    const left = (1728 - 680) / 2 / 8;
    expectMark(page, [left + 5, 5, 20, 10]);
    expect(inkBox(page)).toMatchObject({ left: 524, right: 524 + 680 });
  });

  test('a 200 × 200 inch MediaBox is scaled to the line like any page, quickly', async () => {
    const inches = 200 * 72;
    const started = Date.now();
    // A black square in the middle half of the page.
    const side = inches / MM / 2;
    const { pages } = await fax(await makePdf([{ size: [inches, inches], marks: [[side / 2, side / 2, side, side]] }]));
    expect(Date.now() - started).toBeLessThan(20_000);
    expect(pages[0]).toMatchObject({ width: 1728, height: Math.round(216 * 7.7) });
    expectMark(pages[0]!, [54, 54, 108, 108]);
    expectBlank(pages[0]!, [0, 0, 216, 50]);
  });

  test('a page longer than three A4 lengths is cut into A4-length pieces between its lines', async () => {
    // An 80 × 1500 mm receipt: a line of "text" (a 3 mm bar) every 10 mm.
    const marks: [number, number, number, number][] = Array.from({ length: 149 }, (_, i) => [5, 5 + i * 10, 70, 3]);
    const { pages, documentPages } = await fax(await makePdf([{ size: [80 * MM, 1500 * MM], marks }]));
    expect(documentPages).toBe(1);
    expect(pages).toHaveLength(6);
    const rows = pages.map((page) => page.height);
    for (const height of rows) expect(height).toBeLessThanOrEqual(2287);
    expect(rows.reduce((a, b) => a + b)).toBe(Math.round(1500 * 7.7));
    // No bar is cut: every piece starts and ends on blank rows.
    for (const page of pages) {
      expect(inkShare(page, 0, 0, 1728, 1)).toBe(0);
      expect(inkShare(page, 0, page.height - 1, 1728, page.height)).toBe(0);
    }
  });
});

describe('what the pages look like', () => {
  // How much each 1-bit page resembles the gray render it came from (blurred SSIM, see
  // test/helpers/pdfs.ts): low only if the conversion lost or invented structure.
  test.each([
    ['text', { text: true }, 0.9],
    ['vector drawings', { vector: true }, 0.85],
    ['a photo-like image', { photo: [10, 10, 190, 140] }, 0.8],
    ['form fields', { form: true }, 0.9],
  ] as [string, PageSpec, number][])('%s resemble their gray render', async (_, spec, minimum) => {
    const pdf = await makePdf([spec]);
    const { pages } = await fax(pdf);
    const [reference] = await grayRenders(pdf, 'fine');
    expect(blurredSsim(pages[0]!, reference!)).toBeGreaterThan(minimum);
  });

  test('a photo becomes a halftone: mid-tones of mixed black and white, not solid black or white', async () => {
    const { pages } = await fax(await makePdf([{ photo: [10, 10, 190, 140] }]));
    const share = inkShare(pages[0]!, (A4_LEFT_MM + 20) * 8, 20 * 7.7, (A4_LEFT_MM + 190) * 8, 140 * 7.7);
    expect(share).toBeGreaterThan(0.1);
    expect(share).toBeLessThan(0.9);
  });

  test('filled form fields print their values', async () => {
    const { pages } = await fax(await makePdf([{ form: true }]));
    // The text field (from 120 pt, 100 pt down) holds "Grace Hopper"; the checkbox is checked.
    const field = inkShare(
      pages[0]!,
      A4_LEFT_MM * 8 + (125 / MM) * 8,
      (72 / MM) * 7.7,
      A4_LEFT_MM * 8 + (415 / MM) * 8,
      (98 / MM) * 7.7,
    );
    const checkbox = inkShare(
      pages[0]!,
      A4_LEFT_MM * 8 + (124 / MM) * 8,
      (136 / MM) * 7.7,
      A4_LEFT_MM * 8 + (144 / MM) * 8,
      (156 / MM) * 7.7,
    );
    expect(field).toBeGreaterThan(0.02);
    expect(checkbox).toBeGreaterThan(0.05);
  });
});

describe('memory', () => {
  test('200 pages are rendered one at a time: memory does not grow with the page count', async () => {
    const specs: PageSpec[] = Array.from({ length: 200 }, (_, i) =>
      i % 10 === 0 ? { photo: [10, 10, 190, 270] } : { text: { seed: i } },
    );
    const rss: number[] = [];
    const { pages } = await fax(await makePdf(specs), {
      resolution: 'superfine',
      onPage: () => rss.push(process.memoryUsage().rss),
    });
    expect(pages).toHaveLength(200);
    // After the first pages (PDFium's caches, the worker's heap) the process stays flat: a
    // leak of even one 1728 × 4574 page a page would add 1.5 GB by the end.
    const settled = Math.max(...rss.slice(10, 30));
    expect(Math.max(...rss.slice(30)) - settled).toBeLessThan(100 * 1024 * 1024);
  });
});

describe('prepareDocument', () => {
  test('fetches a file: URL and leaves the TIFF in a private temp folder until cleanup', async () => {
    const file = `${tmp.dir}/two.pdf`;
    fs.writeFileSync(file, await makePdf([{ text: true }, { vector: true }]));
    const prepared = await prepareDocument(pathToFileURL(file).href, { allowFiles: true });
    expect(prepared.pages).toBe(2);
    expect(fs.existsSync(prepared.file)).toBe(true);
    expect((fs.statSync(path.dirname(prepared.file)).mode & 0o777).toString(8)).toBe('700');
    await prepared.cleanup();
    expect(fs.existsSync(prepared.file)).toBe(false);
    await expect(prepared.cleanup()).resolves.toBeUndefined();
  });

  test('fetches a data: URL', async () => {
    const pdf = Buffer.from(await makePdf([{ marks: [[20, 10, 30, 15]] }]));
    const prepared = await prepareDocument(`data:application/pdf;base64,${pdf.toString('base64')}`, {
      resolution: 'standard',
    });
    try {
      expect(prepared.pages).toBe(1);
      expectMark(readTiffPages(prepared.file)[0]!, [A4_LEFT_MM + 20, 10, 30, 15], 'standard');
    } finally {
      await prepared.cleanup();
    }
  });

  test('documents prepared at the same time each get their own pages and file', async () => {
    const pdfs = await Promise.all([1, 2, 3].map((n) => makePdf(Array.from({ length: n }, () => ({ text: true })))));
    const prepared = await Promise.all(pdfs.map((pdf) => preparePdf(pdf)));
    expect(prepared.map((p) => p.pages)).toEqual([1, 2, 3]);
    expect(new Set(prepared.map((p) => p.file)).size).toBe(3);
    await Promise.all(prepared.map((p) => p.cleanup()));
  });
});
