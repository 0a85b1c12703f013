/** The document room: fetch a PDF under the net policy and render it to fax pages in a TIFF-F file. */
export { DocumentError, type DocumentFailure } from './errors';
export { fetchDocument } from './fetch';
export {
  prepareDocument,
  preparePdf,
  DEFAULT_MAX_PAGES,
  DEFAULT_PREPARE_TIME_LIMIT_MS,
  type PrepareOptions,
  type PreparedDocument,
} from './prepare';
export type { Conversion } from './render';
export { defaultRenderConcurrency, renderConcurrency, setRenderConcurrency } from './render-slots';
export { RESOLUTIONS, type DocumentResolution } from './geometry';
