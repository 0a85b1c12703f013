/**
 * PDFs for the document tests and the documents benchmark: generated ones (pdf-lib: text,
 * photo-like images, vector drawings, forms, rotations, odd sizes, encryption written by hand),
 * the third-party ones test/fixtures/fetch-pdfs.sh fetches, and ways to look at fax pages:
 * where the ink is, and how much a 1-bit page resembles a gray render (blurred SSIM).
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { PDFDocument, StandardFonts, degrees, rgb, type PDFFont, type PDFPage } from 'pdf-lib';
import { PNG } from 'pngjs';
import { rowBytes, type FaxPage } from '../../lib';
import { FAX_LINE_PX, LINES_PER_MM, PX_PER_MM, type DocumentResolution } from '../../lib/document/geometry';
import { PdfRenderer } from '../../lib/document/pdf-renderer';
import { compiledPdfium, instantiatePdfium, type Pdfium } from '../../lib/document/pdfium';
import { random } from './pages';

/** Page sizes in points. */
export const A4: [number, number] = [595.28, 841.89];
export const LETTER: [number, number] = [612, 792];
export const MM = 72 / 25.4;

const WORDS =
  'the quick brown fax jumps over lazy modems while seven receivers confirm each page of the document in order'.split(
    ' ',
  );

/** What a page of a generated PDF holds; drawn in the page's own (unrotated) coordinates. */
export interface PageSpec {
  /** [width, height] in points (default A4). */
  size?: [number, number];
  /** The page's /Rotate. */
  rotate?: 0 | 90 | 180 | 270;
  /** A heading at the top and paragraphs of body text below it. */
  text?: boolean | { lines?: number; size?: number; seed?: number };
  /**
   * Black rectangles, in millimetres from the page's top-left corner (of its MediaBox, before
   * /Rotate): [left, top, width, height].
   */
  marks?: [number, number, number, number][];
  /** A photo-like image (smooth gradients and shapes) filling this box in mm, [left, top, width, height]. */
  photo?: [number, number, number, number];
  /** A real photograph (JPEG bytes) filling this box in mm. */
  jpeg?: { bytes: Uint8Array; box: [number, number, number, number] };
  /** A PNG image filling this box in mm. */
  png?: { bytes: Uint8Array; box: [number, number, number, number] };
  /** Vector art: circles, a grid, curves and thin lines. */
  vector?: boolean;
  /** Form fields with values: a text field, a checked checkbox, a dropdown. */
  form?: boolean;
}

function pageHeight(page: PDFPage): number {
  return page.getMediaBox().height;
}

/** A rectangle given from the top-left in mm, in PDF user space (from the bottom-left in points). */
function box(page: PDFPage, [left, top, width, height]: [number, number, number, number]) {
  return { x: left * MM, y: pageHeight(page) - (top + height) * MM, width: width * MM, height: height * MM };
}

function drawText(
  page: PDFPage,
  fonts: { regular: PDFFont; bold: PDFFont },
  spec: Exclude<PageSpec['text'], undefined>,
): void {
  const options = typeof spec === 'object' ? spec : {};
  const size = options.size ?? 11;
  const rnd = random(options.seed ?? 1);
  const { width } = page.getMediaBox();
  const top = pageHeight(page);
  page.drawText('Faxline document test', { x: 20 * MM, y: top - 25 * MM, size: 20, font: fonts.bold });
  const lines = options.lines ?? Math.floor((top - 60 * MM) / (size * 1.4));
  let y = top - 40 * MM;
  for (let i = 0; i < lines && y > 15 * MM; i++, y -= size * 1.4) {
    let line = '';
    while (fonts.regular.widthOfTextAtSize(`${line} xxxxxxxxxx`, size) < width - 40 * MM) {
      line += `${line ? ' ' : ''}${WORDS[Math.floor(rnd() * WORDS.length)]!}`;
    }
    page.drawText(line, { x: 20 * MM, y, size, font: fonts.regular });
  }
}

const photoCache = new Map<string, Buffer>();

/** A continuous-tone RGB image like a photograph: sky gradient, a sun, hills, soft texture. */
export function photoPng(width = 600, height = 450, seed = 1): Buffer {
  const key = `${width}x${height}#${seed}`;
  const cached = photoCache.get(key);
  if (cached) return cached;
  const png = new PNG({ width, height });
  const rnd = random(seed);
  const blobs = Array.from({ length: 6 }, () => ({
    x: rnd() * width,
    y: rnd() * height,
    r: 30 + rnd() * 90,
    v: rnd(),
  }));
  // Math's functions are slow in loops under jest (see convolve): tables, and ** 0.5 for roots.
  const hills = Float32Array.from({ length: width }, (_, x) => height * (0.55 + 0.1 * Math.sin(x / 70)));
  const waveX = Float32Array.from({ length: width }, (_, x) => Math.sin(x / 3.1));
  const waveY = Float32Array.from({ length: height }, (_, y) => Math.sin(y / 4.3));
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const horizon = hills[x]!;
      let v = y < horizon ? 0.95 - 0.5 * (y / horizon) : 0.25 + 0.35 * ((y - horizon) / (height - horizon));
      const sun = ((x - width * 0.72) ** 2 + (y - height * 0.25) ** 2) ** 0.5;
      if (sun < 50) v = 1 - 0.2 * (sun / 50);
      for (const b of blobs) {
        const d = ((x - b.x) ** 2 + (y - b.y) ** 2) ** 0.5 / b.r;
        if (d < 1) v = v * d + b.v * (1 - d);
      }
      v += 0.06 * waveX[x]! * waveY[y]!;
      const i = (y * width + x) * 4;
      const c = v <= 0 ? 0 : v >= 1 ? 255 : (v * 255 + 0.5) | 0;
      png.data[i] = c;
      png.data[i + 1] = c < 20 ? 0 : c - 20;
      png.data[i + 2] = c > 230 ? 255 : c + 25;
      png.data[i + 3] = 255;
    }
  }
  // Unfiltered: pngjs's filter search is slow under jest, and the size does not matter here.
  const bytes = PNG.sync.write(png, { filterType: 0 });
  photoCache.set(key, bytes);
  return bytes;
}

function drawVector(page: PDFPage): void {
  const { width } = page.getMediaBox();
  const top = pageHeight(page);
  for (let i = 0; i < 6; i++) {
    page.drawCircle({ x: 60 + i * 80, y: top - 120, size: 30, borderColor: rgb(0, 0, 0), borderWidth: 1 + i });
  }
  for (let i = 0; i <= 20; i++) {
    page.drawLine({
      start: { x: 50, y: top - 200 - i * 10 },
      end: { x: width - 50, y: top - 200 - i * 10 },
      thickness: 0.5,
    });
    page.drawLine({ start: { x: 50 + i * 24, y: top - 200 }, end: { x: 50 + i * 24, y: top - 400 }, thickness: 0.5 });
  }
  page.drawSvgPath('M 0 0 C 100 -150 200 150 300 0 S 450 -100 480 40', {
    x: 60,
    y: top - 520,
    borderColor: rgb(0, 0, 0),
    borderWidth: 3,
  });
  page.drawSvgPath('M 0 0 L 120 0 L 60 -100 Z', { x: 220, y: top - 600, color: rgb(0.2, 0.2, 0.2) });
  page.drawRectangle({
    x: 380,
    y: top - 720,
    width: 150,
    height: 90,
    borderColor: rgb(0, 0, 0),
    borderWidth: 2,
    color: rgb(0.85, 0.85, 0.85),
  });
}

function drawForm(doc: PDFDocument, page: PDFPage, index: number, font: PDFFont): void {
  const form = doc.getForm();
  const top = pageHeight(page);
  page.drawText('Name:', { x: 50, y: top - 90, size: 14, font });
  const name = form.createTextField(`name-${index}`);
  name.setText('Grace Hopper');
  name.addToPage(page, { x: 120, y: top - 100, width: 300, height: 30, font });
  page.drawText('Agree:', { x: 50, y: top - 150, size: 14, font });
  const agree = form.createCheckBox(`agree-${index}`);
  agree.addToPage(page, { x: 120, y: top - 160, width: 28, height: 28 });
  agree.check();
  const choice = form.createDropdown(`choice-${index}`);
  choice.addOptions(['Standard', 'Fine', 'Superfine']);
  choice.select('Superfine');
  choice.addToPage(page, { x: 120, y: top - 220, width: 200, height: 30, font });
}

/** A PDF of the given pages. */
export async function makePdf(pages: PageSpec[], options: { useObjectStreams?: boolean } = {}): Promise<Uint8Array> {
  const doc = await PDFDocument.create();
  const fonts = {
    regular: await doc.embedFont(StandardFonts.Helvetica),
    bold: await doc.embedFont(StandardFonts.HelveticaBold),
  };
  let photo: Awaited<ReturnType<PDFDocument['embedPng']>> | undefined;
  for (const [index, spec] of pages.entries()) {
    const page = doc.addPage(spec.size ?? A4);
    if (spec.rotate) page.setRotation(degrees(spec.rotate));
    if (spec.text) drawText(page, fonts, spec.text);
    for (const mark of spec.marks ?? []) page.drawRectangle({ ...box(page, mark), color: rgb(0, 0, 0) });
    if (spec.photo) {
      photo ??= await doc.embedPng(photoPng());
      page.drawImage(photo, box(page, spec.photo));
    }
    if (spec.jpeg) page.drawImage(await doc.embedJpg(spec.jpeg.bytes), box(page, spec.jpeg.box));
    if (spec.png) page.drawImage(await doc.embedPng(spec.png.bytes), box(page, spec.png.box));
    if (spec.vector) drawVector(page);
    if (spec.form) drawForm(doc, page, index, fonts.regular);
  }
  return doc.save({ useObjectStreams: options.useObjectStreams ?? true });
}

/** A PDF with no pages at all (a valid file whose page tree is empty). */
export async function emptyPdf(): Promise<Uint8Array> {
  return (await PDFDocument.create()).save({ addDefaultPage: false });
}

// --- Encryption (PDF Standard security handler, revision 2: RC4 with a 40-bit key) -------

const PASSWORD_PAD = Buffer.from('28bf4e5e4e758a4164004e56fffa01082e2e00b6d0683e802f0ca9fe6453697a', 'hex');

function rc4(key: Buffer, data: Buffer): Buffer {
  const s = Array.from({ length: 256 }, (_, i) => i);
  for (let i = 0, j = 0; i < 256; i++) {
    j = (j + s[i]! + key[i % key.length]!) & 0xff;
    [s[i], s[j]] = [s[j]!, s[i]!];
  }
  const out = Buffer.alloc(data.length);
  for (let n = 0, i = 0, j = 0; n < data.length; n++) {
    i = (i + 1) & 0xff;
    j = (j + s[i]!) & 0xff;
    [s[i], s[j]] = [s[j]!, s[i]!];
    out[n] = data[n]! ^ s[(s[i]! + s[j]!) & 0xff]!;
  }
  return out;
}

const md5 = (...parts: Buffer[]): Buffer => createHash('md5').update(Buffer.concat(parts)).digest();
const padded = (password: string): Buffer =>
  Buffer.concat([Buffer.from(password, 'latin1'), PASSWORD_PAD]).subarray(0, 32);

/**
 * A one-page PDF (a black 70 × 35 mm rectangle at 18 mm from the left and 40 mm from the top
 * of an A4 page) encrypted with the Standard security handler, revision 2. With a user
 * password it cannot be opened without it; with only an owner password (user password empty)
 * any reader opens it.
 */
export function encryptedPdf(passwords: { user: string; owner: string }): Uint8Array {
  const id = md5(Buffer.from(`faxline ${passwords.user} ${passwords.owner}`));
  const permissions = -4;
  const ownerKey = md5(padded(passwords.owner || passwords.user)).subarray(0, 5);
  const o = rc4(ownerKey, padded(passwords.user));
  const p = Buffer.alloc(4);
  p.writeInt32LE(permissions);
  const key = md5(padded(passwords.user), o, p, id).subarray(0, 5);
  const u = rc4(key, PASSWORD_PAD);
  const objectKey = (num: number): Buffer =>
    md5(key, Buffer.from([num & 0xff, (num >> 8) & 0xff, (num >> 16) & 0xff, 0, 0])).subarray(0, 10);
  const content = rc4(objectKey(4), Buffer.from('0 0 0 rg 51 629 198 99 re f\n', 'latin1'));

  const parts: Buffer[] = [Buffer.from('%PDF-1.4\n%\xe2\xe3\xcf\xd3\n', 'latin1')];
  const offsets: number[] = [];
  const length = (): number => parts.reduce((n, b) => n + b.length, 0);
  const object = (num: number, body: Buffer | string): void => {
    offsets[num] = length();
    parts.push(
      Buffer.from(`${num} 0 obj\n`, 'latin1'),
      Buffer.from(body as string, 'latin1'),
      Buffer.from('\nendobj\n', 'latin1'),
    );
  };
  object(1, '<< /Type /Catalog /Pages 2 0 R >>');
  object(2, '<< /Type /Pages /Kids [3 0 R] /Count 1 >>');
  object(3, '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595.28 841.89] /Contents 4 0 R /Resources << >> >>');
  object(
    4,
    Buffer.concat([
      Buffer.from(`<< /Length ${content.length} >>\nstream\n`, 'latin1'),
      content,
      Buffer.from('\nendstream', 'latin1'),
    ]),
  );
  object(5, `<< /Filter /Standard /V 1 /R 2 /O <${o.toString('hex')}> /U <${u.toString('hex')}> /P ${permissions} >>`);
  const xref = length();
  const rows = offsets.slice(1).map((offset) => `${String(offset).padStart(10, '0')} 00000 n \n`);
  parts.push(
    Buffer.from(
      `xref\n0 6\n0000000000 65535 f \n${rows.join('')}trailer\n<< /Size 6 /Root 1 0 R /Encrypt 5 0 R ` +
        `/ID [<${id.toString('hex')}> <${id.toString('hex')}>] >>\nstartxref\n${xref}\n%%EOF\n`,
      'latin1',
    ),
  );
  return Buffer.concat(parts);
}

// --- Third-party fixtures ------------------------------------------------------------------

/** Where test/fixtures/fetch-pdfs.sh puts the third-party files. */
export const THIRD_PARTY_DIR = path.join(__dirname, '..', 'fixtures', 'pdfs', 'third-party');

/** The third-party files, by the name the fixture script gives them. */
export type ThirdPartyFile =
  | 'gnuplot.pdf'
  | 'gs9-color-management.pdf'
  | 'debian-reference-ja.pdf'
  | 'package-lifecycle.pdf'
  | 'cups-testpage.pdf'
  | 'cups-form.pdf'
  | 'grace_hopper.jpg'
  | PhotoFile;

/** The photographs of the documents benchmark's photo pages, in the order it places them. */
export const PHOTO_FILES = [
  'grace_hopper.jpg',
  'scribus-nature.jpg',
  'scribus-sunset.jpg',
  'scribus-pizza.jpg',
  'scribus-kites-bw.png',
  'imagemagick-bluebells.jpg',
] as const;

/** A photograph fetched by fetch-pdfs.sh (see test/fixtures/pdfs/README.md). */
export type PhotoFile = (typeof PHOTO_FILES)[number];

/** A third-party file's bytes, or undefined when the fixture script has not been run. */
export function thirdParty(name: ThirdPartyFile): Buffer | undefined {
  const file = path.join(THIRD_PARTY_DIR, name);
  return fs.existsSync(file) ? fs.readFileSync(file) : undefined;
}

/**
 * A PDF of some pages (0-based, in their order) of another: small inputs for fast tests. The
 * other pages are removed rather than the wanted ones copied, so resources the pages share
 * (fonts, images) stay shared instead of being duplicated per page.
 */
export async function pickPages(pdf: Uint8Array, indices: number[]): Promise<Uint8Array> {
  const doc = await PDFDocument.load(pdf);
  const keep = new Set(indices);
  for (let i = doc.getPageCount() - 1; i >= 0; i--) if (!keep.has(i)) doc.removePage(i);
  return doc.save();
}

/** A PDF's page count as pdf-lib reads it (a second opinion, independent of PDFium). */
export async function pageCountOf(pdf: Uint8Array): Promise<number> {
  return (await PDFDocument.load(pdf, { ignoreEncryption: true })).getPageCount();
}

// --- Looking at fax pages --------------------------------------------------------------------

function black(page: FaxPage, x: number, y: number): boolean {
  return (page.data[y * rowBytes(page) + (x >> 3)]! & (0x80 >> (x & 7))) !== 0;
}

/** Share of black pixels in a rectangle of a page (pixels and rows, end exclusive, clipped). */
export function inkShare(page: FaxPage, x0: number, y0: number, x1: number, y1: number): number {
  const [left, top] = [Math.max(0, Math.floor(x0)), Math.max(0, Math.floor(y0))];
  const [right, bottom] = [Math.min(page.width, Math.ceil(x1)), Math.min(page.height, Math.ceil(y1))];
  if (right <= left || bottom <= top) return 0;
  let ink = 0;
  for (let y = top; y < bottom; y++) for (let x = left; x < right; x++) if (black(page, x, y)) ink++;
  return ink / ((right - left) * (bottom - top));
}

/** The bounding box of all black pixels, or null for a blank page. */
export function inkBox(page: FaxPage): { left: number; top: number; right: number; bottom: number } | null {
  let [left, top, right, bottom] = [page.width, page.height, -1, -1];
  const stride = rowBytes(page);
  for (let y = 0; y < page.height; y++) {
    const row = page.data.subarray(y * stride, (y + 1) * stride);
    if (!row.some((b) => b !== 0)) continue;
    if (y < top) top = y;
    bottom = y;
    for (let x = 0; x < page.width; x++) {
      if (black(page, x, y)) {
        if (x < left) left = x;
        if (x > right) right = x;
      }
    }
  }
  return bottom < 0 ? null : { left, top, right: right + 1, bottom: bottom + 1 };
}

/** Millimetres on the fax page to pixels (x) and rows (y) at a resolution. */
export function mmToFax(resolution: DocumentResolution): { x: (mm: number) => number; y: (mm: number) => number } {
  return { x: (mm) => mm * PX_PER_MM, y: (mm) => mm * LINES_PER_MM[resolution] };
}

/** Where an A4 page sits centred at 1:1 on the 216 mm line: 24 pixels = 3 mm in from its left edge. */
export const A4_LEFT_MM = 3;

/** Share of black in [left, top, width, height] mm of a fax page, shrunk by `inset` mm on each side. */
export function inkShareMm(
  page: FaxPage,
  [left, top, width, height]: number[],
  resolution: DocumentResolution = 'fine',
  inset = 0,
): number {
  const mm = mmToFax(resolution);
  return inkShare(page, mm.x(left + inset), mm.y(top + inset), mm.x(left + width - inset), mm.y(top + height - inset));
}

/** Expects a solid black mark at [left, top, width, height] mm of a fax page (1 mm in, for anti-aliased edges). */
export function expectMark(page: FaxPage, rect: number[], resolution: DocumentResolution = 'fine'): void {
  expect(inkShareMm(page, rect, resolution, 1)).toBeGreaterThan(0.95);
}

/** Expects no ink in [left, top, width, height] mm of a fax page. */
export function expectBlank(page: FaxPage, rect: number[], resolution: DocumentResolution = 'fine'): void {
  expect(inkShareMm(page, rect, resolution)).toBe(0);
}

/** Temp entries that prepareDocument makes (faxline-document-*) in a folder. */
export function documentTempEntries(dir = os.tmpdir()): string[] {
  return fs.readdirSync(dir).filter((name) => name.startsWith('faxline-document-'));
}

/**
 * Gives the calling test file a private os.tmpdir(), so that "nothing left behind" is checked
 * exactly, whatever other test files run alongside: after each test, no document temp entries
 * may remain there. Returns the folder's path getter.
 */
export function usePrivateTmpdir(prefix: string): () => string {
  let tmpdir = '';
  let spy: jest.SpyInstance<string, []> | undefined;
  beforeAll(() => {
    tmpdir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
    // Not TMPDIR: a test file's process.env is Jest's copy, which os.tmpdir() never reads. The
    // os module itself is shared with lib/, so stubbing it there reaches every caller on this
    // thread (lib/ makes its temp folders here; workers are handed paths). A child process
    // would need TMPDIR in its env.
    spy = jest.spyOn(jest.requireActual<typeof os>('node:os'), 'tmpdir').mockReturnValue(tmpdir);
  });
  afterAll(() => {
    spy?.mockRestore();
    fs.rmSync(tmpdir, { recursive: true, force: true });
  });
  afterEach(() => expect(documentTempEntries(tmpdir)).toEqual([]));
  return () => tmpdir;
}

// --- Resemblance: SSIM of blurred images ---------------------------------------------------

/** A gray image, one byte a pixel, 0 black. */
export interface GrayImage {
  width: number;
  height: number;
  gray: Uint8Array;
  /** Rows per millimetre (the blur is round on paper, so its size in rows follows this). */
  linesPerMm: number;
}

/** A 1-bit fax page as a gray image (black 0, white 255). */
export function pageToGray(page: FaxPage): GrayImage {
  const { width, height, data } = page;
  const stride = rowBytes(page);
  const gray = new Uint8Array(width * height).fill(255);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++)
      if ((data[y * stride + (x >> 3)]! & (0x80 >> (x & 7))) !== 0) gray[y * width + x] = 0;
  }
  const linesPerMm = (
    { 98: LINES_PER_MM.standard, 196: LINES_PER_MM.fine, 391: LINES_PER_MM.superfine } as Record<number, number>
  )[page.yDpi];
  return { width, height, gray, linesPerMm: linesPerMm ?? page.yDpi / 25.4 };
}

function gaussianKernel(sigma: number): Float32Array {
  const radius = Math.max(1, Math.ceil(sigma * 3));
  const kernel = new Float32Array(2 * radius + 1);
  let sum = 0;
  for (let i = -radius; i <= radius; i++) sum += kernel[i + radius] = Math.exp(-(i * i) / (2 * sigma * sigma));
  return kernel.map((v) => v / sum);
}

/** One pass of a 1-D convolution along rows (step 1) or columns (step = width), edges clamped. */
function convolve(
  input: Float32Array,
  width: number,
  height: number,
  kernel: Float32Array,
  vertical: boolean,
): Float32Array {
  const out = new Float32Array(width * height);
  const radius = kernel.length >> 1;
  const [length, lines] = vertical ? [height, width] : [width, height];
  const step = vertical ? width : 1;
  const lineStep = vertical ? 1 : width;
  // No Math.min/max in the loop: under jest's VM context calls to them are not inlined and
  // cost 50 times as much.
  for (let line = 0; line < lines; line++) {
    const base = line * lineStep;
    for (let i = 0; i < length; i++) {
      let v = 0;
      for (let k = -radius; k <= radius; k++) {
        let j = i + k;
        j = j < 0 ? 0 : j >= length ? length - 1 : j;
        v += kernel[k + radius]! * input[base + j * step]!;
      }
      out[base + i * step] = v;
    }
  }
  return out;
}

/** Gaussian blur with σ in millimetres on paper, as floats 0 (black) to 1 (white). */
export function blur(image: GrayImage, sigmaMm: number): Float32Array {
  const { width, height } = image;
  const input = new Float32Array(width * height);
  for (let i = 0; i < input.length; i++) input[i] = image.gray[i]! / 255;
  const rows = convolve(input, width, height, gaussianKernel(sigmaMm * PX_PER_MM), false);
  return convolve(rows, width, height, gaussianKernel(sigmaMm * image.linesPerMm), true);
}

/**
 * How much a 1-bit page looks like a gray image of the same page at the same geometry: the
 * mean SSIM of the two after a Gaussian blur (σ = sigmaMm on paper, default 0.3 mm: what
 * merges a fax halftone screen and an anti-aliased edge at reading distance), over 8 × 8 windows
 * where either image has ink (blank paper would make every page score near 1).
 * 1 is identical; at fine resolution text pages score about 0.98, halftoned photos 0.75-0.95.
 */
export function blurredSsim(page: FaxPage, reference: GrayImage, sigmaMm = 0.3): number {
  if (page.width !== reference.width || page.height !== reference.height) {
    throw new Error(`sizes differ: ${page.width}×${page.height} against ${reference.width}×${reference.height}`);
  }
  const a = blur(pageToGray(page), sigmaMm);
  const b = blur(reference, sigmaMm);
  const { width, height } = reference;
  const c1 = 0.01 ** 2;
  const c2 = 0.03 ** 2;
  const n = 64;
  let total = 0;
  let windows = 0;
  for (let y0 = 0; y0 + 8 <= height; y0 += 8) {
    for (let x0 = 0; x0 + 8 <= width; x0 += 8) {
      let [sa, sb, saa, sbb, sab, minimum] = [0, 0, 0, 0, 0, 1];
      for (let y = y0; y < y0 + 8; y++) {
        for (let x = x0; x < x0 + 8; x++) {
          const va = a[y * width + x]!;
          const vb = b[y * width + x]!;
          sa += va;
          sb += vb;
          saa += va * va;
          sbb += vb * vb;
          sab += va * vb;
          if (va < minimum) minimum = va;
          if (vb < minimum) minimum = vb;
        }
      }
      if (minimum > 0.97) continue;
      const [ma, mb] = [sa / n, sb / n];
      const [va, vb, cov] = [saa / n - ma * ma, sbb / n - mb * mb, sab / n - ma * mb];
      total += ((2 * ma * mb + c1) * (2 * cov + c2)) / ((ma * ma + mb * mb + c1) * (va + vb + c2));
      windows++;
    }
  }
  return windows === 0 ? 1 : total / windows;
}

/**
 * How far the tone of a 1-bit page is from a gray image of the same page: the mean absolute
 * difference, 0 to 1, of the two after a Gaussian blur (σ = sigmaMm on paper, default 0.5 mm:
 * a halftone screen merges into the gray it stands for), over the 8 × 8 windows where either
 * image has ink (as blurredSsim). 0 is the same tone everywhere; a page darker or lighter than
 * its source by a tenth of the gray scale scores 0.1.
 */
export function toneError(page: FaxPage, reference: GrayImage, sigmaMm = 0.5): number {
  if (page.width !== reference.width || page.height !== reference.height) {
    throw new Error(`sizes differ: ${page.width}×${page.height} against ${reference.width}×${reference.height}`);
  }
  const a = blur(pageToGray(page), sigmaMm);
  const b = blur(reference, sigmaMm);
  const { width, height } = reference;
  let total = 0;
  let pixels = 0;
  for (let y0 = 0; y0 + 8 <= height; y0 += 8) {
    for (let x0 = 0; x0 + 8 <= width; x0 += 8) {
      let [difference, minimum] = [0, 1];
      for (let y = y0; y < y0 + 8; y++) {
        for (let x = x0; x < x0 + 8; x++) {
          const [va, vb] = [a[y * width + x]!, b[y * width + x]!];
          difference += va > vb ? va - vb : vb - va;
          if (va < minimum) minimum = va;
          if (vb < minimum) minimum = vb;
        }
      }
      if (minimum > 0.97) continue;
      total += difference;
      pixels += 64;
    }
  }
  return pixels === 0 ? 0 : total / pixels;
}

let pdfium: Promise<Pdfium> | undefined;

/**
 * Gray renders of a PDF's pages as the fax pipeline renders them (same PDFium, same flags,
 * same layout): the ideal the 1-bit pages are compared with. On this thread. Pages cut into pieces come as several images, like the fax pages.
 */
export async function grayRenders(
  pdf: Uint8Array,
  resolution: DocumentResolution,
  pages?: number[],
): Promise<GrayImage[]> {
  pdfium ??= compiledPdfium().then(instantiatePdfium);
  const renderer = new PdfRenderer(await pdfium, pdf);
  try {
    const images: GrayImage[] = [];
    const indices = pages ?? Array.from({ length: renderer.pageCount }, (_, i) => i);
    for (const index of indices) {
      renderer.renderPage(index, resolution, ({ gray, rows }, layout) => {
        images.push({ width: FAX_LINE_PX, height: rows, gray: gray.slice(), linesPerMm: layout.linesPerMm });
      });
    }
    return images;
  } finally {
    renderer.close();
  }
}

// --- Images as documents ---------------------------------------------------------------------

/** Where the committed image fixtures are (made for these tests: test/fixtures/pdfs/README.md). */
export const IMAGES_DIR = path.join(__dirname, '..', 'fixtures', 'images');

/**
 * A gray PNG of `width` × `height` pixels painted by `paint(x, y)` (0 black, 255 white), with
 * a pHYs chunk of `pixelsPerMetre` (unit 1, metres) when given: 3937 is 100 dpi.
 */
export function grayPng(
  width: number,
  height: number,
  paint: (x: number, y: number) => number,
  pixelsPerMetre?: number | [number, number],
): Buffer {
  const png = new PNG({ width, height });
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 4;
      png.data[i] = png.data[i + 1] = png.data[i + 2] = paint(x, y);
      png.data[i + 3] = 255;
    }
  }
  const bytes = PNG.sync.write(png, { colorType: 0, filterType: 0 });
  if (pixelsPerMetre === undefined) return bytes;
  const [x, y] = typeof pixelsPerMetre === 'number' ? [pixelsPerMetre, pixelsPerMetre] : pixelsPerMetre;
  const phys = Buffer.alloc(9);
  phys.writeUInt32BE(x, 0);
  phys.writeUInt32BE(y, 4);
  phys[8] = 1;
  return withPngChunk(bytes, 'pHYs', phys);
}

/** One PNG chunk: length, type, data and its CRC-32 (over type and data). */
export function pngChunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(zlib.crc32(Buffer.concat([head.subarray(4), data])), 0);
  return Buffer.concat([head, data, crc]);
}

/** A PNG with a chunk added right after IHDR (signature 8 bytes, IHDR 25). */
export function withPngChunk(png: Buffer, type: string, data: Buffer): Buffer {
  return Buffer.concat([png.subarray(0, 33), pngChunk(type, data), png.subarray(33)]);
}

/** A JPEG with a marker segment added after its first segment (the JFIF APP0 in ours). */
export function withJpegSegment(jpeg: Buffer, marker: number, body: Buffer): Buffer {
  const firstEnd = 4 + jpeg.readUInt16BE(4);
  const head = Buffer.from([0xff, marker, 0, 0]);
  head.writeUInt16BE(body.length + 2, 2);
  return Buffer.concat([jpeg.subarray(0, firstEnd), head, body, jpeg.subarray(firstEnd)]);
}

/**
 * The body of an Exif APP1 segment: "Exif\0\0", then a TIFF header and IFD0 with the
 * orientation (tag 0x0112, SHORT) and, when given, XResolution and YResolution (0x011A,
 * 0x011B, RATIONAL) in dots per inch (ResolutionUnit 0x0128 = 2). Big-endian unless `intel`.
 */
export function exifBody(options: { orientation?: number; dpi?: [number, number]; intel?: boolean }): Buffer {
  const le = options.intel ?? false;
  const entries: [number, number, number][] = []; // tag, type, value (or offset)
  if (options.orientation !== undefined) entries.push([0x0112, 3, options.orientation]);
  const dataAt = 8 + 2 + 12 * (options.orientation !== undefined ? 1 : 0) + (options.dpi ? 36 : 0) + 4;
  if (options.dpi) {
    entries.push([0x011a, 5, dataAt], [0x011b, 5, dataAt + 8], [0x0128, 3, 2]);
  }
  const tiff = Buffer.alloc(dataAt + (options.dpi ? 16 : 0));
  const u16 = (v: number, at: number) => (le ? tiff.writeUInt16LE(v, at) : tiff.writeUInt16BE(v, at));
  const u32 = (v: number, at: number) => (le ? tiff.writeUInt32LE(v, at) : tiff.writeUInt32BE(v, at));
  tiff.write(le ? 'II' : 'MM', 0, 'latin1');
  u16(42, 2);
  u32(8, 4);
  u16(entries.length, 8);
  entries.forEach(([tag, type, value], i) => {
    const at = 10 + i * 12;
    u16(tag, at);
    u16(type, at + 2);
    u32(1, at + 4);
    if (type === 3) u16(value, at + 8);
    else u32(value, at + 8);
  });
  if (options.dpi) {
    u32(options.dpi[0], dataAt);
    u32(1, dataAt + 4);
    u32(options.dpi[1], dataAt + 8);
    u32(1, dataAt + 12);
  }
  return Buffer.concat([Buffer.from('Exif\0\0', 'latin1'), tiff]);
}

/** Bytes as a data: URL of a media type. */
export function dataUrl(bytes: Uint8Array, type: string): string {
  return `data:${type};base64,${Buffer.from(bytes).toString('base64')}`;
}
