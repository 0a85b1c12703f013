/** Why a URL could not be fetched or posted to. */
import { FaxlineError } from '../base/errors';

/** The kinds of network failure, each a stable reason string. */
export type NetFailure =
  | 'url' // the URL does not parse, or a file: URL names no usable local file
  | 'scheme' // a scheme not allowed here (ftp:, javascript:, file: without allowFiles, a redirect to file:, …)
  | 'address' // the host is, or resolves to, an address the policy refuses (loopback, private, …)
  | 'status' // the server answered with an HTTP status other than 2xx
  | 'timeout' // the total time limit ran out (DNS, connect, headers and body together)
  | 'too-large' // more bytes than the size limit
  | 'redirects' // more redirects than the limit
  | 'network' // the transport failed: refused connection, reset, TLS, DNS, or a local file read error
  | 'aborted'; // the caller's AbortSignal fired

/**
 * A URL that could not be fetched (or posted to). The message names the URL and the cause,
 * e.g. "HTTP 404 from http://example.com/a.pdf"; `status` is set for reason `status`.
 */
export class NetError extends FaxlineError {
  readonly reason: NetFailure;
  readonly status?: number;
  constructor(reason: NetFailure, message: string, options?: { cause?: unknown; status?: number }) {
    super('ERR_FAXLINE_NET', message, options && 'cause' in options ? { cause: options.cause } : undefined);
    this.reason = reason;
    if (options?.status !== undefined) this.status = options.status;
  }
}
