/**
 * The document room: fetch a PDF (or a PNG or JPEG image, placed on a page of its own) under
 * the net policy and render it to fax pages in a TIFF-F file.
 */
export { DocumentError, type DocumentFailure } from './errors';
export { fetchDocument, type DocumentFormat } from './fetch';
export { DEFAULT_IMAGE_DPI, MAX_IMAGE_PIXELS, MAX_IMAGE_SIDE_PX, type ImageKind } from './image-document';
export {
  prepareDocument,
  preparePdf,
  DEFAULT_MAX_PAGES,
  DEFAULT_PREPARE_TIME_LIMIT_MS,
  type PrepareOptions,
  type PreparedDocument,
} from './prepare';
export { closeIdleRenderWorkers, type Conversion } from './render';
export { defaultRenderConcurrency, renderConcurrency, setRenderConcurrency } from './render-slots';
export { RESOLUTIONS, type DocumentResolution } from './geometry';
