/**
 * Images as documents: a PNG or JPEG `document` is placed on a page of its natural size (its
 * stated density, else 200 dpi), by the geometry rules of PDFs (never enlarged, turned if
 * landscape and wider than the line, upright by its Exif orientation), and converted like any
 * page; a bad image fails like a bad PDF (DocumentError, SpanDSP's file-error code 41).
 */
import * as fs from 'node:fs';
import type * as http from 'node:http';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { LoopbackMedia, readTiffPages, ResultCode, resultText, sendFax, type FaxPage } from '../../lib';
import { DocumentError, prepareDocument, type PrepareOptions } from '../../lib/document';
import {
  DEFAULT_IMAGE_DPI,
  MAX_PAGE_SIDE_PT,
  imageKind,
  placeImage,
  readJpegHeader,
  readPngHeader,
} from '../../lib/document/image-document';
import { serveRoutes, type LocalServer } from '../helpers/http-server';
import {
  IMAGES_DIR,
  dataUrl,
  exifBody,
  grayPng,
  inkBox,
  inkShare,
  pngChunk,
  thirdParty,
  usePrivateTmpdir,
  withJpegSegment,
  withPngChunk,
} from '../helpers/pdfs';
import { startStatusServer, type StatusServer } from '../helpers/status-server';

usePrivateTmpdir('faxline-document-images-');

const FINE_ROWS_PER_MM = 7.7;
/** 100 dpi in PNG's pixels per metre (100 / 0.0254 = 3937.0). */
const PPM_100_DPI = 3937;

/** Fax pixels (x) and fine rows (y) of a length in image pixels at a density in dpi. */
const faxX = (px: number, dpi: number): number => Math.round((px / dpi) * 25.4 * 8);
const faxY = (px: number, dpi: number): number => Math.round((px / dpi) * 25.4 * FINE_ROWS_PER_MM);

/** Prepares a document URL, reads its fax pages back, and cleans up. */
async function fax(url: string, options: PrepareOptions = {}): Promise<FaxPage[]> {
  const prepared = await prepareDocument(url, options);
  try {
    const pages = readTiffPages(prepared.file);
    expect(pages).toHaveLength(prepared.pages);
    expect(prepared.documentPages).toBe(1);
    return pages;
  } finally {
    await prepared.cleanup();
  }
}

async function onePage(bytes: Buffer, type: string): Promise<FaxPage> {
  const pages = await fax(dataUrl(bytes, type));
  expect(pages).toHaveLength(1);
  return pages[0]!;
}

/** Expects the box (in fax pixels and rows) to be solid black, 2 pixels in from its edges. */
function expectInk(page: FaxPage, x0: number, y0: number, x1: number, y1: number): void {
  expect(inkShare(page, x0 + 2, y0 + 2, x1 - 2, y1 - 2)).toBeGreaterThan(0.97);
}

/** Expects the box to be white, 2 pixels in from its edges. */
function expectPaper(page: FaxPage, x0: number, y0: number, x1: number, y1: number): void {
  expect(inkShare(page, x0 + 2, y0 + 2, x1 - 2, y1 - 2)).toBeLessThan(0.03);
}

function expectBoxNear(
  actual: ReturnType<typeof inkBox>,
  expected: { left: number; top: number; right: number; bottom: number },
): void {
  expect(actual).not.toBeNull();
  for (const side of ['left', 'top', 'right', 'bottom'] as const) {
    expect(Math.abs(actual![side] - expected[side])).toBeLessThanOrEqual(1);
  }
}

// --- Headers, from hand-worked bytes -----------------------------------------------------------

const PNG_SIGNATURE = Buffer.from('89504e470d0a1a0a', 'hex');
/** IHDR of a 400 × 300 8-bit gray image (the CRC is not what these tests read). */
const IHDR_400_300 = Buffer.from('0000000d49484452' + '00000190' + '0000012c' + '0800000000' + '00000000', 'hex');

describe('image headers are read from the bytes (PNG spec, JFIF 1.02, Exif)', () => {
  test('the format is told by magic bytes only', () => {
    expect(imageKind(PNG_SIGNATURE)).toBe('png');
    expect(imageKind(Buffer.from('ffd8ffe0', 'hex'))).toBe('jpeg');
    expect(imageKind(Buffer.from('%PDF-1.7\n'))).toBeUndefined();
    expect(imageKind(Buffer.from('GIF89a'))).toBeUndefined();
  });

  test('PNG pHYs 11811 × 11811 per metre (00 00 2e 23, unit 1) is 300 dpi', () => {
    const phys = Buffer.from('00000009' + '70485973' + '00002e23' + '00002e23' + '01' + '00000000', 'hex');
    const header = readPngHeader(Buffer.concat([PNG_SIGNATURE, IHDR_400_300, phys]));
    expect(header).toMatchObject({ kind: 'png', width: 400, height: 300, orientation: 1, pngColorType: 0 });
    expect(header.density!.xDpi).toBeCloseTo(11811 * 0.0254, 6);
    expect(header.density!.xDpi).toBeCloseTo(300, 2);
    expect(header.density!.yDpi).toBeCloseTo(300, 2);
  });

  test('PNG pHYs with unit 0 (an aspect ratio only) states no density', () => {
    const phys = Buffer.from('00000009' + '70485973' + '00000001' + '00000001' + '00' + '00000000', 'hex');
    expect(readPngHeader(Buffer.concat([PNG_SIGNATURE, IHDR_400_300, phys])).density).toBeUndefined();
  });

  test('PNG pHYs after the first IDAT is not read (the spec puts it before)', () => {
    const idat = Buffer.from('00000000' + '49444154' + '00000000', 'hex');
    const phys = Buffer.from('00000009' + '70485973' + '00002e23' + '00002e23' + '01' + '00000000', 'hex');
    expect(readPngHeader(Buffer.concat([PNG_SIGNATURE, IHDR_400_300, idat, phys])).density).toBeUndefined();
  });

  // SOI, APP0 JFIF 1.02 with units 2 (dots per cm) and 118 × 59, SOF0 of 300 rows × 400
  // columns with 3 components, SOS, one byte of scan data, EOI.
  const jfif = (units: string, x: string, y: string): Buffer =>
    Buffer.from(
      'ffd8' +
        'ffe00010' + '4a46494600' + '0102' + units + x + y + '0000' +
        'ffc00011' + '08' + '012c' + '0190' + '03' + '012200' + '021101' + '031101' +
        'ffda000c' + '03' + '0100' + '0211' + '0311' + '003f00' + '00' +
        'ffd9',
      'hex',
    ); // prettier-ignore

  test('JFIF units 2, 118 × 59 dots/cm, is 299.72 × 149.86 dpi; SOF0 gives 400 × 300', () => {
    const header = readJpegHeader(jfif('02', '0076', '003b'));
    expect(header).toMatchObject({ kind: 'jpeg', width: 400, height: 300, orientation: 1 });
    expect(header.density!.xDpi).toBeCloseTo(299.72, 6);
    expect(header.density!.yDpi).toBeCloseTo(149.86, 6);
  });

  test('JFIF units 1 is dpi; units 0 (aspect only) states no density', () => {
    expect(readJpegHeader(jfif('01', '012c', '012c')).density).toEqual({ xDpi: 300, yDpi: 300 });
    expect(readJpegHeader(jfif('00', '0001', '0001')).density).toBeUndefined();
  });

  test('Exif IFD0 (Motorola order): orientation 6, XResolution 300/1, YResolution 600/2, unit inch', () => {
    // "Exif\0\0", "MM" 42, IFD0 at 8 with 4 entries (sorted by tag), no next IFD, then the
    // two RATIONALs at 0x3e and 0x46.
    const body = Buffer.from(
      '457869660000' +
        '4d4d002a00000008' +
        '0004' +
        '011200030000000100060000' +
        '011a00050000000100000' + '03e' +
        '011b00050000000100000' + '046' +
        '012800030000000100020000' +
        '00000000' +
        '0000012c00000001' +
        '0000025800000002',
      'hex',
    ); // prettier-ignore
    const jpeg = withJpegSegment(jfif('00', '0001', '0001'), 0xe1, body);
    const header = readJpegHeader(jpeg);
    expect(header.orientation).toBe(6);
    expect(header.density).toEqual({ xDpi: 300, yDpi: 300 });
  });

  test('Exif in Intel order: orientation 8; a JFIF density wins over Exif', () => {
    const intel = withJpegSegment(
      jfif('01', '0064', '0064'),
      0xe1,
      exifBody({ orientation: 8, dpi: [72, 72], intel: true }),
    );
    expect(readJpegHeader(intel)).toMatchObject({ orientation: 8, density: { xDpi: 100, yDpi: 100 } });
    const exifOnly = withJpegSegment(jfif('00', '0001', '0001'), 0xe1, exifBody({ dpi: [240, 240], intel: true }));
    expect(readJpegHeader(exifOnly)).toMatchObject({ orientation: 1, density: { xDpi: 240, yDpi: 240 } });
  });
});

describe('placing an image on its page', () => {
  const header = { kind: 'png' as const, width: 400, height: 300, orientation: 1 };

  test('at its stated density: 400 × 300 at 100 dpi is a 288 × 216 pt page', () => {
    expect(placeImage({ ...header, density: { xDpi: 100, yDpi: 100 } })).toMatchObject({
      widthPt: 288,
      heightPt: 216,
      stated: true,
      matrix: [288, 0, 0, 216, 0, 0],
    });
  });

  test(`without a density, or with one below 50 dpi, at ${DEFAULT_IMAGE_DPI} dpi`, () => {
    for (const density of [undefined, { xDpi: 0.0254, yDpi: 0.0254 }, { xDpi: 40, yDpi: 40 }]) {
      expect(placeImage({ ...header, density })).toMatchObject({ widthPt: 144, heightPt: 108, stated: false });
    }
  });

  test('a low density never makes a side longer than 200 inches: 12 000 px at 50 dpi is held to 14 400 pt', () => {
    const placed = placeImage({ ...header, width: 12_000, height: 100, density: { xDpi: 50, yDpi: 50 } });
    expect(placed.widthPt).toBeCloseTo(MAX_PAGE_SIDE_PT, 6);
    expect(placed.heightPt).toBeCloseTo(120, 6);
  });

  test('Exif orientation 6 swaps the page to 216 × 288 pt and turns the image a quarter clockwise', () => {
    expect(placeImage({ ...header, orientation: 6, density: { xDpi: 100, yDpi: 100 } })).toMatchObject({
      widthPt: 216,
      heightPt: 288,
      matrix: [0, -288, 216, 0, 0, 288],
    });
  });
});

// --- Rendered ------------------------------------------------------------------------------------

describe('a PNG document', () => {
  // 400 × 300 pixels at 100 dpi: 101.6 × 76.2 mm, 813 pixels × 587 fine rows, centred.
  const [cols, rows, cell] = [8, 6, 50];
  const checker = grayPng(
    cols * cell,
    rows * cell,
    (x, y) => ((((x / cell) | 0) + ((y / cell) | 0)) % 2 ? 255 : 0),
    PPM_100_DPI,
  );
  const dpi = PPM_100_DPI * 0.0254;
  const [width, height] = [faxX(400, dpi), faxY(300, dpi)];
  const left = (1728 - width) >> 1;

  test('comes out at its natural size from pHYs (813 × 587 at fine), centred, pixel-exact within 1', async () => {
    expect([width, height, left]).toEqual([813, 587, 457]);
    const page = await onePage(checker, 'image/png');
    expect(page).toMatchObject({ width: 1728, height, xDpi: 204, yDpi: 196 });
    expectBoxNear(inkBox(page), { left, top: 0, right: left + width, bottom: height });
  });

  test('its black and white checkerboard is kept cell for cell', async () => {
    const page = await onePage(checker, 'image/png');
    for (let j = 0; j < rows; j++) {
      for (let i = 0; i < cols; i++) {
        const box = [
          left + (i * width) / cols,
          (j * height) / rows,
          left + ((i + 1) * width) / cols,
          ((j + 1) * height) / rows,
        ] as const;
        if ((i + j) % 2) expectPaper(page, ...box);
        else expectInk(page, ...box);
      }
    }
  });

  test(`without pHYs it is placed at ${DEFAULT_IMAGE_DPI} dpi: 400 × 300 is 406 × 293`, async () => {
    const page = await onePage(
      grayPng(400, 300, () => 0),
      'image/png',
    );
    expect(page.height).toBe(faxY(300, DEFAULT_IMAGE_DPI));
    expect([faxX(400, DEFAULT_IMAGE_DPI), faxY(300, DEFAULT_IMAGE_DPI)]).toEqual([406, 293]);
    const l = (1728 - 406) >> 1;
    expectBoxNear(inkBox(page), { left: l, top: 0, right: l + 406, bottom: 293 });
  });

  test('a 50 × 50 image at 300 dpi stays 4.2 mm small (34 × 33), never enlarged', async () => {
    const page = await onePage(
      grayPng(50, 50, () => 0, 11_811),
      'image/png',
    );
    expect(page.height).toBe(33);
    expectBoxNear(inkBox(page), { left: (1728 - 34) >> 1, top: 0, right: ((1728 - 34) >> 1) + 34, bottom: 33 });
  });

  test('a landscape image wider than the line is turned: its top-left mark lands bottom-left', async () => {
    // 1200 × 400 at 100 dpi: 304.8 × 101.6 mm, turned counter-clockwise to 101.6 mm × 2347 rows.
    const png = grayPng(1200, 400, (x, y) => (x < 200 && y < 200 ? 0 : 255), PPM_100_DPI);
    const page = await onePage(png, 'image/png');
    const [w, h, mark] = [faxX(400, dpi), faxY(1200, dpi), [faxX(200, dpi), faxY(200, dpi)]];
    expect(page.height).toBe(h);
    const l = (1728 - w) >> 1;
    expectBoxNear(inkBox(page), { left: l, top: h - mark[1]!, right: l + mark[0]!, bottom: h });
  });

  test('transparent pixels are white paper: an RGBA image with a clear half and an opaque black half', async () => {
    const { PNG } = await import('pngjs');
    const png = new PNG({ width: 200, height: 100 });
    for (let i = 0; i < 200 * 100; i++) png.data.set([0, 0, 0, i % 200 < 100 ? 0 : 255], i * 4);
    const phys = Buffer.from('00000f6100000f6101', 'hex'); // 3937 per metre, both ways: 100 dpi
    const page = await onePage(withPngChunk(PNG.sync.write(png), 'pHYs', phys), 'image/png');
    const [w, h] = [faxX(200, dpi), faxY(100, dpi)];
    const l = (1728 - w) >> 1;
    expectBoxNear(inkBox(page), { left: l + w / 2, top: 0, right: l + w, bottom: h });
  });
});

describe('a JPEG document', () => {
  // The fixture: 400 × 300 pixels at 100 dpi (JFIF), white, with black A = [0, 0, 100, 100]
  // (top-left), B = [0, 250, 200, 300] (a bar along the bottom-left) and C = [350, 120, 400,
  // 170] (at the right edge), in pixels [x0, y0, x1, y1].
  const pattern = fs.readFileSync(path.join(IMAGES_DIR, 'pattern-100dpi.jpg'));
  const [w, h] = [faxX(400, 100), faxY(300, 100)];

  test('comes out at its natural size from JFIF (100 dpi: 813 × 587), its marks where they were drawn', async () => {
    const page = await onePage(pattern, 'image/jpeg');
    const l = (1728 - w) >> 1;
    expect(page.height).toBe(h);
    expectBoxNear(inkBox(page), { left: l, top: 0, right: l + w, bottom: h });
    expectInk(page, l, 0, l + faxX(100, 100), faxY(100, 100)); // A
    expectInk(page, l, faxY(250, 100), l + faxX(200, 100), h); // B
    expectInk(page, l + faxX(350, 100), faxY(120, 100), l + w, faxY(170, 100)); // C
    expectPaper(page, l + faxX(120, 100), faxY(20, 100), l + faxX(330, 100), faxY(230, 100));
  });

  test('a progressive JPEG renders the same marks as the baseline one', async () => {
    const baseline = await onePage(pattern, 'image/jpeg');
    const progressive = await onePage(
      fs.readFileSync(path.join(IMAGES_DIR, 'pattern-100dpi-progressive.jpg')),
      'image/jpeg',
    );
    expect(inkBox(progressive)).toEqual(inkBox(baseline));
    const l = (1728 - w) >> 1;
    expectInk(progressive, l, 0, l + faxX(100, 100), faxY(100, 100));
  });

  // Mark A (100 × 100 px at the stored top-left) where each Exif orientation displays it, in
  // mm on the displayed page (101.6 × 76.2 mm, or 76.2 × 101.6 mm for 5-8): [x0, y0].
  test.each([
    [1, [0, 0], false],
    [2, [76.2, 0], false], // mirrored: top-right
    [3, [76.2, 50.8], false], // half turn: bottom-right
    [4, [0, 50.8], false], // mirrored top to bottom: bottom-left
    [5, [0, 0], true], // transposed: stays top-left, B goes to the top-right
    [6, [50.8, 0], true], // quarter turn clockwise: top-right
    [7, [50.8, 76.2], true], // transversed: bottom-right
    [8, [0, 76.2], true], // quarter turn counter-clockwise: bottom-left
  ] as const)('Exif orientation %i puts the top-left mark at %j mm', async (orientation, [x, y], swapped) => {
    const page = await onePage(withJpegSegment(pattern, 0xe1, exifBody({ orientation })), 'image/jpeg');
    const [pw, ph] = swapped ? [faxX(300, 100), faxY(400, 100)] : [w, h];
    expect(page.height).toBe(ph);
    const l = (1728 - pw) >> 1;
    const [mx, my] = [Math.round(x * 8), Math.round(y * FINE_ROWS_PER_MM)];
    expectInk(page, l + mx, my, l + mx + 203, my + 196);
    expectBoxNear(inkBox(page), { left: l, top: 0, right: l + pw, bottom: ph });
    if (orientation === 5) expectInk(page, l + pw - faxX(50, 100), 0, l + pw, faxY(200, 100)); // B
  });

  test('a real photograph (grace_hopper.jpg, 512 × 600 at 96 dpi) is 1084 pixels × 1222 rows of halftone', async () => {
    const hopper = thirdParty('grace_hopper.jpg');
    expect(hopper).toBeDefined();
    const page = await onePage(hopper!, 'image/jpeg');
    expect([faxX(512, 96), faxY(600, 96)]).toEqual([1084, 1222]);
    expect(page.height).toBe(1222);
    const l = (1728 - 1084) >> 1;
    const box = inkBox(page)!;
    expect(box.left).toBeGreaterThanOrEqual(l - 1);
    expect(box.right).toBeLessThanOrEqual(l + 1084 + 1);
    const share = inkShare(page, l, 0, l + 1084, 1222);
    expect(share).toBeGreaterThan(0.2);
    expect(share).toBeLessThan(0.8);
  });
});

// --- Bad images ------------------------------------------------------------------------------------

async function refused(bytes: Buffer, type: string): Promise<DocumentError> {
  const error = await prepareDocument(dataUrl(bytes, type)).then(
    async (prepared) => {
      await prepared.cleanup();
      return `prepared ${prepared.pages} pages instead of failing`;
    },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(DocumentError);
  expect((error as DocumentError).resultCode).toBe(ResultCode.FILE_ERROR);
  return error as DocumentError;
}

function idatAt(png: Buffer): number {
  return png.indexOf('IDAT', 8, 'latin1') - 4;
}

/**
 * A grey PNG (bit depth 1 or 8) interlaced with Adam7, written by hand from the PNG
 * specification (section 8.2): each pass a sub-image of its own rows, filter type 0.
 */
function adam7Png(width: number, height: number, bitDepth: 1 | 8, paint: (x: number, y: number) => number): Buffer {
  const passes = [
    [0, 0, 8, 8],
    [4, 0, 8, 8],
    [0, 4, 4, 8],
    [2, 0, 4, 4],
    [0, 2, 2, 4],
    [1, 0, 2, 2],
    [0, 1, 1, 2],
  ];
  const rows: Buffer[] = [];
  for (const [x0, y0, dx, dy] of passes) {
    const columns: number[] = [];
    for (let x = x0!; x < width; x += dx!) columns.push(x);
    if (columns.length === 0) continue; // an empty pass has no rows at all
    for (let y = y0!; y < height; y += dy!) {
      const row = Buffer.alloc(1 + Math.ceil((columns.length * bitDepth) / 8));
      columns.forEach((x, i) => {
        if (bitDepth === 8) row[1 + i] = paint(x, y);
        else if (paint(x, y) >= 128) row[1 + (i >> 3)]! |= 0x80 >> (i & 7);
      });
      rows.push(row);
    }
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = bitDepth;
  ihdr[12] = 1; // Adam7
  const phys = Buffer.alloc(9);
  phys.writeUInt32BE(PPM_100_DPI, 0);
  phys.writeUInt32BE(PPM_100_DPI, 4);
  phys[8] = 1;
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', ihdr),
    pngChunk('pHYs', phys),
    pngChunk('IDAT', zlib.deflateSync(Buffer.concat(rows))),
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
}

describe('an interlaced PNG', () => {
  // Sizes whose passes are partly empty (a single column: passes 2, 4 and 6 have none) or cut
  // short, in black and white so that 1-bit and 8-bit samples draw the same pixels.
  const paint = (x: number, y: number): number => ((x * 7 + y * 3) % 5 < 2 ? 0 : 255);
  test.each([
    [1, 11, 8],
    [13, 9, 8],
    [10, 7, 1],
    [64, 48, 1],
  ] as const)(
    'of %i × %i pixels at bit depth %i gives the page its pixels give not interlaced',
    async (w, h, depth) => {
      const interlaced = await onePage(adam7Png(w, h, depth, paint), 'image/png');
      const plain = await onePage(grayPng(w, h, paint, PPM_100_DPI), 'image/png');
      expect(inkShare(plain, 0, 0, plain.width, plain.height)).toBeGreaterThan(0);
      expect(Buffer.from(interlaced.data)).toEqual(Buffer.from(plain.data));
    },
  );
});

describe('a bad image fails with DocumentError and the file-error code', () => {
  const good = grayPng(64, 48, (x, y) => ((x ^ y) & 8 ? 255 : 0), PPM_100_DPI);
  const jpeg = fs.readFileSync(path.join(IMAGES_DIR, 'pattern-100dpi.jpg'));
  const sof = jpeg.indexOf(Buffer.from([0xff, 0xc0]));

  test.each([
    ['a truncated PNG', () => good.subarray(0, good.length - 40), 'corrupt', /PNG image is damaged/],
    [
      'a PNG whose IDAT fails its CRC',
      () => {
        // The data intact, its CRC-32 off by one bit.
        const bad = Buffer.from(good);
        const at = idatAt(bad);
        bad[at + 8 + bad.readUInt32BE(at) + 3] ^= 0x01;
        return bad;
      },
      'corrupt',
      /PNG image is damaged/,
    ],
    [
      'a PNG whose IDAT is not a zlib stream (CRC right)',
      () => {
        const at = idatAt(good);
        const length = good.readUInt32BE(at);
        const chunk = pngChunk('IDAT', Buffer.alloc(length, 0x5a));
        return Buffer.concat([good.subarray(0, at), chunk, good.subarray(at + 12 + length)]);
      },
      'corrupt',
      /PNG image is damaged: its image data incorrect header check/,
    ],
    [
      'a PNG whose IDAT inflates to fewer bytes than its rows need (a valid zlib stream of 64 × 40)',
      () => {
        const at = idatAt(good);
        const length = good.readUInt32BE(at);
        // 40 of the 48 rows: a filter byte and 64 samples each.
        const chunk = pngChunk('IDAT', zlib.deflateSync(Buffer.alloc(40 * 65, 0)));
        return Buffer.concat([good.subarray(0, at), chunk, good.subarray(at + 12 + length)]);
      },
      'corrupt',
      /PNG image is damaged: its image data is 2600 bytes, 3120 needed/,
    ],
    [
      'a PNG of 0 × 48 pixels',
      () => Buffer.concat([good.subarray(0, 16), Buffer.alloc(4), good.subarray(20)]),
      'corrupt',
      /no pixels \(0 × 48\)/,
    ],
    [
      'a PNG that claims 50 000 × 48 pixels',
      () => {
        const bad = Buffer.from(good);
        bad.writeUInt32BE(50_000, 16);
        return bad;
      },
      'too-large',
      /50000 × 48 pixels, beyond the image limits \(40000 pixels a side, 40 megapixels\)/,
    ],
    [
      'a PNG that claims 8000 × 8000 pixels (64 megapixels)',
      () => {
        const bad = Buffer.from(good);
        bad.writeUInt32BE(8000, 16);
        bad.writeUInt32BE(8000, 20);
        return bad;
      },
      'too-large',
      /8000 × 8000 pixels/,
    ],
    ['a truncated JPEG', () => jpeg.subarray(0, jpeg.length - 200), 'corrupt', /JPEG image is cut off/],
    ['a JPEG cut off in its header', () => jpeg.subarray(0, 30), 'corrupt', /cut off/],
    [
      'an arithmetic-coded JPEG',
      () => fs.readFileSync(path.join(IMAGES_DIR, 'pattern-100dpi-arithmetic.jpg')),
      'corrupt',
      /SOF9: arithmetic/,
    ],
    [
      'a CMYK JPEG (4 components)',
      () => {
        const bad = Buffer.from(jpeg);
        bad[sof + 9] = 4;
        return bad;
      },
      'corrupt',
      /CMYK/,
    ],
  ] as const)('%s', async (_name, bytes, reason, detail) => {
    const error = await refused(bytes(), _name.includes('PNG') ? 'image/png' : 'image/jpeg');
    expect(error.reason).toBe(reason);
    expect(error.detail).toMatch(detail);
  });

  test('content that is none of PDF, PNG or JPEG names all three', async () => {
    const error = await refused(Buffer.from('GIF89a\x01\x00\x01\x00'), 'image/gif');
    expect(error.reason).toBe('not-pdf');
    expect(error.detail).toMatch(/is not a PDF, PNG or JPEG: it looks like a GIF image/);
  });
});

describe('through sendFax on the loopback', () => {
  const context = { project_id: 'p', space_id: 's', call_id: 'c', node_id: 'n', swml_session_id: 'w' };
  let documents: LocalServer;
  let status: StatusServer;
  const checker = grayPng(400, 300, (x, y) => ((((x / 50) | 0) + ((y / 50) | 0)) % 2 ? 255 : 0), PPM_100_DPI);
  beforeAll(async () => {
    const png =
      (bytes: Buffer): http.RequestListener =>
      (_req, res) =>
        res.writeHead(200, { 'content-type': 'image/png' }).end(bytes);
    documents = await serveRoutes({
      '/scan.png': png(checker),
      '/broken.png': png(checker.subarray(0, checker.length >> 1)),
    });
  });
  afterAll(() => documents.close());
  beforeEach(async () => {
    status = await startStatusServer();
  });
  afterEach(() => status.close());

  const send = (document: string, media: LoopbackMedia) =>
    sendFax(
      { document, identity: '+1 555 0100', status_url: status.url },
      { ...context, media },
      { allowPrivate: true, log: () => undefined, callbacks: { backoffMs: 20 } },
    );

  test('a bad PNG ends the fax with result 41, one finished event, nothing on the line', async () => {
    const media = new LoopbackMedia();
    const outcome = await send(`${documents.url}/broken.png`, media);
    expect(outcome.result).toMatchObject({ code: ResultCode.FILE_ERROR, success: false, pages: 0 });
    expect(outcome.variables.send_fax_result_code).toBe('41');
    expect(outcome.variables.send_fax_result_text).toBe(resultText(ResultCode.FILE_ERROR));
    expect(outcome.detail).toMatch(/PNG image is damaged/);
    expect(media.call).toBeNull();
    expect(status.requests.map((r) => r.json.params.fax.type)).toEqual(['finished']);
  });

  test('a good PNG is received as one page with its checkerboard', async () => {
    const media = new LoopbackMedia();
    const outcome = await send(`${documents.url}/scan.png`, media);
    expect(outcome.variables).toMatchObject({ send_fax_result: 'success', send_fax_pages: '1' });
    const [page] = media.call!.receivedPages;
    expect(page!.height).toBe(587);
    expectInk(page!, 457, 0, 457 + 101, 73);
    expectPaper(page!, 457 + 102, 0, 457 + 203, 73);
  });
});
