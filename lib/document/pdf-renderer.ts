/**
 * One open PDF in PDFium, rendered to 8-bit gray at fax geometry a band of rows at a time.
 * Synchronous and single-threaded: the render worker drives it (render-worker.ts), and the
 * benchmark uses it for the gray reference of its quality figure.
 */
import { cutRows, FAX_LINE_PX, layoutPage, PageSizeError, type DocumentResolution, type PageLayout } from './geometry';
import { FPDF_ANNOT, FPDF_BITMAP_GRAY, FPDF_ERR, FPDF_PRINTING, type Pdfium } from './pdfium';
import type { DocumentFailure } from './errors';

/** A document problem found while rendering: a DocumentError's reason and detail. */
export class RenderFailure extends Error {
  constructor(
    readonly reason: DocumentFailure,
    readonly detail: string,
  ) {
    super(detail);
  }
}

/** A rendered band: gray rows of {@link FAX_LINE_PX} bytes, valid until the band is freed. */
export interface GrayBand {
  /** The pixels, a view into PDFium's memory (rows × 1728 bytes). */
  gray: Uint8Array;
  /** Rows in `gray`. */
  rows: number;
  /** Releases the bitmap; `gray` must not be used after. */
  free(): void;
}

/** Lightest gray counted as ink when looking for a blank row to cut a long page at. */
const BLANK_ROW_MIN_GRAY = 0xf0;
const WHITE = 0xffffffff;
/**
 * Annotations and form fields drawn as for printing; text, paths and images anti-aliased.
 * The 1-bit conversion needs the coverage anti-aliasing keeps: it places each text edge where
 * the gray has it, unless moving it by a pixel saves more line time than it costs resemblance
 * (native/image/edge_placement.h). Aliased text rendered as fast but left only the choice
 * its rasteriser made.
 */
const RENDER_FLAGS = FPDF_ANNOT | FPDF_PRINTING;
// FPDF_FORMFILLINFO is a version number followed by callbacks; zeroed, PDFium uses none of
// them (no JavaScript, no interaction), which is all drawing the fields needs.
const FORM_INFO_BYTES = 256;
const FORM_INFO_VERSION = 2;

function isBlankRow(gray: Uint8Array, row: number): boolean {
  const start = row * FAX_LINE_PX;
  for (let x = start; x < start + FAX_LINE_PX; x++) if (gray[x]! < BLANK_ROW_MIN_GRAY) return false;
  return true;
}

/** An open PDF. Close it to free PDFium's memory of it. */
export class PdfRenderer {
  readonly pageCount: number;
  private readonly pdfium: Pdfium;
  private readonly document: number;
  private readonly data: number;
  private readonly form: number;
  private readonly formInfo: number;
  private closed = false;

  /** Opens a PDF; throws a RenderFailure ('encrypted', 'corrupt') when PDFium cannot. */
  constructor(pdfium: Pdfium, pdf: Uint8Array) {
    this.pdfium = pdfium;
    const data = pdfium._malloc(pdf.length);
    if (data === 0)
      throw new RenderFailure('corrupt', `the PDF (${pdf.length} bytes) does not fit in the renderer's memory`);
    pdfium.HEAPU8.set(pdf, data);
    const document = pdfium._FPDF_LoadMemDocument(data, pdf.length, 0);
    if (document === 0) {
      const error = pdfium._FPDF_GetLastError();
      pdfium._free(data);
      throw PdfRenderer.loadFailure(error);
    }
    this.data = data;
    this.document = document;
    this.pageCount = pdfium._FPDF_GetPageCount(document);
    this.formInfo = pdfium._malloc(FORM_INFO_BYTES);
    this.form = 0;
    if (this.formInfo !== 0) {
      pdfium.HEAPU8.fill(0, this.formInfo, this.formInfo + FORM_INFO_BYTES);
      new DataView(pdfium.HEAPU8.buffer).setInt32(this.formInfo, FORM_INFO_VERSION, true);
      this.form = pdfium._FPDFDOC_InitFormFillEnvironment(document, this.formInfo);
    }
  }

  private static loadFailure(error: number): RenderFailure {
    switch (error) {
      case FPDF_ERR.PASSWORD:
        return new RenderFailure(
          'encrypted',
          'the PDF is encrypted with a user password (it needs a password to open)',
        );
      case FPDF_ERR.SECURITY:
        return new RenderFailure(
          'encrypted',
          'the PDF is encrypted with a security handler the renderer does not support',
        );
      case FPDF_ERR.FORMAT:
        return new RenderFailure('corrupt', 'the PDF is damaged beyond repair: its structure cannot be read');
      default:
        return new RenderFailure('corrupt', `the PDF cannot be opened (PDFium error ${error})`);
    }
  }

  /**
   * Opens page `index` (0-based) and calls `use` with its layout and a band renderer; the page
   * is closed after. Throws a RenderFailure ('corrupt') for a page PDFium cannot read or size.
   */
  withPage<T>(
    index: number,
    resolution: DocumentResolution,
    use: (layout: PageLayout, renderBand: (top: number, rows: number) => GrayBand) => T,
  ): T {
    const { pdfium, form } = this;
    const page = pdfium._FPDF_LoadPage(this.document, index);
    if (page === 0) throw new RenderFailure('corrupt', `page ${index + 1} cannot be read`);
    if (form !== 0) pdfium._FORM_OnAfterLoadPage(page, form);
    try {
      let layout: PageLayout;
      try {
        layout = layoutPage(
          {
            widthPt: pdfium._FPDF_GetPageWidthF(page),
            heightPt: pdfium._FPDF_GetPageHeightF(page),
            rotation: pdfium._FPDFPage_GetRotation(page),
          },
          resolution,
        );
      } catch (error) {
        if (error instanceof PageSizeError) throw new RenderFailure('corrupt', `page ${index + 1}: ${error.message}`);
        throw error;
      }
      return use(layout, (top, rows) => this.renderBand(page, layout, top, rows));
    } finally {
      if (form !== 0) pdfium._FORM_OnBeforeClosePage(page, form);
      pdfium._FPDF_ClosePage(page);
    }
  }

  /**
   * Renders a whole page as bands of at most its layout's piece length, cutting long pages at
   * blank rows (geometry.ts), and calls `each` with every band: one for most pages.
   */
  renderPage(
    index: number,
    resolution: DocumentResolution,
    each: (band: GrayBand, layout: PageLayout) => void,
  ): number {
    return this.withPage(index, resolution, (layout, renderBand) => {
      let bands = 0;
      for (let top = 0; top < layout.height; bands++) {
        const remaining = layout.height - top;
        const band = renderBand(top, Math.min(layout.pieceRows, remaining));
        try {
          const rows = band.rows < remaining ? cutRows(band.rows, (row) => isBlankRow(band.gray, row)) : band.rows;
          each({ ...band, gray: band.gray.subarray(0, rows * FAX_LINE_PX), rows }, layout);
          top += rows;
        } finally {
          band.free();
        }
      }
      return bands;
    });
  }

  /** Rows [top, top + rows) of a page's layout as gray. */
  private renderBand(page: number, layout: PageLayout, top: number, rows: number): GrayBand {
    const { pdfium, form } = this;
    const bitmap = pdfium._FPDFBitmap_CreateEx(FAX_LINE_PX, rows, FPDF_BITMAP_GRAY, 0, 0);
    if (bitmap === 0)
      throw new RenderFailure('corrupt', `a page bitmap of ${FAX_LINE_PX} × ${rows} does not fit in memory`);
    let freed = false;
    const free = (): void => {
      if (!freed) pdfium._FPDFBitmap_Destroy(bitmap);
      freed = true;
    };
    try {
      pdfium._FPDFBitmap_FillRect(bitmap, 0, 0, FAX_LINE_PX, rows, WHITE);
      const args = [bitmap, page, layout.left, -top, layout.width, layout.height, layout.turn] as const;
      pdfium._FPDF_RenderPageBitmap(...args, RENDER_FLAGS);
      // Form fields: drawn from their values after the page, as printing does.
      if (form !== 0) pdfium._FPDF_FFLDraw(form, ...args, RENDER_FLAGS & ~FPDF_ANNOT);
      const stride = pdfium._FPDFBitmap_GetStride(bitmap);
      // 1728 is a multiple of 4, so PDFium packs the rows: the bitmap is one gray image in
      // PDFium's memory, and the addon reads it from there without a copy.
      if (stride !== FAX_LINE_PX) throw new Error(`unexpected gray bitmap stride ${stride}`);
      const start = pdfium._FPDFBitmap_GetBuffer(bitmap);
      return { gray: pdfium.HEAPU8.subarray(start, start + FAX_LINE_PX * rows), rows, free };
    } catch (error) {
      free();
      throw error;
    }
  }

  /** Frees the document. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    const { pdfium } = this;
    if (this.form !== 0) pdfium._FPDFDOC_ExitFormFillEnvironment(this.form);
    if (this.formInfo !== 0) pdfium._free(this.formInfo);
    pdfium._FPDF_CloseDocument(this.document);
    pdfium._free(this.data);
  }
}
