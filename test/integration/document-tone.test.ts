/**
 * The tone law of the 1-bit conversion: through a blur, screened greys come out as the grey they
 * stand for (native grayToBilevel on gray pages built here, at fine resolution); text over a
 * tint stays solid and thin light lines stay continuous (generated PDFs rendered to gray as the
 * pipeline renders them, then native grayToBilevel).
 */
import { LineCapStyle, PDFDocument, StandardFonts, rgb, type PDFFont, type PDFPage, type RGB } from 'pdf-lib';
import { native, type NativePage } from '../../lib/native';
import { blur, grayPng, grayRenders, pageToGray, photoPng, type GrayImage } from '../helpers/pdfs';

const WIDTH = 1728;
const ROWS = 384;
const FINE = { mode: 'auto', xDpi: 204, yDpi: 196 } as const;
const LINES_PER_MM = 196 / 25.4;

/** The page's blurred tone (0 black .. 1 white, σ 0.3 mm) averaged over a rectangle. */
function blurredMean(tone: Float32Array, x0: number, y0: number, x1: number, y1: number): number {
  let sum = 0;
  for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) sum += tone[y * WIDTH + x]!;
  return sum / ((x1 - x0) * (y1 - y0));
}

function convert(gray: Uint8Array): Float32Array {
  const page = native.grayToBilevel(gray, WIDTH, ROWS, FINE);
  return blur(pageToGray(page), 0.3);
}

describe('a flat 50% grey', () => {
  test('is screened, and its blurred mean is within 0.01 of 50%', () => {
    const tone = convert(new Uint8Array(WIDTH * ROWS).fill(128));
    // Away from the page's edges, where the blur clamps.
    const mean = blurredMean(tone, 64, 64, WIDTH - 64, ROWS - 64);
    expect(Math.abs(mean - 128 / 255)).toBeLessThan(0.01);
    // Screened, not thresholded: neither solid black nor plain white anywhere inside.
    for (let y = 64; y < ROWS - 64; y += 8) {
      for (let x = 64; x < WIDTH - 64; x += 8) {
        expect(tone[y * WIDTH + x]!).toBeGreaterThan(0.2);
        expect(tone[y * WIDTH + x]!).toBeLessThan(0.8);
      }
    }
  });
});

describe('a grey ramp from white to black', () => {
  test("comes out with a blurred tone that falls band by band and stays within 0.04 of the source's", () => {
    const gray = new Uint8Array(WIDTH * ROWS);
    for (let y = 0; y < ROWS; y++) {
      for (let x = 0; x < WIDTH; x++) gray[y * WIDTH + x] = Math.round(255 - (255 * x) / (WIDTH - 1));
    }
    const tone = convert(gray);
    const source: GrayImage = { width: WIDTH, height: ROWS, gray, linesPerMm: LINES_PER_MM };
    const ideal = blur(source, 0.3);
    const bands = 16;
    const step = WIDTH / bands;
    let previous = Infinity;
    for (let band = 0; band < bands; band++) {
      const [x0, x1] = [Math.round(band * step), Math.round((band + 1) * step)];
      const mean = blurredMean(tone, x0, 64, x1, ROWS - 64);
      expect(mean).toBeLessThan(previous);
      expect(Math.abs(mean - blurredMean(ideal, x0, 64, x1, ROWS - 64))).toBeLessThan(0.04);
      previous = mean;
    }
  });
});

/** Points per millimetre, and the PDF pages' size below (a strip of A4's width). */
const PT_PER_MM = 72 / 25.4;
const STRIP: [number, number] = [595.28, 320];

/** Whether pixel (x, y) of a 1-bit page is black. */
function black(page: NativePage, x: number, y: number): boolean {
  const stride = (page.width + 7) >> 3;
  return (page.data[y * stride + (x >> 3)]! & (0x80 >> (x & 7))) !== 0;
}

/** The first page of a one-page PDF drawn by `draw`, rendered to gray at fine. */
async function renderStrip(
  draw: (page: PDFPage, fonts: Fonts, doc: PDFDocument) => void | Promise<void>,
): Promise<GrayImage> {
  const doc = await PDFDocument.create();
  const fonts = {
    regular: await doc.embedFont(StandardFonts.Helvetica),
    bold: await doc.embedFont(StandardFonts.HelveticaBold),
  };
  await draw(doc.addPage(STRIP), fonts, doc);
  const [gray] = await grayRenders(await doc.save(), 'fine');
  return gray!;
}

/** The two fonts a strip is drawn with. */
interface Fonts {
  regular: PDFFont;
  bold: PDFFont;
}

const grey = (ink: number): RGB => rgb(1 - ink, 1 - ink, 1 - ink);

/** A box [x0, y0, x1, y1) of pixels. */
type Box = [number, number, number, number];

/** The bounding box of the pixels darker than `below` inside `within`, or null. */
function inkBoxOf(image: GrayImage, within: Box, below: number): Box | null {
  let [x0, y0, x1, y1] = [Infinity, Infinity, -1, -1];
  for (let y = within[1]; y < within[3]; y++) {
    for (let x = within[0]; x < within[2]; x++) {
      if (image.gray[y * image.width + x]! < below) {
        x0 = Math.min(x0, x);
        y0 = Math.min(y0, y);
        x1 = Math.max(x1, x + 1);
        y1 = Math.max(y1, y + 1);
      }
    }
  }
  return x1 < 0 ? null : [x0, y0, x1, y1];
}

describe('text over a tint', () => {
  // Bands 9 mm high, 11 mm apart, from 8 mm down; the same words on each, at 10 pt, regular then
  // bold (a table header's weight). Dark text on 20/40/60% grey, white text on 60/80% grey.
  const bands: { ink: number; white: boolean }[] = [
    { ink: 0.2, white: false },
    { ink: 0.4, white: false },
    { ink: 0.6, white: false },
    { ink: 0.6, white: true },
    { ink: 0.8, white: true },
  ];
  const words = 'Quarterly results: 12,345 units (+4.5%)';
  const draw =
    (tinted: boolean) =>
    (page: PDFPage, fonts: Fonts): void => {
      bands.forEach(({ ink, white }, i) => {
        const top = STRIP[1] - (8 + 11 * i) * PT_PER_MM;
        if (tinted) {
          page.drawRectangle({
            x: 10 * PT_PER_MM,
            y: top - 9 * PT_PER_MM,
            width: 190 * PT_PER_MM,
            height: 9 * PT_PER_MM,
            color: grey(ink),
          });
        }
        // On white paper, the reference, every glyph is black; over the tint, black or white.
        const color = tinted && white ? rgb(1, 1, 1) : rgb(0, 0, 0);
        const y = top - 6 * PT_PER_MM;
        page.drawText(words, { x: 14 * PT_PER_MM, y, size: 10, font: fonts.regular, color });
        page.drawText(words, { x: 100 * PT_PER_MM, y, size: 10, font: fonts.bold, color });
      });
    };
  let tinted: GrayImage;
  let reference: GrayImage;
  let page: NativePage;
  beforeAll(async () => {
    tinted = await renderStrip(draw(true));
    reference = await renderStrip(draw(false));
    page = native.grayToBilevel(tinted.gray, tinted.width, tinted.height, FINE);
  });

  /** Each band's box in pixels, and the box of its words (from the reference). */
  function bandBoxes(): { band: Box; words: Box; ink: number; white: boolean }[] {
    const { width, height } = tinted;
    // The bands are the runs of rows whose middle pixel is tinted (darker than 240).
    const rows: Box[] = [];
    let start = -1;
    for (let y = 0; y <= height; y++) {
      const inside = y < height && tinted.gray[y * width + width - 200]! < 240; // right of the words
      if (inside && start < 0) start = y;
      if (!inside && start >= 0) {
        rows.push([0, start, width, y]);
        start = -1;
      }
    }
    expect(rows).toHaveLength(bands.length);
    return rows.map((row, i) => {
      const left = inkBoxOf(tinted, [0, row[1] + 8, width, row[1] + 9], 240)!;
      const band: Box = [left[0], row[1], left[2], row[3]];
      const words = inkBoxOf(reference, band, 128)!;
      return { band, words, ...bands[i]! };
    });
  }

  test('comes out solid: every glyph pixel a threshold of the same text on white makes black', () => {
    // Tolerance: a glyph pixel on the edge of the thresholded glyph (one of its 8 neighbours is
    // not glyph) may move by a pixel: it passes when it or one of its 8 neighbours is black
    // (dark text) or white (white text). Pixels inside the glyph have no tolerance.
    for (const { words, white } of bandBoxes()) {
      let glyph = 0;
      const wrong: string[] = [];
      for (let y = words[1]; y < words[3]; y++) {
        for (let x = words[0]; x < words[2]; x++) {
          const ink = (xx: number, yy: number): boolean => reference.gray[yy * reference.width + xx]! < 128;
          if (!ink(x, y)) continue;
          glyph++;
          const want = !white; // black for dark text, white for white text
          let inner = true;
          for (let dy = -1; dy <= 1; dy++) for (let dx = -1; dx <= 1; dx++) inner &&= ink(x + dx, y + dy);
          let ok = black(page, x, y) === want;
          for (let dy = -1; !ok && !inner && dy <= 1; dy++) {
            for (let dx = -1; dx <= 1; dx++) ok ||= black(page, x + dx, y + dy) === want;
          }
          if (!ok) wrong.push(`${x},${y}`);
        }
      }
      expect(glyph).toBeGreaterThan(2000);
      expect(wrong).toEqual([]);
    }
  });

  test('keeps the band round the words screened, near its grey, neither solid nor blank', () => {
    for (const { band, words, ink } of bandBoxes()) {
      // The band's text-free part to the right of the words, 3 px in from every edge.
      const area: Box = [words[2] + 3, band[1] + 3, band[2] - 3, band[3] - 3];
      expect(area[2] - area[0]).toBeGreaterThan(64);
      let inked = 0;
      for (let y = area[1]; y < area[3]; y++) for (let x = area[0]; x < area[2]; x++) inked += +black(page, x, y);
      const share = inked / ((area[2] - area[0]) * (area[3] - area[1]));
      expect(Math.abs(share - ink)).toBeLessThan(0.1);
      // Screened everywhere: every 8 x 8 block holds both black and white.
      for (let y = area[1]; y + 8 <= area[3]; y += 8) {
        for (let x = area[0]; x + 8 <= area[2]; x += 8) {
          let n = 0;
          for (let yy = y; yy < y + 8; yy++) for (let xx = x; xx < x + 8; xx++) n += +black(page, xx, yy);
          expect(n).toBeGreaterThan(0);
          expect(n).toBeLessThan(64);
        }
      }
    }
  });
});

describe('thin light lines', () => {
  // Horizontal lines 3 mm apart from 6 mm down, 60 mm long, at 30/45/60% grey, 0.25 and 0.5 pt,
  // solid (a hairline rule) or dotted 1 pt on 2 pt off (a chart's grid line: a period of 3 pt,
  // 8.5 px at 204 dpi), each at eight offsets an eighth of a pixel apart down the page, so that some fall
  // on one row and some across two.
  const lines: { ink: number; thickness: number; dotted: boolean; offset: number }[] = [];
  for (const ink of [0.3, 0.45, 0.6]) {
    for (const thickness of [0.25, 0.5]) {
      for (const dotted of [false, true]) {
        for (let k = 0; k < 8; k++) lines.push({ ink, thickness, dotted, offset: k * 0.046 });
      }
    }
  }
  const perColumn = 32;
  const DASH_PERIOD_PX = (3 / 72) * 204;
  let gray: GrayImage;
  let page: NativePage;
  beforeAll(async () => {
    gray = await renderStrip((pdfPage) => {
      lines.forEach(({ ink, thickness, dotted, offset }, i) => {
        const column = Math.floor(i / perColumn);
        const row = i % perColumn;
        const y = STRIP[1] - (6 + 3 * row) * PT_PER_MM + offset;
        const x = (10 + 65 * column) * PT_PER_MM;
        pdfPage.drawLine({
          start: { x, y },
          end: { x: x + 60 * PT_PER_MM, y },
          thickness,
          color: grey(ink),
          ...(dotted ? { dashArray: [1, 2] } : {}),
        });
      });
    });
    page = native.grayToBilevel(gray.gray, gray.width, gray.height, FINE);
  });

  test('come out continuous: hairlines without a gap, dotted lines without one longer than their period', () => {
    const { width } = gray;
    const found: string[] = [];
    for (let row = 0; row < perColumn; row++) {
      // The slot's rows: where the render has ink within the row's 3 mm; its lines: the runs of
      // columns with ink, split where 20 px or more have none (more than a dotted line's gaps).
      const slotTop = Math.round((4.5 + 3 * row) * LINES_PER_MM);
      const slot: Box = [0, slotTop, width, slotTop + Math.round(3 * LINES_PER_MM)];
      const box = inkBoxOf(gray, slot, 250)!;
      expect(box[3] - box[1]).toBeLessThanOrEqual(3);
      const runs: [number, number][] = [];
      for (let x = box[0]; x < box[2]; x++) {
        let ink = false;
        for (let y = box[1]; y < box[3]; y++) ink ||= gray.gray[y * width + x]! < 250;
        if (!ink) continue;
        const last = runs[runs.length - 1];
        if (last && x - last[1] < 20) last[1] = x + 1;
        else runs.push([x, x + 1]);
      }
      expect(runs).toHaveLength(lines.length / perColumn);
      runs.forEach(([x0, x1], column) => {
        const { ink, thickness, dotted, offset } = lines[column * perColumn + row]!;
        // Columns with a black pixel within a pixel of the line's rows; the longest run without.
        // (Not the first and last: the anti-aliased fringe past a line's end may go.)
        let gap = 0;
        let longest = 0;
        for (let x = x0 + 1; x < x1 - 1; x++) {
          let any = false;
          for (let y = box[1] - 1; y <= box[3]; y++) any ||= black(page, x, y);
          gap = any ? 0 : gap + 1;
          longest = Math.max(longest, gap);
        }
        const allowed = dotted ? Math.floor(DASH_PERIOD_PX) : 0;
        if (longest > allowed) {
          found.push(`${ink * 100}% ${thickness} pt ${dotted ? 'dotted' : 'solid'} +${offset} pt: ${longest} px`);
        }
      });
    }
    expect(found).toEqual([]);
  });
});

/**
 * The glyph pixels of `reference` (darker than 128) inside `within`, and those the page does not
 * make black. A pixel on the glyph's edge (one of its 8 neighbours is not glyph) may move by a
 * pixel: it passes when it or one of its 8 neighbours is black. Inner pixels have no tolerance.
 */
function missingInk(reference: GrayImage, page: NativePage, within: Box): { ink: number; missing: string[] } {
  const ink = (x: number, y: number): boolean => reference.gray[y * reference.width + x]! < 128;
  let count = 0;
  const missing: string[] = [];
  for (let y = Math.max(1, within[1]); y < Math.min(reference.height - 1, within[3]); y++) {
    for (let x = Math.max(1, within[0]); x < Math.min(reference.width - 1, within[2]); x++) {
      if (!ink(x, y)) continue;
      count++;
      let inner = true;
      for (let dy = -1; dy <= 1; dy++) for (let dx = -1; dx <= 1; dx++) inner &&= ink(x + dx, y + dy);
      let ok = black(page, x, y);
      for (let dy = -1; !ok && !inner && dy <= 1; dy++) {
        for (let dx = -1; dx <= 1; dx++) ok ||= black(page, x + dx, y + dy);
      }
      if (!ok) missing.push(`${x},${y}`);
    }
  }
  return { ink: count, missing };
}

/**
 * The longest run of positions along a thin horizontal (or vertical) line, given by its box in a
 * render of it alone on white, without a black pixel across the box (or one `covered` says is
 * another mark's). The first and last position are left out: the anti-aliased fringe past a
 * line's end may go.
 */
function longestGap(
  page: NativePage,
  box: Box,
  vertical: boolean,
  covered?: (x: number, y: number) => boolean,
): number {
  const [a0, a1] = vertical ? [box[1], box[3]] : [box[0], box[2]];
  const [c0, c1] = vertical ? [box[0], box[2]] : [box[1], box[3]];
  let gap = 0;
  let longest = 0;
  for (let a = a0 + 1; a < a1 - 1; a++) {
    let any = false;
    for (let c = c0; c < c1; c++) {
      any ||= vertical ? black(page, c, a) || !!covered?.(c, a) : black(page, a, c) || !!covered?.(a, c);
    }
    gap = any ? 0 : gap + 1;
    longest = Math.max(longest, gap);
  }
  return longest;
}

/**
 * The runs of positions along `box` (columns, or rows when `vertical`) where `image` has a pixel
 * darker than 250 across the box, split where `split` positions or more have none.
 */
function inkRuns(image: GrayImage, box: Box, vertical: boolean, split: number): [number, number][] {
  const [a0, a1] = vertical ? [box[1], box[3]] : [box[0], box[2]];
  const [c0, c1] = vertical ? [box[0], box[2]] : [box[1], box[3]];
  const runs: [number, number][] = [];
  for (let a = a0; a < a1; a++) {
    let ink = false;
    for (let c = c0; c < c1; c++) ink ||= image.gray[vertical ? a * image.width + c : c * image.width + a]! < 250;
    if (!ink) continue;
    const last = runs[runs.length - 1];
    if (last && a - last[1] < split) last[1] = a + 1;
    else runs.push([a, a + 1]);
  }
  return runs;
}

/** One period of the fine screen: 2 x 2 cells of 5 x 3 pixels, from the page's top left. */
const SCREEN_PERIOD: [number, number] = [10, 6];

/**
 * The share of black pixels in `box`, and how many whole periods of the screen inside it are
 * plain white or solid black (none, where a tint is screened).
 */
function screenOf(page: NativePage, box: Box): { share: number; plain: number } {
  let inked = 0;
  for (let y = box[1]; y < box[3]; y++) for (let x = box[0]; x < box[2]; x++) inked += +black(page, x, y);
  let plain = 0;
  const [pw, ph] = SCREEN_PERIOD;
  for (let y = Math.ceil(box[1] / ph) * ph; y + ph <= box[3]; y += ph) {
    for (let x = Math.ceil(box[0] / pw) * pw; x + pw <= box[2]; x += pw) {
      let n = 0;
      for (let yy = y; yy < y + ph; yy++) for (let xx = x; xx < x + pw; xx++) n += +black(page, xx, yy);
      if (n === 0 || n === pw * ph) plain++;
    }
  }
  return { share: inked / ((box[2] - box[0]) * (box[3] - box[1])), plain };
}

/** A 1 pt on 2 pt off dotted line's period in pixels at 204 dpi: its longest allowed gap. */
const DOTTED_PERIOD_PX = Math.floor((3 / 72) * 204);

describe('a light hairline over a light tint', () => {
  // Bands of 10, 15 and 20% grey, 28 mm high, 30 mm apart from 4 mm down. In each, 30% grey lines
  // 80 mm long, 0.25 and 0.5 pt, solid or dotted 1 pt on 2 pt off, each at four offsets a quarter
  // of a pixel apart down the page: two columns of eight lines, 3 mm apart from 3.5 mm into the
  // band.
  const tints = [0.1, 0.15, 0.2];
  const lines: { thickness: number; dotted: boolean; offset: number }[] = [];
  for (const thickness of [0.25, 0.5]) {
    for (const dotted of [false, true]) {
      for (let k = 0; k < 4; k++) lines.push({ thickness, dotted, offset: k * 0.092 });
    }
  }
  const lineTopMm = (band: number, i: number): number => 4 + 30 * band + 3.5 + 3 * (i % 8);
  const draw =
    (tinted: boolean) =>
    (pdfPage: PDFPage): void => {
      tints.forEach((ink, band) => {
        if (tinted) {
          const top = STRIP[1] - (4 + 30 * band) * PT_PER_MM;
          pdfPage.drawRectangle({
            x: 8 * PT_PER_MM,
            y: top - 28 * PT_PER_MM,
            width: 194 * PT_PER_MM,
            height: 28 * PT_PER_MM,
            color: grey(ink),
          });
        }
        lines.forEach(({ thickness, dotted, offset }, i) => {
          const x = (12 + 98 * Math.floor(i / 8)) * PT_PER_MM;
          const y = STRIP[1] - lineTopMm(band, i) * PT_PER_MM + offset;
          pdfPage.drawLine({
            start: { x, y },
            end: { x: x + 80 * PT_PER_MM, y },
            thickness,
            color: grey(0.3),
            ...(dotted ? { dashArray: [1, 2] } : {}),
          });
        });
      });
    };
  let reference: GrayImage;
  let page: NativePage;
  /** Each line's box, from the lines alone on white, by band. */
  let boxes: Box[][];
  beforeAll(async () => {
    const tinted = await renderStrip(draw(true));
    reference = await renderStrip(draw(false));
    page = native.grayToBilevel(tinted.gray, tinted.width, tinted.height, FINE);
    const half = reference.width / 2;
    boxes = tints.map((_, band) =>
      lines.map((__, i) => {
        const y = lineTopMm(band, i) * LINES_PER_MM;
        const column = Math.floor(i / 8);
        const slot: Box = [column * half, Math.round(y - 10), (column + 1) * half, Math.round(y + 10)];
        return inkBoxOf(reference, slot, 250)!;
      }),
    );
  });

  test('comes out continuous: solid lines without a gap, dotted ones without one longer than their period', () => {
    const found: string[] = [];
    tints.forEach((ink, band) => {
      lines.forEach(({ thickness, dotted, offset }, i) => {
        const box = boxes[band]![i]!;
        expect(box[2] - box[0]).toBeGreaterThan(600);
        expect(box[3] - box[1]).toBeLessThanOrEqual(3);
        const longest = longestGap(page, box, false);
        if (longest > (dotted ? DOTTED_PERIOD_PX : 0)) {
          found.push(`${ink * 100}% tint, ${thickness} pt ${dotted ? 'dotted' : 'solid'} +${offset} pt: ${longest} px`);
        }
      });
    });
    expect(found).toEqual([]);
  });

  test('keeps the tint between the lines screened, within 0.05 of its grey', () => {
    const found: string[] = [];
    tints.forEach((ink, band) => {
      let inked = 0;
      let area = 0;
      let plain = 0;
      for (let i = 0; i < lines.length; i++) {
        if (i % 8 === 7) continue;
        const [above, below] = [boxes[band]![i]!, boxes[band]![i + 1]!];
        const box: Box = [above[0], above[3] + 4, above[2], below[1] - 4];
        const size = (box[2] - box[0]) * (box[3] - box[1]);
        const screen = screenOf(page, box);
        inked += screen.share * size;
        area += size;
        plain += screen.plain;
      }
      const share = inked / area;
      if (Math.abs(share - ink) >= 0.05 || plain > 0) {
        found.push(`${ink * 100}% tint: ${share.toFixed(3)} black, ${plain} plain periods`);
      }
    });
    expect(found).toEqual([]);
  });
});

describe('light dotted lines of 0.5 pt dots on white', () => {
  // 30% grey, 0.5 pt thick, 168.5 pt long (a whole dash at the end), 3 mm apart from 6 mm down, at eight offsets an eighth of a
  // pixel apart down the page: dashes 0.5 pt on 1.5 pt off (left column) and round dots, dashes of
  // no length with round caps 2 pt apart (right column). Along a line, the dots fall at every
  // phase of the pixel grid (2 pt is 5.67 px).
  const lines: { round: boolean; offset: number }[] = [];
  for (const round of [false, true]) for (let k = 0; k < 8; k++) lines.push({ round, offset: k * 0.046 });
  const lineTopMm = (i: number): number => 6 + 3 * (i % 8);
  let gray: GrayImage;
  let page: NativePage;
  beforeAll(async () => {
    gray = await renderStrip((pdfPage) => {
      lines.forEach(({ round, offset }, i) => {
        const x = (12 + 98 * Math.floor(i / 8)) * PT_PER_MM;
        const y = STRIP[1] - lineTopMm(i) * PT_PER_MM + offset;
        pdfPage.drawLine({
          start: { x, y },
          end: { x: x + 168.5, y },
          thickness: 0.5,
          color: grey(0.3),
          ...(round ? { dashArray: [0, 2], lineCap: LineCapStyle.Round } : { dashArray: [0.5, 1.5] }),
        });
      });
    });
    page = native.grayToBilevel(gray.gray, gray.width, gray.height, FINE);
  });

  test('keep every dot: each dot of the render has a black pixel within a pixel of it', () => {
    const half = gray.width / 2;
    const found: string[] = [];
    lines.forEach(({ round, offset }, i) => {
      const y = lineTopMm(i) * LINES_PER_MM;
      const column = Math.floor(i / 8);
      const box = inkBoxOf(gray, [column * half, Math.round(y - 10), (column + 1) * half, Math.round(y + 10)], 250)!;
      expect(box[3] - box[1]).toBeLessThanOrEqual(3);
      // The dots: runs of columns with ink, split by a column without.
      const dots = inkRuns(gray, box, false, 2);
      expect(dots.length).toBeGreaterThanOrEqual(80);
      let dropped = 0;
      for (const [x0, x1] of dots) {
        let any = false;
        for (let yy = box[1] - 1; yy <= box[3]; yy++) for (let x = x0 - 1; x <= x1; x++) any ||= black(page, x, yy);
        dropped += +!any;
      }
      if (dropped > 0)
        found.push(`${round ? 'round dots' : '0.5 pt dashes'} +${offset} pt: ${dropped} of ${dots.length} dropped`);
    });
    expect(found).toEqual([]);
  });
});

describe('a chart with a shaded plot area', () => {
  // Three plot areas 55 mm wide and 70 mm high from 8 mm down, 62 mm apart from 10 mm: shaded 10%,
  // shaded 25%, and a gradient from 10% at the top to 25% at the bottom. Grid lines every 10 mm
  // (six across, four down), each in one of four styles in turn; two black data lines, 1 and
  // 0.5 pt, zigzag across each plot.
  const plots: { ink: number | 'gradient' }[] = [{ ink: 0.1 }, { ink: 0.25 }, { ink: 'gradient' }];
  const styles: { thickness: number; ink: number; dotted: boolean }[] = [
    { thickness: 0.25, ink: 0.3, dotted: true },
    { thickness: 0.5, ink: 0.3, dotted: false },
    { thickness: 0.25, ink: 0.6, dotted: false },
    { thickness: 0.5, ink: 0.45, dotted: true },
    { thickness: 0.25, ink: 0.3, dotted: false },
    { thickness: 0.5, ink: 0.6, dotted: true },
  ];
  const TOP_MM = 8;
  const HEIGHT_MM = 70;
  const WIDTH_MM = 55;
  const leftMm = (plot: number): number => 10 + 62 * plot;
  type Part = 'shading' | 'horizontal' | 'vertical' | 'data';
  const draw =
    (parts: Part[]) =>
    async (pdfPage: PDFPage, _fonts: Fonts, doc: PDFDocument): Promise<void> => {
      const gradient = await doc.embedPng(grayPng(4, 256, (_x, y) => Math.round(255 * (1 - (0.1 + (0.15 * y) / 255)))));
      const at = (xMm: number, yMm: number): { x: number; y: number } => ({
        x: xMm * PT_PER_MM,
        y: STRIP[1] - yMm * PT_PER_MM,
      });
      plots.forEach(({ ink }, plot) => {
        const left = leftMm(plot);
        if (parts.includes('shading')) {
          const { x, y } = at(left, TOP_MM + HEIGHT_MM);
          const size = { width: WIDTH_MM * PT_PER_MM, height: HEIGHT_MM * PT_PER_MM };
          if (ink === 'gradient') pdfPage.drawImage(gradient, { x, y, ...size });
          else pdfPage.drawRectangle({ x, y, ...size, color: grey(ink) });
        }
        const gridLine = (start: { x: number; y: number }, end: { x: number; y: number }, j: number): void => {
          const { thickness, ink: lineInk, dotted } = styles[j % styles.length]!;
          pdfPage.drawLine({ start, end, thickness, color: grey(lineInk), ...(dotted ? { dashArray: [1, 2] } : {}) });
        };
        for (let j = 1; j <= 6 && parts.includes('horizontal'); j++) {
          gridLine(at(left, TOP_MM + 10 * j), at(left + WIDTH_MM, TOP_MM + 10 * j), j + plot);
        }
        for (let j = 1; j <= 4 && parts.includes('vertical'); j++) {
          gridLine(at(left + 10 * j + 2.5, TOP_MM), at(left + 10 * j + 2.5, TOP_MM + HEIGHT_MM), j + plot + 1);
        }
        if (parts.includes('data')) {
          [
            { thickness: 1, phase: 0 },
            { thickness: 0.5, phase: 1 },
          ].forEach(({ thickness, phase }) => {
            for (let k = 0; k < 11; k++) {
              const y = (step: number): number => TOP_MM + 12 + (((step + phase) % 2) * 40 + 13 * phase);
              pdfPage.drawLine({
                start: at(left + 5 * k, y(k)),
                end: at(left + 5 * (k + 1), y(k + 1)),
                thickness,
                color: rgb(0, 0, 0),
              });
            }
          });
        }
      });
    };
  let horizontals: GrayImage;
  let verticals: GrayImage;
  let data: GrayImage;
  let page: NativePage;
  beforeAll(async () => {
    const chart = await renderStrip(draw(['shading', 'horizontal', 'vertical', 'data']));
    horizontals = await renderStrip(draw(['horizontal']));
    verticals = await renderStrip(draw(['vertical']));
    data = await renderStrip(draw(['data']));
    page = native.grayToBilevel(chart.gray, chart.width, chart.height, FINE);
  });
  const plotRows: [number, number] = [
    Math.round(TOP_MM * LINES_PER_MM),
    Math.round((TOP_MM + HEIGHT_MM) * LINES_PER_MM),
  ];

  test('has grid lines continuous over the screen: solid without a gap, dotted without one longer than their period', () => {
    const found: string[] = [];
    // Where a grid line passes within 3 px of a data line, the data line's ink stands for it.
    const nearData = (x: number, y: number): boolean => {
      for (let dy = -3; dy <= 3; dy++)
        for (let dx = -3; dx <= 3; dx++) if (data.gray[(y + dy) * data.width + x + dx]! < 250) return true;
      return false;
    };
    const check = (box: Box, vertical: boolean, plot: number, j: number): void => {
      const { thickness, ink, dotted } = styles[j % styles.length]!;
      expect(Math.min(box[2] - box[0], box[3] - box[1])).toBeLessThanOrEqual(3);
      const longest = longestGap(page, box, vertical, nearData);
      if (longest > (dotted ? DOTTED_PERIOD_PX : 0)) {
        const where = `plot ${plot} (${String(plots[plot]!.ink)}), ${vertical ? 'vertical' : 'horizontal'} ${j}`;
        found.push(`${where}: ${ink * 100}% ${thickness} pt ${dotted ? 'dotted' : 'solid'}: ${longest} px`);
      }
    };
    for (let j = 1; j <= 6; j++) {
      const y = (TOP_MM + 10 * j) * LINES_PER_MM;
      const slot: Box = [0, Math.round(y - 10), horizontals.width, Math.round(y + 10)];
      const box = inkBoxOf(horizontals, slot, 250)!;
      const runs = inkRuns(horizontals, box, false, 20);
      expect(runs).toHaveLength(plots.length);
      runs.forEach(([x0, x1], plot) =>
        check(inkBoxOf(horizontals, [x0, box[1], x1, box[3]], 250)!, false, plot, j + plot),
      );
    }
    const columns = inkRuns(verticals, [0, plotRows[0] + 4, verticals.width, plotRows[1] - 4], false, 20);
    expect(columns).toHaveLength(4 * plots.length);
    columns.forEach(([x0, x1], n) => {
      const plot = Math.floor(n / 4);
      const box = inkBoxOf(verticals, [x0, plotRows[0] - 10, x1, plotRows[1] + 10], 250)!;
      check(box, true, plot, (n % 4) + 1 + plot + 1);
    });
    expect(found).toEqual([]);
  });

  test('has solid data lines: every pixel a threshold of them alone on white makes black', () => {
    const { ink, missing } = missingInk(data, page, [0, plotRows[0] - 10, data.width, plotRows[1] + 10]);
    expect(ink).toBeGreaterThan(3000);
    expect(missing).toEqual([]);
  });
});

describe('text beside a photograph, a gradient and a shaded area', () => {
  // A photograph 60 x 45 mm at 10 mm from the left, 5 mm down, captioned 1.5 mm under it and
  // 2 mm to its right (at its top, middle and bottom); a gradient from 10 to 90% grey, 75 x 25 mm,
  // at 122 mm, labelled 1 mm above and under it; an area shaded 15% and one 25%, 70 x 35 mm, from
  // 64 mm down, with tick labels 1.5 mm left of and under them (a chart's axes). 9 pt, regular
  // and bold.
  const caption = 'Fig. 3: Harbour at dawn, 1962';
  const draw =
    (withTone: boolean) =>
    async (pdfPage: PDFPage, fonts: Fonts, doc: PDFDocument): Promise<void> => {
      const text = (words: string, xMm: number, baselineMm: number, bold = false): void => {
        pdfPage.drawText(words, {
          x: xMm * PT_PER_MM,
          y: STRIP[1] - baselineMm * PT_PER_MM,
          size: 9,
          font: bold ? fonts.bold : fonts.regular,
          color: rgb(0, 0, 0),
        });
      };
      const box = (xMm: number, topMm: number, wMm: number, hMm: number) => ({
        x: xMm * PT_PER_MM,
        y: STRIP[1] - (topMm + hMm) * PT_PER_MM,
        width: wMm * PT_PER_MM,
        height: hMm * PT_PER_MM,
      });
      if (withTone) {
        pdfPage.drawImage(await doc.embedPng(photoPng(600, 450)), box(10, 5, 60, 45));
        const ramp = grayPng(256, 4, (x) => Math.round(255 * (1 - (0.1 + (0.8 * x) / 255))));
        pdfPage.drawImage(await doc.embedPng(ramp), box(122, 12, 75, 25));
        pdfPage.drawRectangle({ ...box(20, 64, 70, 35), color: grey(0.15) });
        pdfPage.drawRectangle({ ...box(120, 64, 70, 35), color: grey(0.25) });
      }
      // Under the photograph (cap height 2.3 mm: the glyphs' tops 1.5 mm under it), and beside it.
      text(caption, 10, 50 + 1.5 + 2.3);
      text(caption, 10, 50 + 1.5 + 2.3 + 4, true);
      text('Top', 72, 5 + 2.3);
      text('Middle of the photograph', 72, 28, true);
      text('Bottom line', 72, 50);
      // Above and under the gradient.
      text('Density, 10 to 90%', 122, 12 - 1);
      text('0    20    40    60    80    100', 122, 37 + 1 + 2.3, true);
      // The shaded areas' axes.
      for (const left of [20, 120]) {
        for (let k = 0; k <= 3; k++) text(`${k * 50}`, left - 1.5 - 5.2, 64 + 35 - 10 * k);
        text('Jan   Feb   Mar   Apr   May   Jun', left + 2, 99 + 1.5 + 2.3, true);
      }
    };
  let reference: GrayImage;
  let page: NativePage;
  beforeAll(async () => {
    const toned = await renderStrip(draw(true));
    reference = await renderStrip(draw(false));
    page = native.grayToBilevel(toned.gray, toned.width, toned.height, FINE);
  });

  test('comes out solid like the same text on white: every glyph pixel of its threshold black', () => {
    const { ink, missing } = missingInk(reference, page, [0, 0, reference.width, reference.height]);
    expect(ink).toBeGreaterThan(3000);
    expect(missing).toEqual([]);
  });
});

/**
 * The most common distance between the starts of successive black runs along the rows of
 * `box`: a screen's dots repeat every two cells along a row, 10 px with the coarse screen's
 * 5 x 3 px cells, 8 px with the fine screen's 4 x 3.
 */
function dotPitch(page: NativePage, box: Box): number {
  const counts = new Map<number, number>();
  for (let y = box[1]; y < box[3]; y++) {
    let last = -1;
    for (let x = box[0] + 1; x < box[2]; x++) {
      if (!black(page, x, y) || black(page, x - 1, y)) continue;
      if (last >= 0) counts.set(x - last, (counts.get(x - last) ?? 0) + 1);
      last = x;
    }
  }
  return [...counts.entries()].reduce((best, entry) => (entry[1] > best[1] ? entry : best), [0, 0])[0];
}

/** `box` inset by `margin` pixels on every side. */
const inset = (box: Box, margin: number): Box => [box[0] + margin, box[1] + margin, box[2] - margin, box[3] - margin];

describe('the screen, chosen per region', () => {
  // A page of gray built here with three regions apart: a flat grey of 180, one of 120 beside
  // it, and under them the two joined, 180 on the left. At 180 the fine screen codes 8% smaller
  // than the coarse one, with a quarter less blurred error; at 120 it costs 20% more T.6 and
  // keeps too little for that (7.6 grey levels of blurred error less for each bit it adds,
  // where it must keep 20).
  const HEIGHT = 1056;
  const LIGHT: Box = [64, 32, 664, 482];
  const MID: Box = [928, 32, 1664, 482];
  const JOINED_LIGHT: Box = [64, 576, 664, 1026];
  const JOINED_MID: Box = [664, 576, 904, 1026];
  let page: NativePage;
  beforeAll(() => {
    const gray = new Uint8Array(WIDTH * HEIGHT).fill(255);
    const fill = (box: Box, grey: number): void => {
      for (let y = box[1]; y < box[3]; y++) gray.fill(grey, y * WIDTH + box[0], y * WIDTH + box[2]);
    };
    fill(LIGHT, 180);
    fill(MID, 120);
    fill(JOINED_LIGHT, 180);
    fill(JOINED_MID, 120);
    page = native.grayToBilevel(gray, WIDTH, HEIGHT, FINE);
  });

  test('gives the fine screen, its dots 8 px apart, to a region where it costs less and keeps more', () => {
    expect(dotPitch(page, inset(LIGHT, 16))).toBe(8);
  });

  test('gives the coarse screen, its dots 10 px apart, to a region where the fine one costs more than it keeps', () => {
    expect(dotPitch(page, inset(MID, 16))).toBe(10);
  });

  test('screens a region with one screen throughout: the 120 joined to the 180 takes its fine screen', () => {
    expect(dotPitch(page, inset(JOINED_LIGHT, 16))).toBe(8);
    // Row by row, top to bottom: no band of rows with the other screen.
    for (let y = JOINED_MID[1] + 16; y + 6 <= JOINED_MID[3] - 16; y += 6) {
      expect([y, dotPitch(page, [JOINED_MID[0] + 16, y, JOINED_MID[2] - 16, y + 6])]).toEqual([y, 8]);
    }
  });
});
