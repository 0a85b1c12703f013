/**
 * SIP messages on the wire (RFC 3261 §7, §20, §25): parse and serialize requests and responses, read and
 * edit headers, and the small grammars inside them (URIs, name-addr, Via, CSeq). Everything is bounded:
 * a message, a header line and the number of headers each have a named limit, and every parse failure
 * is a SipParseError with a stable `reason`.
 */
import { randomBytes } from 'node:crypto';
import { invalidOption } from '../base/checks';
import { SipParseError, type SipParseReason } from './errors';

export { SipParseError } from './errors';

/** One header line as received (after unfolding): the name in canonical long form, the value trimmed. */
export interface SipHeader {
  name: string;
  value: string;
}

/** A SIP request: method, Request-URI (as text), headers in order, body bytes. */
export interface SipRequest {
  type: 'request';
  method: string;
  uri: string;
  headers: SipHeader[];
  body: Buffer;
}

/** A SIP response: status code, reason phrase, headers in order, body bytes. */
export interface SipResponse {
  type: 'response';
  status: number;
  reason: string;
  headers: SipHeader[];
  body: Buffer;
}

/** A SIP request or response. */
export type SipMessage = SipRequest | SipResponse;

/**
 * The largest SIP message we accept or send, in bytes (start line, headers and body). 65 535 is the most a
 * UDP datagram can carry; the same bound holds for one message on a TCP stream, so a peer cannot make us
 * buffer more than this per connection.
 */
export const MAX_MESSAGE_BYTES = 65535;
/** The most header lines (after unfolding) one message may have. */
export const MAX_HEADERS = 256;
/** The longest one header line (after unfolding, name included) or start line may be, in bytes. */
export const MAX_HEADER_LINE_BYTES = 8192;

// Compact forms (RFC 3261 §7.3.3 and the registry of later RFCs).
const COMPACT: Record<string, string> = {
  a: 'Accept-Contact',
  b: 'Referred-By',
  c: 'Content-Type',
  d: 'Request-Disposition',
  e: 'Content-Encoding',
  f: 'From',
  i: 'Call-ID',
  j: 'Reject-Contact',
  k: 'Supported',
  l: 'Content-Length',
  m: 'Contact',
  n: 'Identity-Info',
  o: 'Event',
  r: 'Refer-To',
  s: 'Subject',
  t: 'To',
  u: 'Allow-Events',
  v: 'Via',
  x: 'Session-Expires',
  y: 'Identity',
};

// Long names whose canonical spelling is not plain Title-Case-With-Dashes, plus the common ones, so
// that `name` is predictable for the headers the stack reads.
const CANONICAL = new Map<string, string>(
  [
    'Accept',
    'Accept-Encoding',
    'Accept-Language',
    'Alert-Info',
    'Allow',
    'Authentication-Info',
    'Authorization',
    'Call-ID',
    'Call-Info',
    'Contact',
    'Content-Disposition',
    'Content-Language',
    'CSeq',
    'Date',
    'Diversion',
    'Error-Info',
    'Expires',
    'History-Info',
    'In-Reply-To',
    'Max-Forwards',
    'MIME-Version',
    'Min-Expires',
    'Min-SE',
    'Organization',
    'P-Asserted-Identity',
    'P-Preferred-Identity',
    'Path',
    'Priority',
    'Privacy',
    'Proxy-Authenticate',
    'Proxy-Authorization',
    'Proxy-Require',
    'RAck',
    'Reason',
    'Record-Route',
    'Remote-Party-ID',
    'Reply-To',
    'Require',
    'Retry-After',
    'Route',
    'RSeq',
    'Server',
    'Service-Route',
    'Timestamp',
    'Unsupported',
    'User-Agent',
    'Warning',
    'WWW-Authenticate',
    ...Object.values(COMPACT),
  ].map((n) => [n.toLowerCase(), n]),
);

// Headers whose value is a comma-separated list (RFC 3261 §7.3.1): getHeaders splits these, and no others
// (WWW-Authenticate, Authorization, Date … carry commas inside one value).
const LIST_HEADERS = new Set(
  [
    'Accept',
    'Accept-Contact',
    'Accept-Encoding',
    'Accept-Language',
    'Alert-Info',
    'Allow',
    'Allow-Events',
    'Call-Info',
    'Contact',
    'Content-Encoding',
    'Content-Language',
    'Diversion',
    'Error-Info',
    'History-Info',
    'In-Reply-To',
    'P-Asserted-Identity',
    'P-Preferred-Identity',
    'Path',
    'Proxy-Require',
    'Reason',
    'Record-Route',
    'Reject-Contact',
    'Require',
    'Route',
    'Service-Route',
    'Supported',
    'Unsupported',
    'Via',
    'Warning',
  ].map((n) => n.toLowerCase()),
);

const TOKEN = /^[A-Za-z0-9\-.!%*_+`'~]+$/;
// Characters a header line may hold besides printable ASCII and UTF-8: only HTAB (§25.1 allows no other controls).
// eslint-disable-next-line no-control-regex
const BAD_HEADER_CHARS = /[\x00-\x08\x0a-\x1f\x7f]/;

/** The canonical name of a header: compact forms expanded, known names spelled as RFC 3261 does. */
export function canonicalName(name: string): string {
  const lower = name.toLowerCase();
  if (lower.length === 1 && COMPACT[lower]) return COMPACT[lower];
  return CANONICAL.get(lower) ?? name;
}

function parseError(reason: SipParseReason, message: string, partial?: SipMessage): SipParseError {
  return new SipParseError(reason, message, partial ? { partial } : undefined);
}

// ---------------------------------------------------------------------------------------------------
// Message parsing

interface Head {
  start: Omit<SipRequest, 'headers' | 'body'> | Omit<SipResponse, 'headers' | 'body'>;
  headers: SipHeader[];
  /** The first problem met in the header lines; the well-formed lines are still in `headers`. */
  problem?: SipParseError;
}

function parseStartLine(line: string): Head['start'] {
  if (line.length > MAX_HEADER_LINE_BYTES) {
    throw parseError('header-too-long', `SIP start line longer than MAX_HEADER_LINE_BYTES (${MAX_HEADER_LINE_BYTES})`);
  }
  if (BAD_HEADER_CHARS.test(line)) throw parseError('bad-start-line', 'SIP start line holds a control character');
  if (line.startsWith('SIP/')) {
    // Status-Line = SIP-Version SP Status-Code SP Reason-Phrase (the reason may be empty; tolerate a missing SP).
    const m = /^SIP\/2\.0 ([1-6][0-9][0-9])(?: (.*))?$/.exec(line);
    if (!m) throw parseError('bad-start-line', `Not a SIP/2.0 status line: ${JSON.stringify(line.slice(0, 80))}`);
    return { type: 'response', status: Number(m[1]), reason: m[2] ?? '' };
  }
  // Request-Line = Method SP Request-URI SP SIP-Version, single spaces exactly (§7.1).
  const parts = line.split(' ');
  if (parts.length !== 3 || !TOKEN.test(parts[0]) || parts[2] !== 'SIP/2.0') {
    throw parseError('bad-start-line', `Not a SIP/2.0 request line: ${JSON.stringify(line.slice(0, 80))}`);
  }
  const uri = parts[1];
  if (!/^[A-Za-z][A-Za-z0-9+.-]*:[\x21-\x7e]+$/.test(uri)) {
    throw parseError('bad-uri', `Not a Request-URI: ${JSON.stringify(uri.slice(0, 80))}`);
  }
  if (/^(sips?|tel):/i.test(uri)) parseUri(uri);
  return { type: 'request', method: parts[0], uri };
}

/**
 * Reads the start line and header lines of `text` (the header section without its final empty line).
 * Header-line problems are recorded, not thrown, so the caller can still answer 400 from the lines that
 * were fine; a broken start line throws (there is nothing to answer).
 */
function parseHead(text: string): Head {
  const lines = text.split('\r\n');
  const start = parseStartLine(lines[0]);
  const headers: SipHeader[] = [];
  let problem: SipParseError | undefined;
  const note = (reason: SipParseReason, message: string) => {
    problem ??= parseError(reason, message);
  };
  let i = 1;
  while (i < lines.length) {
    let line = lines[i++];
    // Folding (§7.3.1): a line starting with SP or HTAB continues the previous one; it reads as one SP.
    while (i < lines.length && (lines[i].startsWith(' ') || lines[i].startsWith('\t'))) {
      line = `${trimLws(line)} ${trimLws(lines[i++])}`;
      if (line.length > MAX_HEADER_LINE_BYTES) break;
    }
    if (line.length > MAX_HEADER_LINE_BYTES) {
      note('header-too-long', `SIP header line longer than MAX_HEADER_LINE_BYTES (${MAX_HEADER_LINE_BYTES})`);
      while (i < lines.length && (lines[i].startsWith(' ') || lines[i].startsWith('\t'))) i++;
      continue;
    }
    if (headers.length >= MAX_HEADERS) {
      note('too-many-headers', `SIP message has more than MAX_HEADERS (${MAX_HEADERS}) header lines`);
      break;
    }
    const colon = line.indexOf(':');
    const name = colon < 0 ? '' : trimLws(line.slice(0, colon));
    if (colon < 0 || !TOKEN.test(name)) {
      note('bad-header', `Not a SIP header line: ${JSON.stringify(line.slice(0, 80))}`);
      continue;
    }
    if (BAD_HEADER_CHARS.test(line)) {
      note('bad-header', `SIP header ${name} holds a control character`);
      continue;
    }
    headers.push({ name: canonicalName(name), value: trimLws(line.slice(colon + 1)) });
  }
  return { start, headers, problem };
}

function trimLws(s: string): string {
  return s.replace(/^[ \t]+|[ \t]+$/g, '');
}

function assemble(head: Head, body: Buffer): SipMessage {
  return { ...head.start, headers: head.headers, body } as SipMessage;
}

/** The Content-Length value, or undefined when absent; throws 'bad-content-length' on garbage or duplicates. */
function contentLengthOf(headers: SipHeader[], partial: () => SipMessage): number | undefined {
  const values = headers.filter((h) => h.name === 'Content-Length');
  if (values.length === 0) return undefined;
  if (values.length > 1)
    throw parseError('bad-content-length', 'SIP message has more than one Content-Length', partial());
  const text = values[0].value;
  if (!/^[0-9]{1,10}$/.test(text)) {
    throw parseError(
      'bad-content-length',
      `Content-Length is not a number: ${JSON.stringify(text.slice(0, 40))}`,
      partial(),
    );
  }
  return Number(text);
}

/** Checks the headers every transaction needs (§8.1.1, §8.2.2): Via, CSeq (matching the method), Call-ID, From, To. */
function validate(m: SipMessage): void {
  const vias = getHeaders(m, 'Via');
  if (vias.length === 0) throw parseError('missing-header', 'SIP message has no Via', m);
  for (const v of vias) parseVia(v, m);
  const cseq = getHeader(m, 'CSeq');
  if (cseq === undefined) throw parseError('missing-header', 'SIP message has no CSeq', m);
  const { method } = parseCSeq(cseq, m);
  if (m.type === 'request' && method !== m.method) {
    throw parseError('bad-cseq', `CSeq method ${method} differs from the request method ${m.method}`, m);
  }
  const callId = getHeader(m, 'Call-ID');
  if (callId === undefined || callId === '' || /\s/.test(callId)) {
    throw parseError('missing-header', 'SIP message has no usable Call-ID', m);
  }
  for (const name of ['From', 'To']) {
    const value = getHeader(m, name);
    if (value === undefined) throw parseError('missing-header', `SIP message has no ${name}`, m);
    parseNameAddr(value, m);
  }
}

/** Splits `data` at the end of its header section; -1 when there is none. */
function headerEnd(data: Buffer, from = 0): number {
  return data.indexOf('\r\n\r\n', from, 'latin1');
}

/** Leading CR/LF before a start line are ignored (§7.5; also keep-alives on streams, RFC 5626). */
function skipLeadingCrlf(data: Buffer, from = 0): number {
  let i = from;
  while (i < data.length && (data[i] === 0x0d || data[i] === 0x0a)) i++;
  return i;
}

function finishParse(head: Head, body: Buffer): SipMessage {
  const message = assemble(head, body);
  if (head.problem) throw parseError(head.problem.reason, head.problem.message, message);
  if (head.headers.length >= MAX_HEADERS && !head.headers.some((h) => h.name === 'Content-Length')) {
    // The Content-Length we add must fit too, or serialize(parse(x)) would no longer parse.
    throw parseError(
      'too-many-headers',
      `SIP message has more than MAX_HEADERS (${MAX_HEADERS}) header lines`,
      message,
    );
  }
  // Content-Length becomes the body's exact length, in place, so serialize(parse(x)) reparses equal.
  setHeader(message, 'Content-Length', String(body.length));
  validate(message);
  return message;
}

/**
 * Parses one whole datagram (RFC 3261 §7, §18.3): a missing Content-Length means the rest of the datagram;
 * a shorter one truncates the body; one longer than what arrived is an error. Throws SipParseError; when
 * the start line and headers were readable, the error's `partial` holds them.
 */
export function parseMessage(data: Buffer): SipMessage {
  if (data.length > MAX_MESSAGE_BYTES) {
    throw parseError('message-too-large', `SIP message larger than MAX_MESSAGE_BYTES (${MAX_MESSAGE_BYTES})`);
  }
  const begin = skipLeadingCrlf(data);
  const end = headerEnd(data, begin);
  const head = parseHead(data.toString('utf8', begin, end < 0 ? data.length : end));
  const partial = () => assemble(head, Buffer.alloc(0));
  if (end < 0) throw parseError('truncated', 'SIP message has no empty line ending its headers', partial());
  const rest = data.subarray(end + 4);
  const length = contentLengthOf(head.headers, partial);
  if (length !== undefined && length > rest.length) {
    throw parseError(
      'bad-content-length',
      `Content-Length ${length} is longer than the ${rest.length} body bytes that arrived`,
      partial(),
    );
  }
  return finishParse(head, Buffer.from(length === undefined ? rest : rest.subarray(0, length)));
}

/**
 * Frames SIP messages on a byte stream (TCP, RFC 3261 §18.3): each message must carry Content-Length.
 * `push` returns the messages completed by a chunk. A stream that breaks framing (no header end within
 * MAX_MESSAGE_BYTES, a missing or garbage Content-Length, a message over the bound) throws SipParseError,
 * and the parser stays broken (the connection must be closed). A message that frames fine but is
 * malformed inside goes to `onError` when given (the stream continues), else it throws too.
 * The parser never holds more than MAX_MESSAGE_BYTES between pushes.
 */
export class SipStreamParser {
  #buffer: Buffer = Buffer.alloc(0);
  #scanned = 0;
  #broken: SipParseError | undefined;
  readonly #onError: ((error: SipParseError) => void) | undefined;

  /** `onError` receives per-message errors (framing still intact); without it those throw. */
  constructor(options: { onError?: (error: SipParseError) => void } = {}) {
    this.#onError = options.onError;
  }

  /** Bytes held for a message not yet complete. */
  get buffered(): number {
    return this.#buffer.length;
  }

  /** Feeds a chunk; returns the messages it completed, in order. */
  push(chunk: Buffer): SipMessage[] {
    if (this.#broken) throw this.#broken;
    const out: SipMessage[] = [];
    let data = this.#buffer.length === 0 ? chunk : Buffer.concat([this.#buffer, chunk]);
    for (;;) {
      const begin = skipLeadingCrlf(data);
      if (begin > 0) {
        data = data.subarray(begin);
        this.#scanned = 0;
      }
      if (data.length === 0) break;
      const end = headerEnd(data, Math.max(0, this.#scanned - 3));
      if (end < 0) {
        if (data.length >= MAX_MESSAGE_BYTES) {
          this.#fail(
            parseError('message-too-large', `SIP headers longer than MAX_MESSAGE_BYTES (${MAX_MESSAGE_BYTES})`),
          );
        }
        this.#scanned = data.length;
        break;
      }
      if (end + 4 > MAX_MESSAGE_BYTES) {
        this.#fail(parseError('message-too-large', `SIP headers longer than MAX_MESSAGE_BYTES (${MAX_MESSAGE_BYTES})`));
      }
      let head: Head;
      try {
        head = parseHead(data.toString('utf8', 0, end));
      } catch (error) {
        this.#fail(error as SipParseError);
      }
      let length: number | undefined;
      try {
        length = contentLengthOf(head.headers, () => assemble(head, Buffer.alloc(0)));
      } catch (error) {
        this.#fail(error as SipParseError);
      }
      if (length === undefined) {
        this.#fail(
          parseError('bad-content-length', 'Content-Length is missing on a stream', assemble(head, Buffer.alloc(0))),
        );
      }
      const total = end + 4 + length;
      if (total > MAX_MESSAGE_BYTES) {
        this.#fail(
          parseError(
            'message-too-large',
            `SIP message of ${total} bytes is larger than MAX_MESSAGE_BYTES (${MAX_MESSAGE_BYTES})`,
            assemble(head, Buffer.alloc(0)),
          ),
        );
      }
      if (data.length < total) {
        // The header end is known: the next search starts right at it.
        this.#scanned = end + 3;
        break;
      }
      const body = Buffer.from(data.subarray(end + 4, total));
      data = data.subarray(total);
      this.#scanned = 0;
      try {
        out.push(finishParse(head, body));
      } catch (error) {
        if (!this.#onError) {
          this.#buffer = Buffer.from(data);
          throw error;
        }
        this.#onError(error as SipParseError);
      }
    }
    // Copy: the remainder must not pin the (possibly large) chunk it was cut from.
    this.#buffer = data.length === 0 ? Buffer.alloc(0) : Buffer.from(data);
    return out;
  }

  #fail(error: SipParseError): never {
    this.#broken = error;
    this.#buffer = Buffer.alloc(0);
    this.#scanned = 0;
    throw error;
  }
}

// ---------------------------------------------------------------------------------------------------
// Serializing

function checkHeaderText(text: string, what: string): void {
  if (/[\r\n\0]/.test(text)) throw invalidOption('text without CR, LF or NUL', what, JSON.stringify(text.slice(0, 80)));
}

/** The message's bytes; Content-Length is written from the body (replacing any, or appended last). */
export function serializeMessage(m: SipMessage): Buffer {
  let start: string;
  if (m.type === 'request') {
    if (!TOKEN.test(m.method)) throw invalidOption('a token', 'SIP method', JSON.stringify(m.method));
    if (!/^[\x21-\x7e]+$/.test(m.uri))
      throw invalidOption('a URI without spaces', 'Request-URI', JSON.stringify(m.uri));
    start = `${m.method} ${m.uri} SIP/2.0`;
  } else {
    if (!Number.isInteger(m.status) || m.status < 100 || m.status > 699) {
      throw invalidOption('a status code 100–699', 'SIP status', String(m.status));
    }
    checkHeaderText(m.reason, 'reason phrase');
    start = `SIP/2.0 ${m.status} ${m.reason}`;
  }
  const lines = [start];
  let wroteLength = false;
  for (const h of m.headers) {
    if (!TOKEN.test(h.name)) throw invalidOption('a token', 'SIP header name', JSON.stringify(h.name));
    if (canonicalName(h.name) === 'Content-Length') {
      if (!wroteLength) lines.push(`Content-Length: ${m.body.length}`);
      wroteLength = true;
      continue;
    }
    checkHeaderText(h.value, `SIP header ${h.name}`);
    lines.push(`${h.name}: ${h.value}`);
  }
  if (!wroteLength) lines.push(`Content-Length: ${m.body.length}`);
  return Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'utf8'), m.body]);
}

// ---------------------------------------------------------------------------------------------------
// Header access

function sameName(a: string, b: string): boolean {
  return canonicalName(a).toLowerCase() === canonicalName(b).toLowerCase();
}

/**
 * Splits a header value at top-level commas: commas inside quoted strings (with \-escapes) and inside
 * <…> do not split. Empty elements are dropped.
 */
export function splitList(value: string): string[] {
  const out: string[] = [];
  let quoted = false;
  let angle = false;
  let from = 0;
  for (let i = 0; i < value.length; i++) {
    const c = value[i];
    if (quoted) {
      if (c === '\\') i++;
      else if (c === '"') quoted = false;
    } else if (c === '"') quoted = true;
    else if (c === '<') angle = true;
    else if (c === '>') angle = false;
    else if (c === ',' && !angle) {
      out.push(value.slice(from, i));
      from = i + 1;
    }
  }
  out.push(value.slice(from));
  return out.map(trimLws).filter((v) => v !== '');
}

/** The first value of a header (for list headers the first list element); name case-insensitive, compact allowed. */
export function getHeader(m: SipMessage, name: string): string | undefined {
  const canonical = canonicalName(name);
  const list = LIST_HEADERS.has(canonical.toLowerCase());
  for (const h of m.headers) {
    if (!sameName(h.name, canonical)) continue;
    if (!list) return h.value;
    const first = splitList(h.value)[0];
    if (first !== undefined) return first;
  }
  return undefined;
}

/** Every value of a header in order; list headers (Via, Route, Contact, Allow, …) split at top-level commas. */
export function getHeaders(m: SipMessage, name: string): string[] {
  const canonical = canonicalName(name);
  const list = LIST_HEADERS.has(canonical.toLowerCase());
  const out: string[] = [];
  for (const h of m.headers) {
    if (!sameName(h.name, canonical)) continue;
    if (list) out.push(...splitList(h.value));
    else out.push(h.value);
  }
  return out;
}

/** Replaces every header of that name with one (where the first was, else at the bottom). */
export function setHeader(m: SipMessage, name: string, value: string): void {
  const canonical = canonicalName(name);
  const at = m.headers.findIndex((h) => sameName(h.name, canonical));
  removeHeader(m, canonical);
  if (at < 0) m.headers.push({ name: canonical, value });
  else m.headers.splice(Math.min(at, m.headers.length), 0, { name: canonical, value });
}

/** Adds a header line: 'top' puts it above every other header (a new topmost Via), 'bottom' (default) last. */
export function addHeader(m: SipMessage, name: string, value: string, where: 'top' | 'bottom' = 'bottom'): void {
  const header = { name: canonicalName(name), value };
  if (where === 'top') m.headers.unshift(header);
  else m.headers.push(header);
}

/** Removes every header of that name. */
export function removeHeader(m: SipMessage, name: string): void {
  m.headers = m.headers.filter((h) => !sameName(h.name, name));
}

/** Replaces the topmost Via value (the first element of the first Via header), keeping any others in that line. */
export function setTopVia(m: SipMessage, via: Via): void {
  const at = m.headers.findIndex((h) => h.name === 'Via' && splitList(h.value).length > 0);
  if (at < 0) {
    addHeader(m, 'Via', formatVia(via), 'top');
    return;
  }
  const values = splitList(m.headers[at].value);
  values[0] = formatVia(via);
  m.headers[at] = { name: 'Via', value: values.join(', ') };
}

// ---------------------------------------------------------------------------------------------------
// URIs (RFC 3261 §19.1, RFC 3966 for tel)

/** A sip:, sips: or tel: URI, its escapes decoded. For tel: `user` is the number and `host` is ''. IPv6 hosts without []. */
export interface SipUri {
  scheme: 'sip' | 'sips' | 'tel';
  user?: string;
  password?: string;
  host: string;
  port?: number;
  params: Record<string, string | null>;
  headers: Record<string, string>;
}

const UNRESERVED = "A-Za-z0-9\\-_.!~*'()";
const USER_OK = new RegExp(`[^${UNRESERVED}&=+$,;?/]`, 'g');
const PASSWORD_OK = new RegExp(`[^${UNRESERVED}&=+$,]`, 'g');
const PARAM_OK = new RegExp(`[^${UNRESERVED}\\[\\]/:&+$]`, 'g');
const HEADER_OK = new RegExp(`[^${UNRESERVED}\\[\\]/?:+$]`, 'g');

function escape(text: string, notAllowed: RegExp): string {
  return text.replace(notAllowed, (c) =>
    [...Buffer.from(c, 'utf8')].map((b) => `%${b.toString(16).toUpperCase().padStart(2, '0')}`).join(''),
  );
}

function unescape(text: string, what: string, partial?: SipMessage): string {
  if (/%(?![0-9A-Fa-f]{2})/.test(text)) throw parseError('bad-uri', `Bad escape in URI ${what}`, partial);
  try {
    return decodeURIComponent(text);
  } catch {
    throw parseError('bad-uri', `Bad escape in URI ${what}`, partial);
  }
}

function parsePort(text: string, what: string, reason: SipParseReason, partial?: SipMessage): number {
  const port = /^[0-9]{1,5}$/.test(text) ? Number(text) : NaN;
  if (!(port >= 1 && port <= 65535)) throw parseError(reason, `Bad port in ${what}: ${JSON.stringify(text)}`, partial);
  return port;
}

function checkHost(host: string, what: string, reason: SipParseReason, partial?: SipMessage): void {
  if (!/^[A-Za-z0-9_.-]+$/.test(host))
    throw parseError(reason, `Bad host in ${what}: ${JSON.stringify(host)}`, partial);
}

/** Reads `[v6]:port` or `host:port` (port optional, SWS around ':' allowed for Via). */
function parseHostPort(
  text: string,
  what: string,
  reason: SipParseReason,
  partial?: SipMessage,
): { host: string; port?: number } {
  let host: string;
  let rest: string;
  if (text.startsWith('[')) {
    const close = text.indexOf(']');
    host = close < 0 ? '' : text.slice(1, close);
    if (!/^[0-9A-Fa-f:.]+$/.test(host) || !host.includes(':')) {
      throw parseError(reason, `Bad IPv6 reference in ${what}: ${JSON.stringify(text.slice(0, 60))}`, partial);
    }
    rest = text.slice(close + 1);
  } else {
    const colon = text.indexOf(':');
    host = trimLws(colon < 0 ? text : text.slice(0, colon));
    rest = colon < 0 ? '' : text.slice(colon);
    checkHost(host, what, reason, partial);
  }
  rest = trimLws(rest);
  if (rest === '') return { host };
  if (!rest.startsWith(':')) throw parseError(reason, `Bad host:port in ${what}: ${JSON.stringify(text)}`, partial);
  return { host, port: parsePort(trimLws(rest.slice(1)), what, reason, partial) };
}

/** Splits `a;b=c;d` style parameter text (starting after the first ';') at ';' outside quotes. */
function splitParams(text: string): string[] {
  const out: string[] = [];
  let quoted = false;
  let from = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '\\') i++;
      else if (c === '"') quoted = false;
    } else if (c === '"') quoted = true;
    else if (c === ';') {
      out.push(text.slice(from, i));
      from = i + 1;
    }
  }
  if (quoted) return [];
  out.push(text.slice(from));
  return out;
}

/** Header/Via parameters: names lower-cased, values as written (quoted strings keep their quotes), null without '='. */
function parseParams(
  text: string,
  what: string,
  reason: SipParseReason,
  partial?: SipMessage,
): Record<string, string | null> {
  const params: Record<string, string | null> = {};
  if (trimLws(text) === '') return params;
  const parts = splitParams(text);
  if (parts.length === 0) throw parseError(reason, `Unclosed quote in ${what} parameters`, partial);
  for (const part of parts) {
    const eq = part.indexOf('=');
    const name = trimLws(eq < 0 ? part : part.slice(0, eq)).toLowerCase();
    const value = eq < 0 ? null : trimLws(part.slice(eq + 1));
    if (!TOKEN.test(name)) throw parseError(reason, `Bad parameter in ${what}: ${JSON.stringify(part)}`, partial);
    if (value !== null && !(TOKEN_OR_HOST.test(value) || /^"(?:[^"\\]|\\.)*"$/.test(value))) {
      throw parseError(reason, `Bad parameter value in ${what}: ${JSON.stringify(part)}`, partial);
    }
    params[name] = value;
  }
  return params;
}
// A gen-value: token, host (IPv6 reference included), or quoted-string (§25.1); Via received may be a bare IPv6 address.
const TOKEN_OR_HOST = /^(?:[A-Za-z0-9\-.!%*_+`'~]+|\[[0-9A-Fa-f:.]+\]|[0-9A-Fa-f.]*:[0-9A-Fa-f:.]*)$/;

function formatParams(params: Record<string, string | null>): string {
  return Object.entries(params)
    .map(([k, v]) => (v === null ? `;${k}` : `;${k}=${v}`))
    .join('');
}

/** Parses a sip:, sips: or tel: URI (escapes decoded, parameter names lower-cased). Throws SipParseError 'bad-uri'. */
export function parseUri(text: string, partial?: SipMessage): SipUri {
  const fail = (why: string) => parseError('bad-uri', `${why}: ${JSON.stringify(text.slice(0, 80))}`, partial);
  if (text.length > MAX_HEADER_LINE_BYTES || !/^[\x21-\x7e]+$/.test(text) || /[<>"]/.test(text)) {
    throw fail('Not a URI');
  }
  const colon = text.indexOf(':');
  const scheme = text.slice(0, colon).toLowerCase();
  if (scheme !== 'sip' && scheme !== 'sips' && scheme !== 'tel') throw fail('Not a sip:, sips: or tel: URI');
  let rest = text.slice(colon + 1);
  const uri: SipUri = { scheme, host: '', params: {}, headers: {} };
  if (scheme === 'tel') {
    const semi = rest.indexOf(';');
    const number = semi < 0 ? rest : rest.slice(0, semi);
    if (!/^[0-9A-Fa-f*#+\-.()pPwW%]+$/.test(number)) throw fail('Bad tel: number');
    uri.user = unescape(number, 'number', partial);
    if (semi >= 0) uri.params = uriParams(rest.slice(semi + 1), fail, partial);
    return uri;
  }
  const at = rest.indexOf('@');
  if (at >= 0) {
    const userinfo = rest.slice(0, at);
    const pc = userinfo.indexOf(':');
    const user = pc < 0 ? userinfo : userinfo.slice(0, pc);
    if (user === '') throw fail('Empty user in URI');
    uri.user = unescape(user, 'user', partial);
    if (pc >= 0) uri.password = unescape(userinfo.slice(pc + 1), 'password', partial);
    rest = rest.slice(at + 1);
  }
  const q = rest.indexOf('?');
  const headersText = q < 0 ? '' : rest.slice(q + 1);
  if (q >= 0) rest = rest.slice(0, q);
  const semi = rest.indexOf(';');
  const hostport = semi < 0 ? rest : rest.slice(0, semi);
  if (hostport === '' || /[ \t]/.test(hostport)) throw fail('No host in URI');
  const hp = parseHostPort(hostport, 'URI', 'bad-uri', partial);
  uri.host = hp.host;
  if (hp.port !== undefined) uri.port = hp.port;
  if (semi >= 0) uri.params = uriParams(rest.slice(semi + 1), fail, partial);
  if (q >= 0) {
    for (const pair of headersText.split('&')) {
      const eq = pair.indexOf('=');
      if (eq <= 0) throw fail('Bad header in URI');
      uri.headers[unescape(pair.slice(0, eq), 'header', partial)] = unescape(pair.slice(eq + 1), 'header', partial);
    }
  }
  return uri;
}

function uriParams(
  text: string,
  fail: (why: string) => SipParseError,
  partial?: SipMessage,
): Record<string, string | null> {
  const params: Record<string, string | null> = {};
  for (const part of text.split(';')) {
    const eq = part.indexOf('=');
    const name = unescape(eq < 0 ? part : part.slice(0, eq), 'parameter', partial).toLowerCase();
    if (name === '') throw fail('Empty URI parameter');
    params[name] = eq < 0 ? null : unescape(part.slice(eq + 1), 'parameter', partial);
  }
  return params;
}

/** Writes a URI, escaping what the grammar does not allow bare; IPv6 hosts get their []. */
export function formatUri(u: SipUri): string {
  const params = Object.entries(u.params)
    .map(([k, v]) => (v === null ? `;${escape(k, PARAM_OK)}` : `;${escape(k, PARAM_OK)}=${escape(v, PARAM_OK)}`))
    .join('');
  if (u.scheme === 'tel') return `tel:${escape(u.user ?? '', USER_OK)}${params}`;
  let text = `${u.scheme}:`;
  if (u.user !== undefined) {
    text += escape(u.user, USER_OK);
    if (u.password !== undefined) text += `:${escape(u.password, PASSWORD_OK)}`;
    text += '@';
  }
  text += formatHost(u.host);
  if (u.port !== undefined) text += `:${u.port}`;
  text += params;
  const headers = Object.entries(u.headers);
  if (headers.length > 0) {
    text += `?${headers.map(([k, v]) => `${escape(k, HEADER_OK)}=${escape(v, HEADER_OK)}`).join('&')}`;
  }
  return text;
}

/** A host for a URI or Via: IPv6 addresses in []. */
export function formatHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

// ---------------------------------------------------------------------------------------------------
// name-addr / addr-spec (From, To, Contact, Route, Record-Route, …)

/** A name-addr or addr-spec: display name unquoted, the URI, and the header parameters (tag, expires, …). */
export interface NameAddr {
  displayName?: string;
  uri: SipUri;
  params: Record<string, string | null>;
}

/**
 * Parses `"Display" <uri>;params`, `Token Words <uri>;params` or a bare addr-spec `uri;params` (whose ';'
 * parameters belong to the header, not the URI, §20.10). Throws SipParseError 'bad-name-addr' / 'bad-uri'.
 */
export function parseNameAddr(text: string, partial?: SipMessage): NameAddr {
  const fail = (why: string) => parseError('bad-name-addr', `${why}: ${JSON.stringify(text.slice(0, 80))}`, partial);
  let s = trimLws(text);
  let displayName: string | undefined;
  if (s.startsWith('"')) {
    let i = 1;
    let name = '';
    for (; i < s.length && s[i] !== '"'; i++) {
      if (s[i] === '\\') i++;
      if (i < s.length) name += s[i];
    }
    if (i >= s.length) throw fail('Unclosed quoted display name');
    displayName = name;
    s = trimLws(s.slice(i + 1));
    if (!s.startsWith('<')) throw fail('A quoted display name without <URI>');
  }
  const lt = s.indexOf('<');
  let uriText: string;
  let paramText: string;
  if (lt >= 0) {
    if (displayName === undefined) {
      const words = trimLws(s.slice(0, lt));
      if (words !== '') {
        if (!words.split(/[ \t]+/).every((w) => TOKEN.test(w))) throw fail('Bad display name');
        displayName = words.replace(/[ \t]+/g, ' ');
      }
    }
    const gt = s.indexOf('>', lt);
    if (gt < 0) throw fail('Unclosed <');
    uriText = s.slice(lt + 1, gt);
    paramText = trimLws(s.slice(gt + 1));
  } else {
    const semi = s.indexOf(';');
    uriText = trimLws(semi < 0 ? s : s.slice(0, semi));
    paramText = semi < 0 ? '' : s.slice(semi);
    if (/[?,]/.test(uriText)) throw fail('An addr-spec without <> holding ? or ,');
  }
  if (paramText !== '' && !paramText.startsWith(';')) throw fail('Text after the URI');
  const uri = parseUri(uriText, partial);
  const params = parseParams(paramText.slice(1), 'name-addr', 'bad-name-addr', partial);
  const out: NameAddr = { uri, params };
  if (displayName !== undefined) out.displayName = displayName;
  return out;
}

/** Writes a name-addr, always with <> (safe for any URI) and the display name quoted. */
export function formatNameAddr(a: NameAddr): string {
  const name = a.displayName === undefined ? '' : `"${a.displayName.replace(/["\\]/g, (c) => `\\${c}`)}" `;
  return `${name}<${formatUri(a.uri)}>${formatParams(a.params)}`;
}

// ---------------------------------------------------------------------------------------------------
// Via and CSeq

/** One Via value: transport upper-cased, sent-by host (IPv6 without []) and port, parameters (branch, rport, received). */
export interface Via {
  transport: string;
  host: string;
  port?: number;
  params: Record<string, string | null>;
}

/** Parses one Via value (`SIP/2.0/UDP host:port;branch=…;rport`), LWS allowed where §25 allows it. */
export function parseVia(text: string, partial?: SipMessage): Via {
  const m = /^SIP[ \t]*\/[ \t]*2\.0[ \t]*\/[ \t]*([A-Za-z0-9\-.!%*_+`'~]+)[ \t]+([^;]*)(.*)$/i.exec(trimLws(text));
  if (!m) throw parseError('bad-via', `Not a Via: ${JSON.stringify(text.slice(0, 80))}`, partial);
  const { host, port } = parseHostPort(trimLws(m[2]), 'Via', 'bad-via', partial);
  const rest = trimLws(m[3]);
  const params = parseParams(rest.slice(1), 'Via', 'bad-via', partial);
  if (params.rport !== undefined && params.rport !== null) parsePort(params.rport, 'Via rport', 'bad-via', partial);
  const via: Via = { transport: m[1].toUpperCase(), host, params };
  if (port !== undefined) via.port = port;
  return via;
}

/** Writes a Via value. */
export function formatVia(v: Via): string {
  return `SIP/2.0/${v.transport} ${formatHost(v.host)}${v.port === undefined ? '' : `:${v.port}`}${formatParams(v.params)}`;
}

/** Parses a CSeq value: a sequence number below 2**31 and the method (§8.1.1.5). */
export function parseCSeq(text: string, partial?: SipMessage): { seq: number; method: string } {
  const m = /^([0-9]{1,10})[ \t]+([A-Za-z0-9\-.!%*_+`'~]+)$/.exec(trimLws(text));
  const seq = m ? Number(m[1]) : NaN;
  if (!m || !(seq < 2 ** 31)) throw parseError('bad-cseq', `Not a CSeq: ${JSON.stringify(text.slice(0, 80))}`, partial);
  return { seq, method: m[2] };
}

// ---------------------------------------------------------------------------------------------------
// Identifiers

/** A new Via branch: the RFC 3261 magic cookie z9hG4bK and 64 random bits. */
export function newBranch(): string {
  return `z9hG4bK${randomBytes(8).toString('hex')}`;
}

/** A new From/To tag: 64 random bits (§19.3 asks for at least 32). */
export function newTag(): string {
  return randomBytes(8).toString('hex');
}

/** A new Call-ID: 128 random bits at `host`. */
export function newCallId(host: string): string {
  return `${randomBytes(16).toString('hex')}@${host}`;
}

// ---------------------------------------------------------------------------------------------------
// Responses

/** Reason phrases for the codes the stack sends (RFC 3261 §21 and companions). */
export const REASON_PHRASES: Readonly<Record<number, string>> = {
  100: 'Trying',
  180: 'Ringing',
  181: 'Call Is Being Forwarded',
  182: 'Queued',
  183: 'Session Progress',
  200: 'OK',
  202: 'Accepted',
  300: 'Multiple Choices',
  301: 'Moved Permanently',
  302: 'Moved Temporarily',
  305: 'Use Proxy',
  380: 'Alternative Service',
  400: 'Bad Request',
  401: 'Unauthorized',
  402: 'Payment Required',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  406: 'Not Acceptable',
  407: 'Proxy Authentication Required',
  408: 'Request Timeout',
  410: 'Gone',
  413: 'Request Entity Too Large',
  414: 'Request-URI Too Long',
  415: 'Unsupported Media Type',
  416: 'Unsupported URI Scheme',
  420: 'Bad Extension',
  421: 'Extension Required',
  422: 'Session Interval Too Small',
  423: 'Interval Too Brief',
  480: 'Temporarily Unavailable',
  481: 'Call/Transaction Does Not Exist',
  482: 'Loop Detected',
  483: 'Too Many Hops',
  484: 'Address Incomplete',
  485: 'Ambiguous',
  486: 'Busy Here',
  487: 'Request Terminated',
  488: 'Not Acceptable Here',
  491: 'Request Pending',
  493: 'Undecipherable',
  500: 'Server Internal Error',
  501: 'Not Implemented',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Server Time-out',
  505: 'Version Not Supported',
  513: 'Message Too Large',
  600: 'Busy Everywhere',
  603: 'Decline',
  604: 'Does Not Exist Anywhere',
  606: 'Not Acceptable',
};

/** The 400 reason phrase that says what was wrong with a malformed request, e.g. 'Bad Content-Length'. */
export function badRequestPhrase(error: SipParseError): string {
  const phrases: Record<SipParseReason, string> = {
    'message-too-large': 'Message Too Large',
    'too-many-headers': 'Too Many Headers',
    'header-too-long': 'Header Too Long',
    'bad-start-line': 'Bad Request-Line',
    'bad-header': 'Bad Header',
    truncated: 'Truncated Message',
    'bad-content-length': 'Bad Content-Length',
    'missing-header': 'Missing Header',
    'bad-via': 'Bad Via',
    'bad-cseq': 'Bad CSeq',
    'bad-uri': 'Bad URI',
    'bad-name-addr': 'Bad Address',
  };
  return phrases[error.reason];
}

/**
 * A response to `request` per §8.2.6: every Via (in order), From, To (with `toTag`, or a new tag, added when
 * the To has none — except on 100, §8.2.6.2), Call-ID, CSeq, Timestamp on 100 (§8.2.6.1), an empty body.
 */
export function makeResponse(request: SipRequest, status: number, reason?: string, toTag?: string): SipResponse {
  const response: SipResponse = {
    type: 'response',
    status,
    reason: reason ?? REASON_PHRASES[status] ?? '',
    headers: [],
    body: Buffer.alloc(0),
  };
  for (const h of request.headers) if (h.name === 'Via') response.headers.push({ name: 'Via', value: h.value });
  for (const name of ['From', 'To', 'Call-ID', 'CSeq']) {
    const value = getHeader(request, name);
    if (value !== undefined) response.headers.push({ name, value });
  }
  const to = response.headers.find((h) => h.name === 'To');
  if (to && (toTag !== undefined || status !== 100)) {
    let hasTag = true;
    try {
      hasTag = parseNameAddr(to.value).params.tag !== undefined;
    } catch {
      // An unreadable To is copied as it is.
    }
    if (!hasTag) to.value = `${to.value};tag=${toTag ?? newTag()}`;
  }
  if (status === 100) {
    const timestamp = getHeader(request, 'Timestamp');
    if (timestamp !== undefined) response.headers.push({ name: 'Timestamp', value: timestamp });
  }
  response.headers.push({ name: 'Content-Length', value: '0' });
  return response;
}
