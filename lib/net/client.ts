/**
 * The guarded HTTP client: every socket faxline opens to a URL goes through here. Each call
 * gets its own undici Agent whose connector checks the address actually connected (after
 * DNS, so rebinding cannot get around it), a total deadline, a size limit enforced while
 * streaming, and redirects followed by hand so each hop is checked like the first.
 */
import { isIP, type LookupFunction, type Socket } from 'node:net';
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { rootCertificates } from 'node:tls';
import { Agent, buildConnector, request, type Dispatcher } from 'undici';
import { checkBoolean, checkInteger, checkNumber, checkObject, checkSignal, checkString } from '../base/checks';
import { InvalidOptionError } from '../base/errors';
import { NetError } from './errors';
import { decodeDataUrl, readFileUrl, tooLarge } from './local';
import {
  checkFileAllowed,
  classifyAddress,
  describeUrl,
  FETCH_SCHEMES,
  HTTP_SCHEMES,
  parseUrl,
  type AddressCategory,
} from './policy';

/** Limits and policy for one fetch or post. */
export interface NetOptions {
  /**
   * Permit loopback, private, link-local, unspecified, CGNAT and other non-public addresses
   * (default false). Tests and local setups opt in; the CLI's `--allow-private` sets it.
   */
  allowPrivate?: boolean;
  /**
   * Permit `file:` URLs (default false). A local file belongs to the host, not to whoever
   * wrote the URL; the CLI sets it for the document it is given.
   */
  allowFiles?: boolean;
  /** Total time for the whole operation (DNS, connect, TLS, headers, body, redirects), ms; default 30 000. */
  timeoutMs?: number;
  /** Largest body accepted, bytes; default 50 MiB. */
  maxBytes?: number;
  /** Redirects followed before giving up; default 5 (0 refuses any redirect). */
  maxRedirects?: number;
  /** Extra CA certificates (PEM) trusted for https, in addition to Node's root store. */
  ca?: string | Buffer | (string | Buffer)[];
  /** Cancels the operation; it then fails with reason `aborted`. */
  signal?: AbortSignal;
}

/** Options of {@link postJson}: the usual limits plus request headers. */
export interface PostOptions extends NetOptions {
  /** Extra request headers (names are case-insensitive; `content-type` defaults to application/json). */
  headers?: Record<string, string>;
}

/** What {@link fetchBytes} got. */
export interface FetchResult {
  /** The body. */
  bytes: Buffer;
  /** The Content-Type the server (or the data: URL) declared, if any. */
  contentType: string | undefined;
  /** The URL the bytes came from, after redirects. */
  url: string;
}

/** What {@link postJson} got: any HTTP status (3xx and errors included) and the body, capped. */
export interface PostResult {
  status: number;
  /** The response body as UTF-8, at most {@link POST_RESPONSE_LIMIT} bytes of it. */
  body: string;
}

/** Default total time limit, ms. */
export const DEFAULT_TIMEOUT_MS = 30_000;
/** Default size limit, bytes. */
export const DEFAULT_MAX_BYTES = 50 * 1024 * 1024;
/** Default number of redirects followed. */
export const DEFAULT_MAX_REDIRECTS = 5;
/** How much of a status callback's response body is kept; the rest is discarded unread. */
export const POST_RESPONSE_LIMIT = 64 * 1024;

const USER_AGENT = 'faxline';
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
// setTimeout's largest delay.
const MAX_TIMEOUT_MS = 2 ** 31 - 1;

interface Resolved {
  allowPrivate: boolean;
  allowFiles: boolean;
  timeoutMs: number;
  maxBytes: number;
  maxRedirects: number;
  ca: (string | Buffer)[] | undefined;
  signal: AbortSignal | undefined;
}

/**
 * Fetch a URL's bytes under the policy: `https:`, `http:`, `data:` or, with `allowFiles`,
 * `file:` (a local regular file). Redirects (http and https only) are followed up to
 * `maxRedirects`, each hop checked like the first. Rejects with a {@link NetError} naming the
 * URL and the cause.
 */
export async function fetchBytes(url: string, options: NetOptions = {}): Promise<FetchResult> {
  const opts = resolveOptions(options);
  const first = parseUrl(url, FETCH_SCHEMES);
  checkFileAllowed(first, opts);
  const operation = new Operation(first, opts, 'fetching');
  try {
    operation.throwIfAborted();
    if (first.protocol === 'data:') {
      return { ...decodeDataUrl(first, opts.maxBytes), url: first.href };
    }
    if (first.protocol === 'file:') {
      return { ...(await readFileUrl(first, opts.maxBytes, operation.signal)), url: first.href };
    }
    return await operation.withAgent((agent) => fetchHttp(operation, agent));
  } catch (error) {
    throw operation.failure(error);
  } finally {
    operation.dispose();
  }
}

async function fetchHttp(operation: Operation, agent: Agent): Promise<FetchResult> {
  const { maxRedirects, maxBytes } = operation.options;
  for (let redirects = 0; ; redirects++) {
    const current = operation.url;
    const response = await request(current, {
      dispatcher: agent,
      method: 'GET',
      headers: { 'user-agent': USER_AGENT, accept: 'application/pdf, */*', 'accept-encoding': 'identity' },
      signal: operation.signal,
    });
    const location = header(response.headers.location);
    if (REDIRECT_STATUSES.has(response.statusCode) && location !== undefined) {
      discard(response.body);
      if (redirects >= maxRedirects) {
        throw new NetError(
          'redirects',
          `more than ${maxRedirects} redirects from ${describeUrl(operation.first)} (last: HTTP ${response.statusCode} from ${describeUrl(current)})`,
          { status: response.statusCode },
        );
      }
      operation.redirect(location);
      continue;
    }
    if (response.statusCode < 200 || response.statusCode > 299) {
      discard(response.body);
      throw new NetError('status', `HTTP ${response.statusCode} from ${operation.where()}`, {
        status: response.statusCode,
      });
    }
    const declared = Number(header(response.headers['content-length']));
    if (Number.isFinite(declared) && declared > maxBytes) {
      discard(response.body);
      throw tooLarge(current, maxBytes, `Content-Length ${declared}`);
    }
    const chunks: Buffer[] = [];
    let total = 0;
    for await (const chunk of response.body) {
      total += (chunk as Buffer).length;
      if (total > maxBytes) throw tooLarge(current, maxBytes, `more than ${maxBytes} bytes received`);
      chunks.push(chunk as Buffer);
    }
    return {
      bytes: Buffer.concat(chunks, total),
      contentType: header(response.headers['content-type']),
      url: current.href,
    };
  }
}

/**
 * POST a JSON body (for status callbacks): `http:`/`https:` only, the same address policy and
 * time limit as {@link fetchBytes}, no redirects followed (a 3xx is returned as a status). Any
 * HTTP status resolves; network failures, refusals, timeouts and aborts reject with a {@link NetError}.
 */
export async function postJson(url: string, body: string, options: PostOptions = {}): Promise<PostResult> {
  const opts = resolveOptions(options);
  const headers: Record<string, string> = { 'user-agent': USER_AGENT, 'content-type': 'application/json' };
  for (const [name, value] of Object.entries(options.headers ?? {})) {
    headers[name.toLowerCase()] = checkString(value, `header ${name}`);
  }
  const target = parseUrl(url, HTTP_SCHEMES);
  const operation = new Operation(target, opts, 'posting to');
  try {
    operation.throwIfAborted();
    return await operation.withAgent(async (agent) => {
      const response = await request(target, {
        dispatcher: agent,
        method: 'POST',
        headers,
        body,
        signal: operation.signal,
      });
      const chunks: Buffer[] = [];
      let total = 0;
      for await (const chunk of response.body) {
        const room = POST_RESPONSE_LIMIT - total;
        const piece = (chunk as Buffer).subarray(0, room);
        chunks.push(piece);
        total += piece.length;
        if (total >= POST_RESPONSE_LIMIT) break;
      }
      return { status: response.statusCode, body: Buffer.concat(chunks, total).toString('utf8') };
    });
  } catch (error) {
    throw operation.failure(error);
  } finally {
    operation.dispose();
  }
}

/**
 * One fetch or post: the URL being worked on (it moves with redirects), the deadline and the
 * caller's signal merged into one AbortSignal, and the mapping of any failure to a NetError.
 */
class Operation {
  readonly options: Resolved;
  readonly first: URL;
  url: URL;
  private readonly controller = new AbortController();
  private readonly timer: NodeJS.Timeout;
  private timedOut = false;
  private readonly verb: string;
  private readonly onAbort = (): void => this.controller.abort(this.options.signal?.reason);

  constructor(first: URL, options: Resolved, verb: string) {
    this.first = first;
    this.url = first;
    this.options = options;
    this.verb = verb;
    this.timer = setTimeout(() => {
      this.timedOut = true;
      this.controller.abort(new Error('faxline net deadline'));
    }, options.timeoutMs);
    options.signal?.addEventListener('abort', this.onAbort, { once: true });
  }

  /** Aborts on the deadline or on the caller's signal. */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  throwIfAborted(): void {
    if (this.options.signal?.aborted) throw new NetError('aborted', `aborted before ${this.verb} ${this.where()}`);
  }

  /** Run `work` with a fresh guarded Agent, closed (with its sockets) when the work ends. */
  async withAgent<T>(work: (agent: Agent) => Promise<T>): Promise<T> {
    const agent = createAgent(this.options);
    try {
      return await work(agent);
    } finally {
      await agent.destroy().catch(() => undefined);
    }
  }

  /** Follow a Location header: only to http:/https:, checked by the same connector as the first hop. */
  redirect(location: string): void {
    let next: URL;
    try {
      next = new URL(location, this.url);
    } catch (error) {
      throw new NetError('url', `invalid redirect Location ${JSON.stringify(location)} from ${describeUrl(this.url)}`, {
        cause: error,
      });
    }
    if (!HTTP_SCHEMES.includes(next.protocol)) {
      throw new NetError(
        'scheme',
        `redirect to unsupported scheme ${next.protocol} (${describeUrl(next)}) from ${describeUrl(this.url)}; only http: and https: are followed`,
      );
    }
    this.url = next;
  }

  /** The current URL for messages, with the original when redirects led elsewhere. */
  where(): string {
    const here = describeUrl(this.url);
    return this.url === this.first ? here : `${here} (redirected from ${describeUrl(this.first)})`;
  }

  /** Any error of this operation as a NetError naming the URL and the cause. */
  failure(error: unknown): unknown {
    if (error instanceof NetError || error instanceof InvalidOptionError) return error;
    if (this.timedOut || isUndiciTimeout(error)) {
      const seconds = this.options.timeoutMs / 1000;
      return new NetError('timeout', `timed out after ${seconds} s ${this.verb} ${this.where()}`, { cause: error });
    }
    if (this.options.signal?.aborted) {
      return new NetError('aborted', `aborted while ${this.verb} ${this.where()}`, { cause: error });
    }
    if (error instanceof AddressRefused) {
      return new NetError(
        'address',
        `refused address ${error.address} for ${this.where()} (${error.category}; allowPrivate to permit)`,
        { cause: error },
      );
    }
    const err = error as { code?: string; message?: string; cause?: { code?: string; message?: string } };
    // undici wraps some socket errors ("other side closed") and keeps the system one as cause.
    const detail = [err.message, err.cause?.message].filter(Boolean).join(': ') || String(error);
    const code = err.code && !detail.includes(err.code) ? ` (${err.code})` : '';
    return new NetError('network', `${this.verb} ${this.where()} failed: ${detail}${code}`, { cause: error });
  }

  dispose(): void {
    clearTimeout(this.timer);
    this.options.signal?.removeEventListener('abort', this.onAbort);
  }
}

function isUndiciTimeout(error: unknown): boolean {
  const code = (error as { code?: string } | undefined)?.code;
  return code === 'UND_ERR_CONNECT_TIMEOUT' || code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT';
}

/** The connector's refusal; Operation.failure turns it into NetError `address` with the URL. */
class AddressRefused extends Error {
  constructor(
    readonly address: string,
    readonly category: AddressCategory,
  ) {
    super(`refused address ${address} (${category})`);
  }
}

function createAgent(options: Resolved): Agent {
  return new Agent({
    connect: guardedConnector(options),
    // The Operation's deadline is the one time limit; undici's own only back it up.
    connectTimeout: options.timeoutMs,
    headersTimeout: options.timeoutMs,
    bodyTimeout: options.timeoutMs,
  });
}

/**
 * A connector that refuses non-public addresses unless allowed: literal IP hosts before any
 * socket exists, names in the DNS lookup the socket itself uses (so the address checked is the
 * address connected), and, as a last guard, the socket's remote address once connected.
 */
function guardedConnector(options: Resolved): buildConnector.connector {
  const connect = buildConnector({
    timeout: options.timeoutMs,
    ...(options.ca ? { ca: [...rootCertificates, ...options.ca] } : {}),
    ...(options.allowPrivate ? {} : { lookup: guardedLookup }),
  });
  if (options.allowPrivate) return connect;
  return (target, callback) => {
    if (isIP(target.hostname)) {
      const category = classifyAddress(target.hostname);
      if (category) {
        callback(new AddressRefused(target.hostname, category), null);
        return;
      }
    }
    connect(target, (error, socket) => {
      if (error || !socket) {
        callback(error ?? new Error('no socket'), null);
        return;
      }
      const remote = (socket as Socket).remoteAddress;
      const category = remote === undefined ? 'reserved' : classifyAddress(remote);
      if (category) {
        socket.destroy();
        callback(new AddressRefused(remote ?? '(unknown)', category), null);
        return;
      }
      callback(null, socket);
    });
  };
}

/**
 * dns.lookup with the non-public addresses taken out; when none is left, the connection fails
 * with AddressRefused. Answers in whichever shape the socket asked for (one address or all).
 */
const guardedLookup: LookupFunction = (hostname, options, callback) => {
  dnsLookup(hostname, { ...options, all: true }, (error, addresses: LookupAddress[]) => {
    if (error) {
      callback(error, '', 0);
      return;
    }
    const allowed = addresses.filter((entry) => classifyAddress(entry.address) === undefined);
    if (allowed.length === 0) {
      const refused = addresses[0];
      const category = refused ? (classifyAddress(refused.address) ?? 'reserved') : 'reserved';
      callback(new AddressRefused(refused?.address ?? hostname, category) as NodeJS.ErrnoException, '', 0);
      return;
    }
    if (options.all) {
      (callback as unknown as (error: null, addresses: LookupAddress[]) => void)(null, allowed);
    } else {
      callback(null, allowed[0].address, allowed[0].family);
    }
  });
};

/** Drop a body unread (it may be endless or stalled); its connection closes with it. */
function discard(body: Dispatcher.ResponseData['body']): void {
  // Destroying a body without an error makes undici emit an abort error that nobody needs.
  body.on('error', () => undefined).destroy();
}

function header(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function resolveOptions(options: NetOptions): Resolved {
  checkObject(options, 'options');
  const number = (name: keyof NetOptions, fallback: number, min: number, max: number, integer: boolean): number => {
    const value = options[name];
    if (value === undefined) return fallback;
    return integer ? checkInteger(value, name, min, max) : checkNumber(value, name, min, max);
  };
  for (const name of ['allowPrivate', 'allowFiles'] as const) {
    if (options[name] !== undefined) checkBoolean(options[name], name);
  }
  const ca = options.ca === undefined ? undefined : Array.isArray(options.ca) ? options.ca : [options.ca];
  if (ca?.some((entry) => typeof entry !== 'string' && !Buffer.isBuffer(entry))) {
    throw new InvalidOptionError('Expected a PEM string or Buffer (or an array of them) for ca');
  }
  if (options.signal !== undefined) checkSignal(options.signal);
  return {
    allowPrivate: options.allowPrivate ?? false,
    allowFiles: options.allowFiles ?? false,
    timeoutMs: number('timeoutMs', DEFAULT_TIMEOUT_MS, 1, MAX_TIMEOUT_MS, false),
    maxBytes: number('maxBytes', DEFAULT_MAX_BYTES, 0, Number.MAX_SAFE_INTEGER, true),
    maxRedirects: number('maxRedirects', DEFAULT_MAX_REDIRECTS, 0, 100, true),
    ca,
    signal: options.signal,
  };
}
