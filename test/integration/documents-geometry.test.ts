import {
  cutRows,
  FAX_LINE_PX,
  layoutPage,
  MAX_WHOLE_PAGE_MM,
  PageSizeError,
  type DocumentResolution,
} from '../../lib/document/geometry';

const PT = 72 / 25.4;
/** A page box from millimetres. */
const mm = (width: number, height: number, rotation = 0) => ({ widthPt: width * PT, heightPt: height * PT, rotation });

describe('a page at most as wide as the fax line', () => {
  test.each([
    ['standard', 1143],
    ['fine', 2287],
    ['superfine', 4574],
  ] as const)('A4 goes at its natural size, centred, %s: 1680 of 1728 pixels and %i rows', (resolution, rows) => {
    const layout = layoutPage(mm(210, 297), resolution);
    expect(layout).toMatchObject({ turn: 0, scale: 1, width: 1680, height: rows, left: 24, split: false });
  });

  test.each([
    ['standard', 1076],
    ['fine', 2151],
    ['superfine', 4303],
  ] as const)('Letter fills the line (215.9 mm ≈ 216 mm), %s: %i rows', (resolution, rows) => {
    const layout = layoutPage({ widthPt: 612, heightPt: 792, rotation: 0 }, resolution);
    expect(layout).toMatchObject({ turn: 0, scale: 1, width: 1727, height: rows, left: 0 });
  });

  test('a business card (85 × 55 mm, landscape) stays upright at 1:1, centred, instead of being blown up', () => {
    const layout = layoutPage(mm(85, 55), 'fine');
    expect(layout).toMatchObject({ turn: 0, scale: 1, width: 680, height: 424, left: 524 });
  });

  test('a landscape A5 fits the line as it is, so it is not turned', () => {
    expect(layoutPage(mm(210, 148), 'fine')).toMatchObject({ turn: 0, scale: 1, width: 1680 });
  });
});

describe('a page wider than the fax line', () => {
  test('A3 is scaled down to fill the line, its aspect giving its length', () => {
    const layout = layoutPage(mm(297, 420), 'fine');
    expect(layout.width).toBe(FAX_LINE_PX);
    expect(layout.left).toBe(0);
    expect(layout.scale).toBeCloseTo(216 / 297, 6);
    expect(layout.height).toBe(Math.round(420 * (216 / 297) * 7.7));
  });

  test('a 200 × 200 inch MediaBox comes out 216 × 216 mm: bounded by the fax geometry', () => {
    const layout = layoutPage({ widthPt: 14400, heightPt: 14400, rotation: 0 }, 'fine');
    expect(layout).toMatchObject({ turn: 0, width: 1728, height: Math.round(216 * 7.7), split: false });
  });

  test('a landscape A4 is turned a quarter counter-clockwise and then fits at 1:1', () => {
    const layout = layoutPage(mm(297, 210), 'fine');
    expect(layout).toMatchObject({ turn: 3, scale: 1, width: 1680, height: 2287, left: 24 });
  });

  test('a landscape display made by /Rotate 270 is turned clockwise, back to its MediaBox as authored', () => {
    // PDFium reports the displayed (rotated) size: a portrait MediaBox with /Rotate 270 is landscape.
    expect(layoutPage(mm(297, 210, 3), 'fine').turn).toBe(1);
    expect(layoutPage(mm(297, 210, 1), 'fine').turn).toBe(3);
  });

  test('legal (8.5 × 14 in) is one fax page of its own length', () => {
    const layout = layoutPage({ widthPt: 612, heightPt: 1008, rotation: 0 }, 'fine');
    expect(layout).toMatchObject({ width: 1727, height: Math.round(355.6 * 7.7), split: false });
  });
});

describe('a very long page', () => {
  test.each(['standard', 'fine', 'superfine'] as DocumentResolution[])(
    'up to three A4 lengths is one page, beyond it is cut into A4-length pieces (%s)',
    (resolution) => {
      const whole = layoutPage(mm(216, MAX_WHOLE_PAGE_MM), resolution);
      expect(whole.split).toBe(false);
      expect(whole.pieceRows).toBe(whole.height);
      const long = layoutPage(mm(80, 2000), resolution);
      expect(long.split).toBe(true);
      expect(long.width).toBe(640);
      expect(long.pieceRows).toBe(Math.round(297 * long.linesPerMm));
      expect(long.height).toBe(Math.round(2000 * long.linesPerMm));
    },
  );

  test('a piece ends in the middle of the last blank rows near its end, or at its end when there are none', () => {
    expect(cutRows(100, (row) => row >= 84 && row <= 91)).toBe(88);
    expect(cutRows(100, (row) => row === 85 || row === 90)).toBe(91);
    expect(cutRows(100, (row) => row === 70)).toBe(100);
    expect(cutRows(100, () => false)).toBe(100);
    expect(cutRows(100, () => true)).toBe(90);
  });
});

describe('a page without a usable size', () => {
  test.each([
    [0, 842],
    [595, -1],
    [Number.NaN, 842],
    [595, Number.POSITIVE_INFINITY],
  ])('%d × %d points is refused', (widthPt, heightPt) => {
    expect(() => layoutPage({ widthPt, heightPt, rotation: 0 }, 'fine')).toThrow(PageSizeError);
  });

  test('a sliver still gets at least one row and one pixel', () => {
    const layout = layoutPage({ widthPt: 0.01, heightPt: 0.01, rotation: 0 }, 'standard');
    expect(layout.width).toBe(1);
    expect(layout.height).toBe(1);
  });
});
