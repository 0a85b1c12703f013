/**
 * The tone law of the 1-bit conversion: through a blur, screened greys come out as the grey they
 * stand for (native grayToBilevel on gray pages built here, at fine resolution); text over a
 * tint stays solid and thin light lines stay continuous (generated PDFs rendered to gray as the
 * pipeline renders them, then native grayToBilevel).
 */
import { PDFDocument, StandardFonts, rgb, type PDFFont, type PDFPage, type RGB } from 'pdf-lib';
import { native, type NativePage } from '../../lib/native';
import { blur, grayRenders, pageToGray, type GrayImage } from '../helpers/pdfs';

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
async function renderStrip(draw: (page: PDFPage, fonts: Fonts) => void): Promise<GrayImage> {
  const doc = await PDFDocument.create();
  const fonts = {
    regular: await doc.embedFont(StandardFonts.Helvetica),
    bold: await doc.embedFont(StandardFonts.HelveticaBold),
  };
  draw(doc.addPage(STRIP), fonts);
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
