/**
 * A PNG or JPEG document (a scan, a photo of a signed page) as a one-page PDF at the image's
 * natural size, so the PDF pipeline renders it: the same geometry (geometry.ts: natural size,
 * never enlarged, turned if landscape and wider than the line) and the same 1-bit conversion.
 *
 * The headers are read here, by hand, from the PNG specification (IHDR, pHYs) and JFIF 1.02
 * (APP0 density, SOFn frame header, with Exif's IFD0 for density and orientation): small,
 * bounded reads that decide the page size and refuse absurd images before anything is
 * decoded. A JPEG goes into the PDF as it is (pdf-lib's embedJpg: DCT data is not decoded, a
 * few milliseconds on this thread). A PNG must be decoded (PDF has no PNG filter for alpha,
 * interlacing or every bit depth): pngjs decodes it, CRCs checked, on a worker thread of its
 * own with the document's time limit, and the pixels go into the PDF deflated by Node's zlib.
 * pdf-lib's embedPng does the same in pure JavaScript, measured at 7.4 s for a 12-megapixel
 * photo; this way takes 1.9 s (pngjs inflates with zlib), and runs off the JS thread.
 */
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { parentPort, Worker, workerData } from 'node:worker_threads';
import { concatTransformationMatrix, drawObject, PDFDocument, popGraphicsState, pushGraphicsState } from 'pdf-lib';
import { PNG } from 'pngjs';
import { DocumentError } from './errors';
import { acquireRenderSlot } from './render-slots';

/** The image formats accepted as documents. */
export type ImageKind = 'png' | 'jpeg';

/**
 * The resolution assumed for an image that states none (or states one not believed): 200 dpi,
 * the resolution of a fax scan (204 × 196 dpi) and a common one for document scanners, so a
 * scanned page without a density comes out near its paper size.
 */
export const DEFAULT_IMAGE_DPI = 200;
/**
 * Stated densities outside [MIN, MAX] dpi are not believed (broken writers put 1 dot per
 * metre, or a density where only an aspect ratio was meant); the default applies instead.
 */
export const MIN_STATED_DPI = 50;
/** See {@link MIN_STATED_DPI}. */
export const MAX_STATED_DPI = 10_000;
/** The longest side an image may have, pixels. */
export const MAX_IMAGE_SIDE_PX = 40_000;
/**
 * The most pixels an image may have: 40 megapixels, an A4 page scanned at 600 dpi (35 MP)
 * with room to spare. Decoding a PNG holds 4 bytes a pixel and more, so this bounds memory.
 */
export const MAX_IMAGE_PIXELS = 40_000_000;
/**
 * The longest side of the page an image is placed on, points: 200 inches, PDF's
 * implementation limit (ISO 32000-1, annex C). A low density that would make the page larger
 * is raised until it fits, keeping the aspect ratio.
 */
export const MAX_PAGE_SIDE_PT = 14_400;

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const INCH_PER_METRE = 1 / 0.0254;

/** Whether the bytes are a PNG or a JPEG, by their magic bytes (never by the URL or Content-Type). */
export function imageKind(bytes: Uint8Array): ImageKind | undefined {
  const head = Buffer.from(bytes.buffer, bytes.byteOffset, Math.min(bytes.byteLength, 8));
  if (head.length === 8 && head.equals(PNG_SIGNATURE)) return 'png';
  if (head.length >= 3 && head[0] === 0xff && head[1] === 0xd8 && head[2] === 0xff) return 'jpeg';
  return undefined;
}

/** A resolution in dots per inch along the stored image's x and y. */
export interface Density {
  xDpi: number;
  yDpi: number;
}

/** What the header of an image says. */
export interface ImageHeader {
  kind: ImageKind;
  /** Stored pixels, before any Exif orientation. */
  width: number;
  height: number;
  /** The density the file states (pHYs in metres, JFIF in dpi or dots/cm, Exif), if any. */
  density: Density | undefined;
  /**
   * Exif orientation 1-8 (TIFF 6.0 / Exif 2.3 tag 0x0112): how the stored image is turned or
   * mirrored for display; 1 when none is given. Only JPEGs carry it here.
   */
  orientation: number;
  /** PNG colour type (0 gray, 2 RGB, 3 palette, 4 gray + alpha, 6 RGB + alpha); undefined for a JPEG. */
  pngColorType?: number;
}

const corrupt = (detail: string): DocumentError => new DocumentError('corrupt', detail);

function checkSize(kind: ImageKind, width: number, height: number): void {
  const name = kind === 'png' ? 'PNG' : 'JPEG';
  if (width === 0 || height === 0) throw corrupt(`the ${name} image has no pixels (${width} × ${height})`);
  if (width > MAX_IMAGE_SIDE_PX || height > MAX_IMAGE_SIDE_PX || width * height > MAX_IMAGE_PIXELS) {
    throw new DocumentError(
      'too-large',
      `the ${name} image is ${width} × ${height} pixels, beyond the image limits ` +
        `(${MAX_IMAGE_SIDE_PX} pixels a side, ${MAX_IMAGE_PIXELS / 1e6} megapixels)`,
    );
  }
}

/**
 * A PNG's header: IHDR (which must come first) and pHYs (which must come before the first
 * IDAT). A pHYs in pixels per metre (unit 1) is a density; unit 0 gives only an aspect ratio
 * and counts as none. Throws DocumentError 'corrupt' for a damaged structure, 'too-large'
 * beyond the image limits.
 */
export function readPngHeader(bytes: Uint8Array): ImageHeader {
  const data = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (data.length < 8 + 25 || data.toString('latin1', 12, 16) !== 'IHDR' || data.readUInt32BE(8) !== 13) {
    throw corrupt('the PNG image is damaged: it does not start with an IHDR chunk');
  }
  const width = data.readUInt32BE(16);
  const height = data.readUInt32BE(20);
  checkSize('png', width, height);
  const pngColorType = data[25]!;
  let density: Density | undefined;
  // Each chunk is length, type, data, CRC: at least 12 bytes, so the walk ends.
  for (let at = 8; at + 12 <= data.length;) {
    const length = data.readUInt32BE(at);
    const type = data.toString('latin1', at + 4, at + 8);
    if (type === 'IDAT' || type === 'IEND') break;
    if (at + 12 + length > data.length) throw corrupt(`the PNG image is damaged: its ${type} chunk is cut off`);
    if (type === 'pHYs' && length === 9 && data[at + 16] === 1) {
      density = { xDpi: data.readUInt32BE(at + 8) / INCH_PER_METRE, yDpi: data.readUInt32BE(at + 12) / INCH_PER_METRE };
    }
    at += 12 + length;
  }
  return { kind: 'png', width, height, density, orientation: 1, pngColorType };
}

/** Reads Exif's IFD0 (a TIFF structure inside APP1) for the density and the orientation. */
function readExif(tiff: Buffer): { density?: Density; orientation?: number } {
  if (tiff.length < 8) return {};
  const order = tiff.toString('latin1', 0, 2);
  if (order !== 'II' && order !== 'MM') return {};
  const le = order === 'II';
  const u16 = (at: number): number => (le ? tiff.readUInt16LE(at) : tiff.readUInt16BE(at));
  const u32 = (at: number): number => (le ? tiff.readUInt32LE(at) : tiff.readUInt32BE(at));
  if (u16(2) !== 42) return {};
  const ifd = u32(4);
  if (ifd + 2 > tiff.length) return {};
  const entries = u16(ifd);
  const result: { x?: number; y?: number; unit: number; orientation?: number } = { unit: 2 };
  const rational = (offset: number): number | undefined => {
    if (offset + 8 > tiff.length) return undefined;
    const denominator = u32(offset + 4);
    return denominator === 0 ? undefined : u32(offset) / denominator;
  };
  for (let i = 0; i < entries; i++) {
    const entry = ifd + 2 + i * 12;
    if (entry + 12 > tiff.length) break;
    const [tag, type] = [u16(entry), u16(entry + 2)];
    // SHORT (3) values sit in the entry itself; RATIONAL (5) ones at the offset it holds.
    if (tag === 0x0112 && type === 3) result.orientation = u16(entry + 8);
    else if (tag === 0x0128 && type === 3) result.unit = u16(entry + 8);
    else if (tag === 0x011a && type === 5) result.x = rational(u32(entry + 8));
    else if (tag === 0x011b && type === 5) result.y = rational(u32(entry + 8));
  }
  const perInch = result.unit === 2 ? 1 : result.unit === 3 ? 2.54 : 0;
  const density = perInch && result.x && result.y ? { xDpi: result.x * perInch, yDpi: result.y * perInch } : undefined;
  const orientation = result.orientation;
  return { density, orientation: orientation && orientation >= 1 && orientation <= 8 ? orientation : undefined };
}

/** SOFn markers a PDF reader decodes: baseline, extended and progressive Huffman coding. */
const DECODABLE_SOF = new Set([0xc0, 0xc1, 0xc2]);
/** SOFn markers: the codings above, and lossless, hierarchical and arithmetic ones. */
const ALL_SOF = new Set([0xc0, 0xc1, 0xc2, 0xc3, 0xc5, 0xc6, 0xc7, 0xc9, 0xca, 0xcb, 0xcd, 0xce, 0xcf]);

/**
 * A JPEG's header, its marker segments walked from SOI to the first SOS: the JFIF APP0
 * density (units 1 dpi, 2 dots/cm; 0 is an aspect ratio only), else Exif's XResolution and
 * YResolution, Exif's orientation, and the frame header (SOFn). Refuses, with DocumentError
 * 'corrupt', a damaged structure, a file cut off before its end (no EOI after the scan), and
 * what a PDF reader cannot decode: arithmetic, lossless or hierarchical coding, 12-bit
 * samples, and CMYK (a PDF reader's reading of Adobe's inverted CMYK cannot be checked).
 */
export function readJpegHeader(bytes: Uint8Array): ImageHeader {
  const data = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let jfif: Density | undefined;
  let exif: ReturnType<typeof readExif> = {};
  let frame: { marker: number; precision: number; height: number; width: number; components: number } | undefined;
  let at = 2;
  for (;;) {
    if (at + 4 > data.length) throw corrupt('the JPEG image is damaged or cut off before its image data');
    if (data[at] !== 0xff) throw corrupt(`the JPEG image is damaged: no marker at byte ${at}`);
    const marker = data[at + 1]!;
    if (marker === 0xff) {
      at++; // a fill byte
      continue;
    }
    if (marker === 0xd9) throw corrupt('the JPEG image ends before its image data');
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd8)) {
      at += 2; // markers without a segment
      continue;
    }
    const length = data.readUInt16BE(at + 2);
    const end = at + 2 + length;
    if (length < 2 || end > data.length) throw corrupt('the JPEG image is damaged or cut off in its header');
    const body = data.subarray(at + 4, end);
    if (marker === 0xda) break;
    if (marker === 0xe0 && body.length >= 12 && body.toString('latin1', 0, 5) === 'JFIF\0' && !jfif) {
      const perInch = body[7] === 1 ? 1 : body[7] === 2 ? 2.54 : 0;
      if (perInch) jfif = { xDpi: body.readUInt16BE(8) * perInch, yDpi: body.readUInt16BE(10) * perInch };
    } else if (marker === 0xe1 && body.length >= 6 && body.toString('latin1', 0, 6) === 'Exif\0\0') {
      exif = readExif(body.subarray(6));
    } else if (ALL_SOF.has(marker) && !frame) {
      if (body.length < 6) throw corrupt('the JPEG image is damaged: its frame header is cut short');
      frame = {
        marker,
        precision: body[0]!,
        height: body.readUInt16BE(1),
        width: body.readUInt16BE(3),
        components: body[5]!,
      };
    }
    at = end;
  }
  if (!frame) throw corrupt('the JPEG image is damaged: it has no frame header (SOFn)');
  if (!DECODABLE_SOF.has(frame.marker)) {
    throw corrupt(
      `the JPEG image uses a coding PDF readers do not decode (SOF${frame.marker - 0xc0}: arithmetic, lossless or hierarchical)`,
    );
  }
  if (frame.precision !== 8)
    throw corrupt(`the JPEG image has ${frame.precision}-bit samples; 8-bit ones are supported`);
  if (frame.components === 4) throw corrupt('the JPEG image is CMYK; gray and RGB JPEGs are supported');
  if (frame.components !== 1 && frame.components !== 3) {
    throw corrupt(`the JPEG image has ${frame.components} colour components; gray and RGB JPEGs are supported`);
  }
  checkSize('jpeg', frame.width, frame.height);
  // Entropy-coded data never holds FF D9 (an FF in it is followed by 00 or a restart marker):
  // without one after the first scan, the file was cut off.
  if (data.lastIndexOf(Buffer.from([0xff, 0xd9])) < at) {
    throw corrupt('the JPEG image is cut off: its image data has no end (EOI)');
  }
  return {
    kind: 'jpeg',
    width: frame.width,
    height: frame.height,
    density: jfif ?? exif.density,
    orientation: exif.orientation ?? 1,
  };
}

/** The header of a PNG or a JPEG (see {@link readPngHeader}, {@link readJpegHeader}). */
export function readImageHeader(bytes: Uint8Array): ImageHeader {
  const kind = imageKind(bytes);
  if (kind === 'png') return readPngHeader(bytes);
  if (kind === 'jpeg') return readJpegHeader(bytes);
  throw new DocumentError('not-pdf', 'the document is not a PNG or JPEG image');
}

/** The page an image is placed on, and where on it. */
export interface ImagePlacement {
  /** The page, points: the image's natural size, as displayed (after its orientation). */
  widthPt: number;
  heightPt: number;
  /** The density used along the stored x and y, dpi, and whether the file stated it. */
  xDpi: number;
  yDpi: number;
  stated: boolean;
  /** The PDF matrix that maps the image's unit square onto the page, orientation applied. */
  matrix: [number, number, number, number, number, number];
}

/**
 * Where an image goes: a page of its natural size at its stated density (the default where
 * none is stated or believed, see {@link MIN_STATED_DPI}), no side longer than
 * {@link MAX_PAGE_SIDE_PT}, turned or mirrored upright by its Exif orientation.
 */
export function placeImage(header: ImageHeader): ImagePlacement {
  const d = header.density;
  const believed = (dpi: number): boolean => Number.isFinite(dpi) && dpi >= MIN_STATED_DPI && dpi <= MAX_STATED_DPI;
  const stated = d !== undefined && believed(d.xDpi) && believed(d.yDpi);
  let [xDpi, yDpi] = stated ? [d.xDpi, d.yDpi] : [DEFAULT_IMAGE_DPI, DEFAULT_IMAGE_DPI];
  const grow = Math.max(
    1,
    ((header.width / xDpi) * 72) / MAX_PAGE_SIDE_PT,
    ((header.height / yDpi) * 72) / MAX_PAGE_SIDE_PT,
  );
  [xDpi, yDpi] = [xDpi * grow, yDpi * grow];
  const storedW = (header.width / xDpi) * 72;
  const storedH = (header.height / yDpi) * 72;
  // Orientations 5-8 swap the axes (a quarter turn, or a transpose).
  const [W, H] = header.orientation >= 5 ? [storedH, storedW] : [storedW, storedH];
  // The image's unit square has its first row at the top (y = 1). Each matrix sends the
  // stored image's corners where Exif's orientation says they are displayed.
  const matrices: Record<number, ImagePlacement['matrix']> = {
    1: [W, 0, 0, H, 0, 0],
    2: [-W, 0, 0, H, W, 0], // mirrored left to right
    3: [-W, 0, 0, -H, W, H], // a half turn
    4: [W, 0, 0, -H, 0, H], // mirrored top to bottom
    5: [0, -H, -W, 0, W, H], // transposed (mirrored about the main diagonal)
    6: [0, -H, W, 0, 0, H], // a quarter turn clockwise
    7: [0, H, W, 0, 0, 0], // transversed (mirrored about the other diagonal)
    8: [0, H, -W, 0, W, 0], // a quarter turn counter-clockwise
  };
  return { widthPt: W, heightPt: H, xDpi, yDpi, stated, matrix: matrices[header.orientation] ?? matrices[1]! };
}

/** Samples per pixel of each PNG colour type. */
const PNG_CHANNELS: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };
/** Adam7's passes: first column, first row, column step, row step. */
const ADAM7 = [
  [0, 0, 8, 8],
  [4, 0, 8, 8],
  [0, 4, 4, 8],
  [2, 0, 4, 4],
  [0, 2, 2, 4],
  [1, 0, 2, 2],
  [0, 1, 1, 2],
] as const;

/**
 * Checks that a PNG's image data inflates to at least the bytes its header needs. pngjs's
 * synchronous reader does not: given an IDAT that is not a zlib stream (or one cut short) it
 * reads on into memory it never filled, and now and then that passes for pixels, which would
 * fax whatever was there.
 */
function checkPngData(data: Buffer): void {
  const width = data.readUInt32BE(16);
  const height = data.readUInt32BE(20);
  const bitsPerPixel = data[24]! * (PNG_CHANNELS[data[25]!] ?? 0);
  if (bitsPerPixel === 0) throw corrupt(`the PNG image is damaged: colour type ${data[25]!} is not one PNG has`);
  const rowBytes = (pixels: number): number => (pixels === 0 ? 0 : 1 + Math.ceil((pixels * bitsPerPixel) / 8));
  const needed =
    data[28] === 1
      ? ADAM7.reduce((sum, [x0, y0, dx, dy]) => {
          const columns = Math.ceil(Math.max(0, width - x0) / dx);
          return sum + (columns === 0 ? 0 : Math.ceil(Math.max(0, height - y0) / dy) * rowBytes(columns));
        }, 0)
      : height * rowBytes(width);
  const parts: Buffer[] = [];
  for (let at = 8; at + 12 <= data.length;) {
    const length = data.readUInt32BE(at);
    const type = data.toString('latin1', at + 4, at + 8);
    if (type === 'IEND') break;
    if (at + 12 + length > data.length) throw corrupt(`the PNG image is damaged: its ${type} chunk is cut off`);
    if (type === 'IDAT') parts.push(data.subarray(at + 8, at + 8 + length));
    at += 12 + length;
  }
  let inflated: number;
  try {
    inflated = zlib.inflateSync(Buffer.concat(parts), { maxOutputLength: Math.max(1, needed) }).length;
  } catch (error) {
    // Past maxOutputLength is more data than needed: pngjs reads what it needs.
    if ((error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') return;
    throw corrupt(`the PNG image is damaged: its image data ${error instanceof Error ? error.message : String(error)}`);
  }
  if (inflated < needed) {
    throw corrupt(`the PNG image is damaged: its image data is ${inflated} bytes, ${needed} needed`);
  }
}

/** A PNG's pixels as an 8-bit DeviceGray or DeviceRGB image, alpha composited onto white paper. */
function pngPixels(bytes: Uint8Array, header: ImageHeader): { gray: boolean; pixels: Buffer } {
  let png: PNG;
  checkPngData(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  try {
    png = PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), { checkCRC: true });
  } catch (error) {
    throw corrupt(`the PNG image is damaged: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (png.width !== header.width || png.height !== header.height) {
    throw corrupt(
      `the PNG image is damaged: ${png.width} × ${png.height} decoded, ${header.width} × ${header.height} declared`,
    );
  }
  const gray = header.pngColorType === 0 || header.pngColorType === 4;
  const channels = gray ? 1 : 3;
  const rgba = png.data;
  const count = png.width * png.height;
  const pixels = Buffer.allocUnsafe(count * channels);
  for (let i = 0, o = 0; i < count; i++) {
    const a = rgba[i * 4 + 3]!;
    const paper = 255 - a;
    for (let c = 0; c < channels; c++) pixels[o++] = (rgba[i * 4 + c]! * a + paper * 255 + 127) / 255;
  }
  return { gray, pixels };
}

/**
 * The one-page PDF of an image (see {@link placeImage}). Synchronous work: a JPEG takes
 * milliseconds, a PNG is decoded and deflated (call it off the JS thread: {@link imageToPdf}).
 * Throws DocumentError 'corrupt' for an image that cannot be decoded.
 */
export async function buildImagePdf(
  bytes: Uint8Array,
  header: ImageHeader = readImageHeader(bytes),
): Promise<Uint8Array> {
  const placement = placeImage(header);
  const doc = await PDFDocument.create();
  const page = doc.addPage([placement.widthPt, placement.heightPt]);
  let ref;
  if (header.kind === 'jpeg') {
    // A copy: pdf-lib reads the JPEG through a DataView of the whole underlying buffer.
    ref = (await doc.embedJpg(new Uint8Array(bytes))).ref;
  } else {
    const { gray, pixels } = pngPixels(bytes, header);
    const stream = doc.context.stream(zlib.deflateSync(pixels, { level: 1 }), {
      Type: 'XObject',
      Subtype: 'Image',
      Width: header.width,
      Height: header.height,
      ColorSpace: gray ? 'DeviceGray' : 'DeviceRGB',
      BitsPerComponent: 8,
      Filter: 'FlateDecode',
    });
    ref = doc.context.register(stream);
  }
  const name = page.node.newXObject('Image', ref);
  page.pushOperators(
    pushGraphicsState(),
    concatTransformationMatrix(...placement.matrix),
    drawObject(name),
    popGraphicsState(),
  );
  return doc.save();
}

// --- Off the JS thread -----------------------------------------------------------------------

interface WorkerJob {
  faxlineImageJob: true;
  bytes: Uint8Array;
  header: ImageHeader;
}

type WorkerReply = { pdf: Uint8Array } | { failed: string } | { error: string };

// setTimeout's largest delay; a longer one would fire at once.
const MAX_TIMEOUT_MS = 2 ** 31 - 1;

/** The worker's side: builds the PDF and posts it back. Started by {@link imageToPdf} only. */
export function runImageWorker(): void {
  const job = workerData as WorkerJob;
  const reply = (message: WorkerReply, transfer: ArrayBuffer[] = []): void =>
    parentPort!.postMessage(message, transfer);
  buildImagePdf(job.bytes, job.header).then(
    (pdf) => reply({ pdf }, [pdf.buffer as ArrayBuffer]),
    (error: unknown) =>
      reply(
        error instanceof DocumentError
          ? { failed: error.detail }
          : { error: error instanceof Error ? error.message : String(error) },
      ),
  );
}

function workerOptions(): { execArgv?: string[]; env?: NodeJS.ProcessEnv } {
  if (path.extname(__filename) !== '.ts') return {};
  // From TypeScript sources (ts-jest, the bench's ts-node) the worker needs ts-node's hook
  // to load this file, as render.ts explains for the render worker.
  return {
    execArgv: ['--require', require.resolve('ts-node/register/transpile-only')],
    env: { ...process.env, TS_NODE_PROJECT: path.join(__dirname, '..', '..', 'tsconfig.json') },
  };
}

/**
 * The one-page PDF of a PNG or JPEG document. Its header is read here (DocumentError
 * 'corrupt', 'too-large'); a JPEG is wrapped on this thread, a PNG decoded on a worker
 * thread once a render slot is free (render-slots.ts), terminated on abort (rejecting with
 * `signal.reason`) or past `timeLimitMs` (DocumentError 'corrupt' naming the limit).
 */
export async function imageToPdf(
  bytes: Uint8Array,
  control: { signal?: AbortSignal; timeLimitMs: number },
): Promise<Uint8Array> {
  const header = readImageHeader(bytes);
  if (header.kind === 'jpeg') return buildImagePdf(bytes, header);
  const release = await acquireRenderSlot(control.signal);
  try {
    control.signal?.throwIfAborted();
    const copy = new Uint8Array(bytes);
    const job: WorkerJob = { faxlineImageJob: true, bytes: copy, header };
    const worker = new Worker(`require(${JSON.stringify(__filename)}).runImageWorker();`, {
      eval: true,
      workerData: job,
      transferList: [copy.buffer],
      ...workerOptions(),
    });
    return await new Promise<Uint8Array>((resolve, reject) => {
      let outcome: { pdf: Uint8Array } | { error: unknown } | undefined;
      const settle = (result: { pdf: Uint8Array } | { error: unknown }): void => {
        if (outcome) return;
        outcome = result;
        if ('error' in result) void worker.terminate();
      };
      const timer = setTimeout(
        () =>
          settle({
            error: corrupt(
              `the PNG image could not be decoded within the time limit of ${control.timeLimitMs / 1000} s`,
            ),
          }),
        Math.min(Math.max(0, control.timeLimitMs), MAX_TIMEOUT_MS),
      );
      const onAbort = (): void => settle({ error: control.signal!.reason });
      control.signal?.addEventListener('abort', onAbort, { once: true });
      worker.on('message', (message: WorkerReply) => {
        if ('pdf' in message) settle({ pdf: message.pdf });
        else if ('failed' in message) settle({ error: corrupt(message.failed) });
        else settle({ error: new Error(`the image worker failed: ${message.error}`) });
      });
      worker.on('error', (error) => {
        const code = (error as NodeJS.ErrnoException).code;
        settle({
          error:
            code === 'ERR_WORKER_OUT_OF_MEMORY'
              ? new DocumentError('corrupt', 'decoding the PNG image ran out of memory', { cause: error })
              : error,
        });
      });
      worker.on('exit', (code) => {
        clearTimeout(timer);
        control.signal?.removeEventListener('abort', onAbort);
        const result = outcome ?? { error: new Error(`the image worker exited (code ${code}) without a result`) };
        if ('pdf' in result) resolve(result.pdf);
        else reject(result.error);
      });
    });
  } finally {
    release();
  }
}
