/**
 * SIP digest authentication (RFC 3261 §22 over RFC 2617, with RFC 7616 for SHA-256 and the
 * `-sess` variants): reading WWW-/Proxy-Authenticate challenges, building the
 * Authorization/Proxy-Authorization value that answers one, and checking such a value for our
 * own server side (tests, `faxline serve` behind no proxy). The caller picks the header names;
 * these functions deal in header values only.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { checkInteger, checkNonEmptyString, checkObject, checkString, invalidOption } from '../base/checks';

/** The digest algorithms we answer; a challenge naming any other is skipped. */
export type DigestAlgorithm = 'MD5' | 'MD5-sess' | 'SHA-256' | 'SHA-256-sess';

/** One `Digest` challenge of a 401 (WWW-Authenticate) or 407 (Proxy-Authenticate). */
export interface DigestChallenge {
  scheme: 'Digest';
  /** The protection space the credentials belong to. */
  realm: string;
  /** The server's nonce, echoed in the answer. */
  nonce: string;
  /** Echoed verbatim when present (RFC 2617 §3.2.1). */
  opaque?: string;
  /** MD5 when the challenge names none (RFC 2617). */
  algorithm: DigestAlgorithm;
  /** The qop tokens offered, lower case; absent = an RFC 2069 challenge (no qop). */
  qop?: string[];
  /** The previous answer failed only for an old nonce: retry with the same credentials. */
  stale?: boolean;
}

/** What a user agent authenticates with. */
export interface Credentials {
  username: string;
  password: string;
  /** When set, the credentials answer only challenges of this realm (see matchesRealm). */
  realm?: string;
}

/** The longest header value read (a SIP header is far shorter; the rest is ignored). */
export const MAX_AUTH_HEADER_CHARS = 8192;
/** Challenges kept from all the values given to parseChallenges at most. */
export const MAX_CHALLENGES = 16;
/** Parameters read per challenge or Authorization value at most. */
const MAX_PARAMS = 32;

const ALGORITHMS: Record<string, DigestAlgorithm> = {
  md5: 'MD5',
  'md5-sess': 'MD5-sess',
  'sha-256': 'SHA-256',
  'sha-256-sess': 'SHA-256-sess',
};

/** RFC 7230 tchar: the characters of a token (scheme names, parameter names, unquoted values). */
const TCHAR = /[!#$%&'*+.^_`|~0-9A-Za-z-]/;

/** One scheme and its parameters as read, names lower case; the first of a repeated name wins. */
interface RawChallenge {
  scheme: string;
  params: Map<string, string>;
}

/**
 * Splits one header value into challenges (RFC 7235 §4.1: `scheme [token68 | #auth-param]`,
 * several challenges separated by commas). A token followed by `=` and a value is a parameter of
 * the current challenge; any other token starts a new challenge. A token68 (`Basic abc==`) thus
 * reads as a challenge of its own or as a valueless parameter; either way it never becomes part of
 * a Digest challenge, which is all we read. Quoted strings take `\` escapes (RFC 7230 §3.2.6).
 */
function readChallenges(value: string, notes?: string[]): RawChallenge[] {
  const text = value.length > MAX_AUTH_HEADER_CHARS ? value.slice(0, MAX_AUTH_HEADER_CHARS) : value;
  if (text !== value)
    notes?.push(`header value longer than MAX_AUTH_HEADER_CHARS (${MAX_AUTH_HEADER_CHARS}): the rest ignored`);
  const out: RawChallenge[] = [];
  let current: RawChallenge | null = null;
  let pos = 0;
  const skipSpace = (): void => {
    while (pos < text.length && (text[pos] === ' ' || text[pos] === '\t' || text[pos] === '\r' || text[pos] === '\n'))
      pos++;
  };
  while (pos < text.length) {
    skipSpace();
    if (text[pos] === ',') {
      pos++;
      continue;
    }
    const start = pos;
    while (pos < text.length && TCHAR.test(text[pos])) pos++;
    if (pos === start) {
      // A stray character: skip it, as a lenient reader of a peer's header should.
      pos++;
      continue;
    }
    const token = text.slice(start, pos);
    skipSpace();
    if (text[pos] !== '=') {
      current = { scheme: token, params: new Map() };
      out.push(current);
      continue;
    }
    pos++;
    skipSpace();
    let paramValue: string;
    if (text[pos] === '"') {
      pos++;
      let v = '';
      while (pos < text.length && text[pos] !== '"') {
        if (text[pos] === '\\' && pos + 1 < text.length) pos++;
        v += text[pos++];
      }
      pos++;
      paramValue = v;
    } else {
      const vStart = pos;
      while (pos < text.length && text[pos] !== ',' && text[pos] !== ' ' && text[pos] !== '\t') pos++;
      paramValue = text.slice(vStart, pos);
    }
    const name = token.toLowerCase();
    if (current && current.params.size < MAX_PARAMS && !current.params.has(name)) current.params.set(name, paramValue);
  }
  return out;
}

/** A Digest challenge we can answer, or null (with a note saying why not). */
function toChallenge(raw: RawChallenge, notes?: string[]): DigestChallenge | null {
  if (raw.scheme.toLowerCase() !== 'digest') return null;
  const realm = raw.params.get('realm');
  const nonce = raw.params.get('nonce');
  if (realm === undefined || nonce === undefined || nonce === '') {
    notes?.push('a Digest challenge without realm or nonce: skipped');
    return null;
  }
  const algorithmText = raw.params.get('algorithm') ?? 'MD5';
  const algorithm = ALGORITHMS[algorithmText.toLowerCase()];
  if (algorithm === undefined) {
    notes?.push(`a Digest challenge with algorithm ${algorithmText}: skipped`);
    return null;
  }
  const challenge: DigestChallenge = { scheme: 'Digest', realm, nonce, algorithm };
  const opaque = raw.params.get('opaque');
  if (opaque !== undefined) challenge.opaque = opaque;
  const qopText = raw.params.get('qop');
  if (qopText !== undefined) {
    const qop = qopText
      .split(',')
      .map((t) => t.trim().toLowerCase())
      .filter((t) => t !== '');
    // Offering qop but none we know leaves nothing we could answer with (RFC 2617 §3.2.1).
    if (!qop.includes('auth') && !qop.includes('auth-int')) {
      notes?.push(`a Digest challenge with qop "${qopText}" only: skipped`);
      return null;
    }
    challenge.qop = qop;
  }
  const stale = raw.params.get('stale');
  if (stale !== undefined) challenge.stale = stale.toLowerCase() === 'true';
  return challenge;
}

/**
 * Reads the Digest challenges of WWW-Authenticate or Proxy-Authenticate header values (several
 * values, several challenges per value), in the order given. Other schemes, algorithms we do not
 * implement (SHA-512-256, AKA…), challenges lacking realm or nonce, and qop offers without `auth`
 * or `auth-int` are skipped, each with a line in `notes`. Bounded: MAX_AUTH_HEADER_CHARS per value,
 * MAX_CHALLENGES in all (named in `notes` when reached).
 */
export function parseChallenges(headerValues: string[], notes?: string[]): DigestChallenge[] {
  const out: DigestChallenge[] = [];
  if (!Array.isArray(headerValues)) return out;
  for (const value of headerValues) {
    if (typeof value !== 'string') continue;
    for (const raw of readChallenges(value, notes)) {
      const challenge = toChallenge(raw, notes);
      if (!challenge) continue;
      if (out.length === MAX_CHALLENGES) {
        notes?.push(`MAX_CHALLENGES (${MAX_CHALLENGES}) reached: the rest ignored`);
        return out;
      }
      out.push(challenge);
    }
  }
  return out;
}

/**
 * The challenge to answer: the first SHA-256 one (plain or -sess) when any is offered, else the
 * first MD5 one (RFC 7616 §3.7: a server lists them best first; SHA-256 is the stronger hash,
 * as issue 15 asks). Null for an empty list.
 */
export function pickChallenge(cs: DigestChallenge[]): DigestChallenge | null {
  if (!Array.isArray(cs) || cs.length === 0) return null;
  return cs.find((c) => c.algorithm.startsWith('SHA-256')) ?? cs[0];
}

/** Whether `creds` may answer `c`: credentials bound to a realm answer only that realm. */
export function matchesRealm(c: DigestChallenge, creds: Credentials): boolean {
  return creds.realm === undefined || creds.realm === c.realm;
}

function hashOf(algorithm: DigestAlgorithm): (data: string | Buffer) => string {
  const name = algorithm.startsWith('SHA-256') ? 'sha256' : 'md5';
  return (data) => createHash(name).update(data).digest('hex');
}

/** The inputs of a digest `response` (RFC 7616 §3.4.1–3.4.3; RFC 2617 §3.2.2). */
interface ResponseInputs {
  algorithm: DigestAlgorithm;
  username: string;
  realm: string;
  password: string;
  nonce: string;
  method: string;
  uri: string;
  qop?: 'auth' | 'auth-int';
  nc?: string;
  cnonce?: string;
  body?: Buffer;
}

/** request-digest: HA1, HA2 and their combination, lower-case hex. */
function computeResponse(i: ResponseInputs): string {
  const H = hashOf(i.algorithm);
  let ha1 = H(`${i.username}:${i.realm}:${i.password}`);
  if (i.algorithm.endsWith('-sess')) ha1 = H(`${ha1}:${i.nonce}:${i.cnonce ?? ''}`);
  const ha2 =
    i.qop === 'auth-int' ? H(`${i.method}:${i.uri}:${H(i.body ?? Buffer.alloc(0))}`) : H(`${i.method}:${i.uri}`);
  return i.qop ? H(`${ha1}:${i.nonce}:${i.nc}:${i.cnonce}:${i.qop}:${ha2}`) : H(`${ha1}:${i.nonce}:${ha2}`);
}

/** A quoted-string with `"` and `\` escaped (RFC 7230 §3.2.6). */
function quote(value: string): string {
  return `"${value.replace(/["\\]/g, (c) => `\\${c}`)}"`;
}

/**
 * The Authorization (or Proxy-Authorization) value answering `c`: `Digest username, realm,
 * nonce, uri, response, algorithm`, then `cnonce, qop, nc` when the challenge offered qop, and
 * `opaque` echoed. qop=auth when offered; auth-int when only that is (the hash covers `body`,
 * empty when absent); none when the challenge offered none (RFC 2069 style, no cnonce or nc,
 * except that a -sess algorithm needs a cnonce for its HA1 and so sends one). `nc` is the count of
 * requests made with this nonce (1 for the first), written as 8 hex digits; `cnonce` defaults to
 * 16 random bytes in hex. Throws InvalidOptionError for bad arguments or credentials bound to
 * another realm (check matchesRealm first).
 */
export function authorize(
  c: DigestChallenge,
  creds: Credentials,
  method: string,
  uri: string,
  nc: number,
  cnonce?: string,
  body?: Buffer,
): string {
  checkObject(c, 'challenge');
  checkObject(creds, 'credentials');
  checkString(creds.username, 'credentials.username');
  checkString(creds.password, 'credentials.password');
  checkNonEmptyString(method, 'method');
  checkNonEmptyString(uri, 'uri');
  checkInteger(nc, 'nc', 1, 0xffffffff);
  if (!Object.values(ALGORITHMS).includes(c.algorithm))
    throw invalidOption('MD5, MD5-sess, SHA-256 or SHA-256-sess', 'challenge.algorithm', String(c.algorithm));
  if (!matchesRealm(c, creds))
    throw invalidOption(
      `credentials for realm ${JSON.stringify(c.realm)}`,
      'credentials.realm',
      JSON.stringify(creds.realm),
    );
  if (cnonce !== undefined) checkNonEmptyString(cnonce, 'cnonce');
  if (body !== undefined && !Buffer.isBuffer(body)) throw invalidOption('a Buffer', 'body', typeof body);

  const qop = c.qop?.includes('auth') ? 'auth' : c.qop?.includes('auth-int') ? 'auth-int' : undefined;
  const needsCnonce = qop !== undefined || c.algorithm.endsWith('-sess');
  const usedCnonce = needsCnonce ? (cnonce ?? randomBytes(16).toString('hex')) : undefined;
  const ncText = nc.toString(16).padStart(8, '0');
  const response = computeResponse({
    algorithm: c.algorithm,
    username: creds.username,
    realm: c.realm,
    password: creds.password,
    nonce: c.nonce,
    method,
    uri,
    qop,
    nc: ncText,
    cnonce: usedCnonce,
    body,
  });
  const parts = [
    `username=${quote(creds.username)}`,
    `realm=${quote(c.realm)}`,
    `nonce=${quote(c.nonce)}`,
    `uri=${quote(uri)}`,
    `response=${quote(response)}`,
    `algorithm=${c.algorithm}`,
  ];
  if (usedCnonce !== undefined) parts.push(`cnonce=${quote(usedCnonce)}`);
  if (qop !== undefined) parts.push(`qop=${qop}`, `nc=${ncText}`);
  if (c.opaque !== undefined) parts.push(`opaque=${quote(c.opaque)}`);
  return `Digest ${parts.join(', ')}`;
}

/** What the server side checks beyond the digest itself. */
export interface VerifyOptions {
  /** The request body, needed to check qop=auth-int (without it such a value fails). */
  body?: Buffer;
  /** The Request-URI: when given, the value's `uri` must equal it (RFC 2617 §3.2.2.5). */
  requestUri?: string;
}

/**
 * Checks an Authorization/Proxy-Authorization value for our own server side: a Digest value with
 * username, realm, nonce, uri and response, an algorithm we implement, qop absent or auth/auth-int
 * (then nc of 8 hex digits and cnonce present), a nonce `nonceOk` accepts, a password for the
 * user and realm, and a response equal (compared in constant time) to the one computed for
 * `method`. Never throws on a peer's input: anything unreadable is false.
 */
export function verifyAuthorization(
  value: string,
  method: string,
  password: (user: string, realm: string) => string | undefined,
  nonceOk: (nonce: string) => boolean,
  options: VerifyOptions = {},
): boolean {
  if (typeof value !== 'string' || value.length > MAX_AUTH_HEADER_CHARS) return false;
  const raws = readChallenges(value);
  if (raws.length !== 1 || raws[0].scheme.toLowerCase() !== 'digest') return false;
  const p = raws[0].params;
  const username = p.get('username');
  const realm = p.get('realm');
  const nonce = p.get('nonce');
  const uri = p.get('uri');
  const response = p.get('response');
  if (username === undefined || realm === undefined || nonce === undefined || uri === undefined) return false;
  if (response === undefined || !/^[0-9a-fA-F]+$/.test(response)) return false;
  const algorithm = ALGORITHMS[(p.get('algorithm') ?? 'MD5').toLowerCase()];
  if (algorithm === undefined) return false;
  if (options.requestUri !== undefined && uri !== options.requestUri) return false;
  const qopText = p.get('qop')?.toLowerCase();
  if (qopText !== undefined && qopText !== 'auth' && qopText !== 'auth-int') return false;
  const qop = qopText as 'auth' | 'auth-int' | undefined;
  const nc = p.get('nc');
  const cnonce = p.get('cnonce');
  if (qop !== undefined && (nc === undefined || !/^[0-9a-fA-F]{8}$/.test(nc) || cnonce === undefined)) return false;
  if (qop === 'auth-int' && options.body === undefined) return false;
  if (algorithm.endsWith('-sess') && cnonce === undefined) return false;
  if (!nonceOk(nonce)) return false;
  const secret = password(username, realm);
  if (secret === undefined) return false;
  const expected = computeResponse({
    algorithm,
    username,
    realm,
    password: secret,
    nonce,
    method,
    uri,
    qop,
    nc,
    cnonce,
    body: options.body,
  });
  const given = Buffer.from(response.toLowerCase());
  const wanted = Buffer.from(expected);
  return given.length === wanted.length && timingSafeEqual(given, wanted);
}
