/** The URL policy and guarded HTTP client shared by lib/document (fetch) and lib/callbacks (POST). */
export { NetError, type NetFailure } from './errors';
export {
  fetchBytes,
  postJson,
  DEFAULT_MAX_BYTES,
  DEFAULT_MAX_REDIRECTS,
  DEFAULT_TIMEOUT_MS,
  POST_RESPONSE_LIMIT,
  type FetchResult,
  type NetOptions,
  type PostOptions,
  type PostResult,
} from './client';
export {
  checkFileAllowed,
  classifyAddress,
  describeUrl,
  FETCH_SCHEMES,
  HTTP_SCHEMES,
  type AddressCategory,
} from './policy';
