/** Synthetic fax pages for tests: deterministic, text-like, and different per seed. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { rowBytes, writeTiffF, type FaxPage, type TiffCompression } from '../../lib';

/** A small deterministic PRNG (mulberry32), so every run sends the same pages. */
export function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function setPixel(page: FaxPage, x: number, y: number): void {
  page.data[y * rowBytes(page) + (x >> 3)]! |= 0x80 >> (x & 7);
}

/**
 * An A4 page at fine resolution with lines of "words" (black blocks with holes, like glyphs),
 * a frame and a page-number barcode, so pages differ and a wrong or shifted row shows.
 */
export function textPage(seed: number, options: { height?: number; yDpi?: number } = {}): FaxPage {
  const yDpi = options.yDpi ?? 196;
  const height = options.height ?? Math.round((297 / 25.4) * yDpi);
  const page: FaxPage = { width: 1728, height, xDpi: 204, yDpi, data: new Uint8Array(216 * height) };
  const rnd = random(seed);
  const lineHeight = Math.max(6, Math.round(yDpi / 10));
  for (let top = 60; top + lineHeight < height - 60; top += Math.round(lineHeight * 1.6)) {
    let x = 100;
    while (x < 1600) {
      const wordWidth = 20 + Math.floor(rnd() * 120);
      // Glyph-like: vertical strokes of a few widths with a cross bar, no speckle, so pages
      // code to the tens of kilobytes real text does.
      const bar = top + Math.floor(rnd() * lineHeight);
      for (let xx = x; xx < Math.min(x + wordWidth, 1628); xx++) {
        const stroke = (xx - x) % 9 < 2 + (seed % 3);
        for (let y = top; y < top + lineHeight; y++) if (stroke || y === bar) setPixel(page, xx, y);
      }
      x += wordWidth + 15 + Math.floor(rnd() * 20);
    }
  }
  for (let x = 40; x < 1688; x++) {
    setPixel(page, x, 20);
    setPixel(page, x, height - 21);
  }
  for (let bit = 0; bit < 16; bit++) {
    if ((seed >> bit) & 1)
      for (let y = 30; y < 50; y++) for (let x = 60 + bit * 12; x < 68 + bit * 12; x++) setPixel(page, x, y);
  }
  return page;
}

/** A temp folder removed by the returned cleanup function. */
export function tempDir(): { dir: string; cleanup: () => void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'faxline-test-'));
  return { dir, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

/** Writes n text pages to a TIFF-F file in dir and returns its path and the pages. */
export function writeTextDocument(
  dir: string,
  n: number,
  options: { compression?: TiffCompression; yDpi?: number; name?: string; firstSeed?: number } = {},
): { file: string; pages: FaxPage[] } {
  const pages = Array.from({ length: n }, (_, i) => textPage((options.firstSeed ?? 1) + i, { yDpi: options.yDpi }));
  const file = path.join(dir, options.name ?? `doc-${n}.tif`);
  writeTiffF(file, pages, options.compression ?? 't6');
  return { file, pages };
}

/**
 * A 2-page TIFF-F whose second page claims 100 kB more coded data than the file holds: its
 * tags read fine, its pixels cannot be decoded.
 */
export function writeDamagedTiff(dir: string): string {
  const { file } = writeTextDocument(dir, 2, { name: 'damaged.tif', firstSeed: 7 });
  const bytes = fs.readFileSync(file);
  const entriesOf = (ifd: number) => bytes.readUInt16LE(ifd);
  const secondIfd = bytes.readUInt32LE(bytes.readUInt32LE(4) + 2 + 12 * entriesOf(bytes.readUInt32LE(4)));
  const STRIP_BYTE_COUNTS = 279;
  let patched = false;
  for (let i = 0; i < entriesOf(secondIfd); i++) {
    const entry = secondIfd + 2 + 12 * i;
    if (bytes.readUInt16LE(entry) !== STRIP_BYTE_COUNTS) continue;
    // One LONG (type 4), held in the entry itself.
    if (bytes.readUInt16LE(entry + 2) !== 4 || bytes.readUInt32LE(entry + 4) !== 1) throw new Error('not one LONG');
    bytes.writeUInt32LE(bytes.readUInt32LE(entry + 8) + 100_000, entry + 8);
    patched = true;
  }
  if (!patched) throw new Error('no StripByteCounts in the second directory');
  fs.writeFileSync(file, bytes);
  return file;
}

/** Number of rows that differ between two pages (all rows when sizes differ). */
export function differingRows(a: FaxPage, b: FaxPage): number {
  if (a.width !== b.width || a.height !== b.height) return Math.max(a.height, b.height);
  const stride = rowBytes(a);
  let rows = 0;
  for (let y = 0; y < a.height; y++) {
    const ra = a.data.subarray(y * stride, (y + 1) * stride);
    const rb = b.data.subarray(y * stride, (y + 1) * stride);
    if (Buffer.compare(ra, rb) !== 0) rows++;
  }
  return rows;
}

/** Whether a row of the page has any black pixel. */
export function rowHasInk(page: FaxPage, y: number): boolean {
  const stride = rowBytes(page);
  return page.data.subarray(y * stride, (y + 1) * stride).some((b) => b !== 0);
}

/**
 * For a test file: a temp folder with a one-page TIFF-F document, made before all tests and
 * removed after. Read `.document` and `.dir` inside tests.
 */
export function useTempDocument(): { dir: string; document: string } {
  const state = { dir: '', document: '' };
  let cleanup = (): void => undefined;
  beforeAll(() => {
    const tmp = tempDir();
    cleanup = tmp.cleanup;
    state.dir = tmp.dir;
    state.document = writeTextDocument(tmp.dir, 1).file;
  });
  afterAll(() => cleanup());
  return state;
}
