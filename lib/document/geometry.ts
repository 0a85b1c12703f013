/**
 * Where a PDF page lands on fax paper. Pure arithmetic, no PDFium: the worker asks for a
 * layout per page and renders exactly that.
 *
 * The rules, in the order they apply (sizes in millimetres, as the page is displayed, that is
 * after its /Rotate):
 *
 * 1. The fax line is 1728 pixels at 8 pixels/mm, 216 mm; rows are 3.85, 7.7 or 15.4 per mm.
 * 2. A landscape page (wider than tall) that is wider than the line is turned a quarter turn,
 *    so it comes out as large as the line allows. The turn is counter-clockwise (the
 *    PostScript "Landscape" convention: the page's top runs along the left edge), except
 *    for a page whose /Rotate is 270: it is turned clockwise, back to its MediaBox as
 *    authored (for a page with /Rotate 90 counter-clockwise does the same). A landscape page
 *    that fits the line as it is (a landscape A5, a business card) stays upright.
 * 3. A page wider than the line is scaled down to fill it, keeping its aspect ratio: its own
 *    aspect gives its length in rows. A page at most as wide as the line (A4, Letter, A5, a
 *    business card, a receipt) goes at its natural size, centred on the line: never
 *    enlarged. That is what a fax machine does with paper: an A4 page scans 1:1 into the
 *    middle 210 mm of the 216 mm line, and stays 297 mm long so it prints on one A4 sheet
 *    (filled to the line it would be 305 mm and spill onto a second); a small page keeps its
 *    print size instead of being blown up.
 * 4. A page up to three A4 lengths (891 mm; legal, tabloid, tall diagrams) goes as one fax
 *    page. A longer one (a receipt roll, a web page printed as one sheet) is cut into pieces
 *    of at most one A4 length (297 mm), each a fax page, at a blank row near the end of each
 *    piece when there is one, so text lines are not cut in half. Scaling it down to fit
 *    would make it unreadable instead.
 *
 * Memory follows from these rules: a rendered piece is at most 1728 × (891 mm of rows), 24 MB
 * of gray at superfine, whatever the page's nominal size (a 200 × 200 inch MediaBox comes out
 * 216 × 216 mm).
 */

/** The vertical resolutions of a fax page. */
export type DocumentResolution = 'standard' | 'fine' | 'superfine';

/** All resolutions, in order. */
export const RESOLUTIONS: readonly DocumentResolution[] = Object.freeze(['standard', 'fine', 'superfine']);

/** Pixels on one fax line (A4/Letter width, T.4). */
export const FAX_LINE_PX = 1728;
/** Horizontal pixels per millimetre (T.4). */
export const PX_PER_MM = 8;
/** The line's width in millimetres. */
export const FAX_LINE_MM = FAX_LINE_PX / PX_PER_MM;
/** Horizontal resolution as TIFF-F records it, dots per inch. */
export const X_DPI = 204;
/** Rows per millimetre of each resolution (T.4). */
export const LINES_PER_MM: Readonly<Record<DocumentResolution, number>> = Object.freeze({
  standard: 3.85,
  fine: 7.7,
  superfine: 15.4,
});
/** Vertical resolution as TIFF-F records it, dots per inch. */
export const Y_DPI: Readonly<Record<DocumentResolution, number>> = Object.freeze({
  standard: 98,
  fine: 196,
  superfine: 391,
});
/** A4's length: the length of the pieces a very long page is cut into. */
export const PIECE_MM = 297;
/** The longest page sent whole: three A4 lengths. */
export const MAX_WHOLE_PAGE_MM = 3 * PIECE_MM;
/** How far back from a piece's end a cut may move to find a blank row, as a share of the piece. */
export const CUT_SEARCH_SHARE = 0.2;

const MM_PER_POINT = 25.4 / 72;

/** A page as PDFium displays it: size in points after /Rotate, and the /Rotate itself. */
export interface PageBox {
  widthPt: number;
  heightPt: number;
  /** The page's /Rotate in quarter turns clockwise (0-3), as FPDFPage_GetRotation gives it. */
  rotation: number;
}

/** How one page is rendered onto fax lines. */
export interface PageLayout {
  /**
   * Extra rotation for the renderer, in PDFium's terms: 0 none, 1 a quarter turn clockwise,
   * 3 a quarter turn counter-clockwise (added to the page's own /Rotate).
   */
  turn: 0 | 1 | 3;
  /** Paper scale: millimetres on the fax per millimetre of the (turned) page; at most 1. */
  scale: number;
  /** Width of the rendered page on the line, pixels (at most {@link FAX_LINE_PX}). */
  width: number;
  /** Its length, rows. */
  height: number;
  /** First pixel of the page on the line (it is centred). */
  left: number;
  /** Whether the page is cut into pieces (it is longer than {@link MAX_WHOLE_PAGE_MM}). */
  split: boolean;
  /** Rows of one piece when split (else equal to height). */
  pieceRows: number;
  /** Rows of the vertical resolution per millimetre, and its TIFF dpi. */
  linesPerMm: number;
  yDpi: number;
}

/** Why a page has no layout: its box is empty or not a number. */
export class PageSizeError extends Error {}

/** The layout of one page at one resolution (see the rules at the top of this file). */
export function layoutPage(box: PageBox, resolution: DocumentResolution): PageLayout {
  const { widthPt, heightPt } = box;
  if (!(Number.isFinite(widthPt) && Number.isFinite(heightPt) && widthPt > 0 && heightPt > 0)) {
    throw new PageSizeError(`the page has no usable size (${widthPt} × ${heightPt} points)`);
  }
  let widthMm = widthPt * MM_PER_POINT;
  let heightMm = heightPt * MM_PER_POINT;
  let turn: PageLayout['turn'] = 0;
  if (widthMm > heightMm && widthMm > FAX_LINE_MM) {
    turn = ((box.rotation % 4) + 4) % 4 === 3 ? 1 : 3;
    [widthMm, heightMm] = [heightMm, widthMm];
  }
  const scale = Math.min(1, FAX_LINE_MM / widthMm);
  const linesPerMm = LINES_PER_MM[resolution];
  const width = Math.min(FAX_LINE_PX, Math.max(1, Math.round(widthMm * scale * PX_PER_MM)));
  const lengthMm = heightMm * scale;
  const height = Math.max(1, Math.round(lengthMm * linesPerMm));
  const split = lengthMm > MAX_WHOLE_PAGE_MM;
  return {
    turn,
    scale,
    width,
    height,
    left: (FAX_LINE_PX - width) >> 1,
    split,
    pieceRows: split ? Math.round(PIECE_MM * linesPerMm) : height,
    linesPerMm,
    yDpi: Y_DPI[resolution],
  };
}

/**
 * Where to end a piece of a split page: in the middle of the last run of blank rows within
 * the final {@link CUT_SEARCH_SHARE} of the rendered band (so both pieces keep some white at
 * the cut), else at the band's end. `isBlank(row)` tells whether a row of the band is blank.
 */
export function cutRows(bandRows: number, isBlank: (row: number) => boolean): number {
  const earliest = Math.max(1, Math.ceil(bandRows * (1 - CUT_SEARCH_SHARE)));
  let end = bandRows - 1;
  while (end >= earliest && !isBlank(end)) end--;
  if (end < earliest) return bandRows;
  let start = end;
  while (start - 1 >= earliest && isBlank(start - 1)) start--;
  return Math.ceil((start + end + 1) / 2);
}
