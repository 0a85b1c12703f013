/** Fax pages as 1-bit bitmaps, and their TIFF-F and PNG forms. */
import { PNG } from 'pngjs';
import { native, type NativeTiffCompression } from '../native';
import { ImageFileError, rethrowNative } from '../base/errors';
import { toNativeSend, type SendOptions } from './options';

/**
 * One bilevel page. Rows are packed 8 pixels a byte, most significant bit first, each row
 * `Math.ceil(width / 8)` bytes; a 1 bit is black (the fax convention).
 */
export interface FaxPage {
  width: number;
  height: number;
  /** Horizontal resolution, dots per inch (fax: 204). */
  xDpi: number;
  /** Vertical resolution, dots per inch (98 standard, 196 fine, 391 superfine). */
  yDpi: number;
  data: Uint8Array;
}

/** TIFF-F codings: T.4 1D (MH), T.4 2D (MR), T.6 (MMR). */
export type TiffCompression = NativeTiffCompression;

/** Bytes per row of a page. */
export function rowBytes(page: Pick<FaxPage, 'width'>): number {
  return Math.ceil(page.width / 8);
}

// The addon's messages already name the file and page.
function toImageError(error: unknown): never {
  const name = (error as Error).name;
  if (name === 'TypeError' || name === 'RangeError') rethrowNative(error);
  throw new ImageFileError((error as Error).message, { cause: error });
}

function imageCall<T>(call: () => T): T {
  try {
    return call();
  } catch (error) {
    return toImageError(error);
  }
}

/** Reads every page of a bilevel TIFF (any coding libtiff reads). */
export function readTiffPages(path: string): FaxPage[] {
  return imageCall(() => native.readTiff(path));
}

/** Whether SpanDSP can send pages of a TIFF file: code 0, or its T.30 file-error code and why. */
export interface TiffSendCheck {
  /** 0, or a T.30 completion code for the file (ResultCode.FILE_ERROR, NO_PAGE, BAD_TIFF, …). */
  code: number;
  /** What is wrong, naming the page; or which pages can be sent. */
  detail: string;
  /** Pages in the file (0 when it cannot be read). */
  pages: number;
}

/**
 * Checks, on a libuv thread, that SpanDSP can send `pages` of a TIFF file: its tags and every
 * page decoded, as a sending FaxSession otherwise does on the thread that makes it (about a
 * millisecond a page). After a pass, make the session with `pagesChecked: true`.
 */
export async function checkTiffForSending(path: string, pages: SendOptions['pages'] = {}): Promise<TiffSendCheck> {
  const { txFile, firstPage, lastPage } = toNativeSend({ document: path, pages });
  try {
    return await native.checkTiffAsync(txFile!, firstPage ?? 1, lastPage ?? 0);
  } catch (error) {
    return toImageError(error);
  }
}

/** Writes pages as a TIFF-F file (default coding T.6). */
export function writeTiffF(path: string, pages: readonly FaxPage[], compression: TiffCompression = 't6'): void {
  imageCall(() => native.writeTiffF(path, [...pages], compression));
}

/** Encodes a page as an 8-bit grayscale PNG (black on white). */
export function pageToPng(page: FaxPage): Buffer {
  const png = new PNG({
    width: page.width,
    height: page.height,
    colorType: 0,
    inputColorType: 0,
    inputHasAlpha: false,
    bitDepth: 8,
  });
  const stride = rowBytes(page);
  const gray = Buffer.alloc(page.width * page.height, 0xff);
  for (let y = 0; y < page.height; y++) {
    const rowStart = y * stride;
    const out = y * page.width;
    for (let x = 0; x < page.width; x++) {
      if (page.data[rowStart + (x >> 3)]! & (0x80 >> (x & 7))) gray[out + x] = 0;
    }
  }
  png.data = gray;
  return PNG.sync.write(png, { colorType: 0, inputColorType: 0, inputHasAlpha: false, bitDepth: 8 });
}
