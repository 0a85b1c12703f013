/**
 * The SIP user agent core (RFC 3261 §8, §12–§15, RFC 4028, RFC 3264's offer/answer rules): places
 * calls (UAC), answers them (UAS), and runs each established call's re-INVITEs, BYE, glare back-off,
 * digest retries and session timers. Above the transaction layer; below the fax endpoint, which owns
 * the media and the SDP policy (this file passes SDP through and only compares it for refreshes).
 */
import { EventEmitter } from 'node:events';
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { authorize, matchesRealm, parseChallenges, pickChallenge, type Credentials } from './digest';
import { Dialog, incomingDialogId, tagOf, uriAddress } from './dialog';
import { SipCallError, SipTimeoutError } from './errors';
import { sameSession } from './fax-sdp';
import {
  addHeader,
  formatNameAddr,
  formatUri,
  getHeader,
  getHeaders,
  makeResponse,
  newCallId,
  newTag,
  parseCSeq,
  parseNameAddr,
  parseUri,
  setHeader,
  type NameAddr,
  type SipHeader,
  type SipRequest,
  type SipResponse,
  type SipUri,
} from './message';
import {
  DEFAULT_TIMERS,
  systemClock,
  TransactionLayer,
  type ClientTransaction,
  type Clock,
  type ServerTransaction,
  type Timers,
} from './transaction';
import type { SipAddress, SipTransport, SipTransportKind } from './transport';
import { checkInteger, checkNonEmptyString, checkObject, checkString } from '../base/checks';

/** The methods this UA handles, listed in Allow. */
export const ALLOW = 'INVITE, ACK, CANCEL, BYE, OPTIONS, UPDATE, INFO';
/** Attempts per request that answer a digest challenge at most (a proxy then the far end, plus one stale nonce each). */
export const MAX_AUTH_RETRIES = 4;
/** 422 Session Interval Too Small retries of one INVITE at most. */
export const MAX_422_RETRIES = 2;
/** 491 Request Pending retries of one re-INVITE at most (RFC 3261 §14.1 back-off between them). */
export const MAX_491_RETRIES = 2;
/** Early dialogs (forks answering 18x with SDP) whose SDP one INVITE remembers at most. */
export const MAX_EARLY_DIALOGS = 16;
/** How long an incoming INVITE may wait for accept() or reject() before the UA answers 480 itself. */
export const DEFAULT_ANSWER_TIMEOUT_MS = 180_000;
/** How long a host name in a URI may take to resolve. */
export const RESOLVE_TIMEOUT_MS = 5000;
/** Retry-After (s) sent with 503 while draining. */
export const DRAINING_RETRY_AFTER_S = 30;
/** How long close() waits for the BYEs of the calls still up (each is also bounded by Timer F). */
export const CLOSE_BYE_WAIT_MS = 2000;
/** RFC 4028's floor for Min-SE, and the default. */
export const DEFAULT_MIN_SE = 90;
/** The session interval we ask for by default (RFC 4028 recommends 1800 s). */
export const DEFAULT_SESSION_EXPIRES = 1800;

/** What a SipUserAgent is built from. */
export interface UserAgentOptions {
  transport: SipTransport;
  /** A transaction layer over `transport` (tests wrap the transport); made by the UA when absent. */
  transactions?: TransactionLayer;
  /** The host (IP) put in Contact; the transport's local address when absent. */
  publicHost?: string;
  /** The user part of Contact and of the default From. */
  userName?: string;
  /** Every out-of-dialog request goes here first (`sip:host:port;lr`), with a Route header naming it. */
  outboundProxy?: string;
  credentials?: Credentials;
  /** The session interval (s) asked for in INVITEs (RFC 4028); 0 turns session timers off. */
  sessionExpires?: number;
  /** The smallest session interval (s) accepted from a peer; RFC 4028's floor 90 by default. */
  minSE?: number;
  userAgent?: string;
  timers?: Partial<Timers>;
  clock?: Clock;
  /** A uniform random number in [0, 1) for the §14.1 glare back-off (tests make it fixed). */
  random?: () => number;
  /** How long an incoming INVITE may go unanswered before the UA answers 480 (ms). */
  answerTimeout?: number;
}

/** What SipUserAgent.stats() returns: call counters, then the layers' own. */
export interface UserAgentStats {
  callsIn: number;
  callsOut: number;
  /** Calls established or ending now. */
  active: number;
  rejected: number;
  transport: ReturnType<SipTransport['stats']>;
  transactions: ReturnType<TransactionLayer['stats']>;
}

/** The end of a call, reported once by 'ended'. */
export interface CallEnd {
  by: 'local' | 'remote' | 'timeout' | 'error';
  status?: number;
  detail: string;
}

/** An established call (a confirmed dialog with its INVITE session). */
export interface SipCall extends EventEmitter {
  readonly callId: string;
  readonly localSdp: string;
  readonly remoteSdp: string;
  readonly direction: 'in' | 'out';
  /** Sends a re-INVITE with `offer`; 491 is retried after the §14.1 back-off at most twice. */
  reinvite(offer: string): Promise<{ status: number; answer: string | null }>;
  /** Ends the call with BYE (bounded by the transaction's Timer F). */
  bye(): Promise<void>;
}

/** A new incoming INVITE waiting for accept() or reject(). Emits 'cancelled' and 'ended'. */
export interface IncomingCall extends EventEmitter {
  readonly requestUri: SipUri;
  readonly from: NameAddr;
  readonly to: NameAddr;
  readonly diversion?: NameAddr;
  readonly callId: string;
  /** The SDP of the INVITE; null when it had none (the offer is then ours, in the 2xx). */
  readonly offer: string | null;
  /** The INVITE as received (its headers, e.g. Authorization, are the application's to read). */
  readonly request: SipRequest;
  progress(status: 180 | 183, sdp?: string): void;
  /** Sends 200 with `answer`, retransmitted until the ACK; resolves on the ACK. */
  accept(answer: string): Promise<SipCall>;
  /** Sends a final status of 300 or more; `headers` are added (e.g. WWW-Authenticate). */
  reject(status: number, reason?: string, headers?: SipHeader[]): void;
}

/** Options of SipUserAgent.invite. */
export interface InviteOptions {
  to: string;
  from?: string;
  offer: string;
  signal?: AbortSignal;
  /** SDP of a 180/183 (early media). */
  onEarly?: (sdp: string) => void;
  /** Every provisional except 100 (status, reason). */
  onProvisional?: (status: number, reason: string) => void;
  headers?: SipHeader[];
}

interface FinalResult {
  response: SipResponse;
  request: SipRequest;
  auth: SipHeader[];
}

interface RunOptions {
  /** Builds the request anew for each attempt (a new CSeq), with the credentials so far. */
  build: (auth: SipHeader[]) => SipRequest;
  to: SipAddress;
  onProvisional?: (response: SipResponse) => void;
  /** Each attempt's client transaction (CANCEL needs the current one). */
  onAttempt?: (tx: ClientTransaction) => void;
  /** 2xx after the first final response (forks, retransmissions: RFC 6026 passes them up). */
  onLate2xx?: (response: SipResponse, request: SipRequest, auth: SipHeader[]) => void;
}

function sdpOf(m: { body: Buffer }): string | null {
  return m.body.length > 0 ? m.body.toString('utf8') : null;
}

function sessionExpiresOf(m: SipRequest | SipResponse): { interval: number; refresher?: 'uac' | 'uas' } | null {
  const v = getHeader(m, 'Session-Expires');
  if (v === undefined) return null;
  const match = /^\s*(\d+)\s*(.*)$/.exec(v);
  if (!match) return null;
  const refresher = /;\s*refresher\s*=\s*(uac|uas)/i.exec(match[2])?.[1]?.toLowerCase() as 'uac' | 'uas' | undefined;
  return { interval: Number(match[1]), refresher };
}

/** What a 415 carries (§21.4.13): the one body type and encoding we read. */
const ACCEPT_HEADERS: readonly SipHeader[] = [
  { name: 'Accept', value: 'application/sdp' },
  { name: 'Accept-Encoding', value: 'identity' },
];

/**
 * Whether a request's body is one we cannot read (§8.2.3: answered 415): a type other than
 * application/sdp, or an encoding other than identity. A body without Content-Type is read as SDP,
 * as lenient peers do; an empty body is always fine.
 */
function unreadableBody(m: SipRequest): boolean {
  if (m.body.length === 0) return false;
  const type = getHeader(m, 'Content-Type');
  if (type !== undefined && type.split(';')[0].trim().toLowerCase() !== 'application/sdp') return true;
  const encoding = getHeader(m, 'Content-Encoding');
  return encoding !== undefined && encoding.trim().toLowerCase() !== 'identity';
}

/** The option tags of Require we lack (§8.2.2.3: answered 420 with Unsupported); timer is the one we have. */
function unsupportedExtensions(m: SipRequest): string[] {
  return getHeaders(m, 'Require')
    .map((t) => t.trim())
    .filter((t) => t.toLowerCase() !== 'timer');
}

function supportsTimer(m: SipRequest | SipResponse): boolean {
  return [...getHeaders(m, 'Supported'), ...getHeaders(m, 'Require')].some((t) => t.trim().toLowerCase() === 'timer');
}

/**
 * The machinery of a SipUserAgent: addressing, client requests with digest retries, the UAC and UAS
 * halves, and the table of calls. Not exported: the calls and incoming INVITEs reach it, hosts do not.
 */
class UserAgentCore {
  readonly transport: SipTransport;
  readonly transactions: TransactionLayer;
  readonly clock: Clock;
  readonly timers: Timers;
  readonly random: () => number;
  readonly credentials?: Credentials;
  readonly sessionExpires: number;
  readonly minSE: number;
  private readonly publicHost?: string;
  private readonly userName: string;
  private readonly outboundProxy?: SipUri;
  private readonly userAgent: string;
  private readonly answerTimeout: number;
  /** Established (and ending) calls by dialog id. */
  readonly dialogs = new Map<string, CallImpl>();
  private readonly incoming = new Map<ServerTransaction, IncomingCallImpl>();
  private readonly pendingRejects = new Set<(e: Error) => void>();
  private readonly outgoing = new Set<() => void>();
  private readonly ncByNonce = new Map<string, number>();
  isDraining = false;
  private closed = false;
  private counts = { callsIn: 0, callsOut: 0, rejected: 0 };
  private registerCallId?: string;
  private registerSeq = 0;

  /** `events` is the SipUserAgent that emits 'call'. */
  constructor(
    options: UserAgentOptions,
    private readonly events: EventEmitter,
  ) {
    checkObject(options, 'options');
    if (options.transport === null || typeof options.transport !== 'object')
      throw new TypeError('Expected a SipTransport for options.transport');
    this.transport = options.transport;
    this.clock = options.clock ?? systemClock;
    this.timers = { ...DEFAULT_TIMERS, ...(options.timers ?? {}) };
    for (const k of ['T1', 'T2', 'T4'] as const) checkInteger(this.timers[k], `options.timers.${k}`, 1, 600_000);
    this.transactions =
      options.transactions ?? new TransactionLayer(this.transport, { timers: this.timers, clock: this.clock });
    this.random = options.random ?? Math.random;
    if (options.publicHost !== undefined)
      this.publicHost = checkNonEmptyString(options.publicHost, 'options.publicHost');
    this.userName =
      options.userName === undefined ? 'faxline' : checkNonEmptyString(options.userName, 'options.userName');
    if (options.outboundProxy !== undefined)
      this.outboundProxy = parseUri(checkNonEmptyString(options.outboundProxy, 'options.outboundProxy'));
    if (options.credentials !== undefined) {
      checkObject(options.credentials, 'options.credentials');
      checkString(options.credentials.username, 'options.credentials.username');
      checkString(options.credentials.password, 'options.credentials.password');
      this.credentials = options.credentials;
    }
    this.minSE = options.minSE === undefined ? DEFAULT_MIN_SE : checkInteger(options.minSE, 'options.minSE', 1, 86_400);
    this.sessionExpires =
      options.sessionExpires === undefined
        ? DEFAULT_SESSION_EXPIRES
        : checkInteger(options.sessionExpires, 'options.sessionExpires', 0, 86_400);
    if (this.sessionExpires !== 0 && this.sessionExpires < this.minSE)
      throw new RangeError(
        `Expected options.sessionExpires of at least minSE ${this.minSE} but got ${this.sessionExpires}`,
      );
    this.userAgent = options.userAgent === undefined ? 'faxline' : checkString(options.userAgent, 'options.userAgent');
    this.answerTimeout =
      options.answerTimeout === undefined
        ? DEFAULT_ANSWER_TIMEOUT_MS
        : checkInteger(options.answerTimeout, 'options.answerTimeout', 1, 3_600_000);
    this.transactions.on('request', this.onRequest);
    this.transactions.on('ack', this.onAck);
    this.transactions.on('cancel', this.onCancel);
    this.transactions.on('timeout', this.onServerTimeout);
  }

  /** Counters and the layers' own stats. */
  stats(): UserAgentStats {
    return {
      ...this.counts,
      active: this.dialogs.size,
      transport: this.transport.stats(),
      transactions: this.transactions.stats(),
    };
  }

  // ---- addressing ----

  /** The Contact header value for requests and responses sent over `kind`. */
  contact(kind: SipTransportKind): string {
    const local = this.transport.local(kind);
    const params: Record<string, string | null> = kind === 'tcp' ? { transport: 'tcp' } : {};
    return formatNameAddr({
      uri: {
        scheme: 'sip',
        user: this.userName,
        host: this.publicHost ?? local.host,
        port: local.port,
        params,
        headers: {},
      },
      params: {},
    });
  }

  /** Common headers of every request and 2xx we send. */
  commonHeaders(): SipHeader[] {
    const h: SipHeader[] = [
      { name: 'Allow', value: ALLOW },
      { name: 'Supported', value: 'timer' },
    ];
    if (this.userAgent !== '') h.push({ name: 'User-Agent', value: this.userAgent });
    return h;
  }

  /** Resolves a host name (bounded); IP literals pass through. */
  async resolve(address: SipAddress): Promise<SipAddress> {
    if (isIP(address.host) !== 0) return address;
    let timer: unknown;
    const timeout = new Promise<never>((_, reject) => {
      timer = this.clock.setTimeout(
        () => reject(new SipCallError(503, `resolving ${address.host} took over ${RESOLVE_TIMEOUT_MS} ms`)),
        RESOLVE_TIMEOUT_MS,
      );
    });
    try {
      const found = await Promise.race([lookup(address.host, { family: 4 }), timeout]);
      return { ...address, host: found.address };
    } catch (error) {
      if (error instanceof SipCallError) throw error;
      throw new SipCallError(503, `cannot resolve ${address.host}`, `cannot resolve ${address.host}: ${String(error)}`);
    } finally {
      this.clock.clearTimeout(timer);
    }
  }

  // ---- client requests with digest retries ----

  /** One request in one client transaction: resolves at its first final response. */
  private sendOnce(request: SipRequest, to: SipAddress, opts: RunOptions, auth: SipHeader[]): Promise<SipResponse> {
    return new Promise<SipResponse>((resolve, reject) => {
      let settled = false;
      const fail = (e: Error): void => {
        if (settled) return;
        settled = true;
        this.pendingRejects.delete(fail);
        reject(e);
      };
      this.pendingRejects.add(fail);
      const tx = this.transactions.sendRequest(request, to, {
        onResponse: (response) => {
          if (response.status < 200) {
            if (!settled) opts.onProvisional?.(response);
            return;
          }
          if (!settled) {
            settled = true;
            this.pendingRejects.delete(fail);
            resolve(response);
          } else if (response.status < 300) {
            opts.onLate2xx?.(response, request, auth);
          }
        },
        onTimeout: (error) =>
          fail(
            error ??
              new SipTimeoutError(
                request.method === 'INVITE' ? 'B' : 'F',
                request.method,
                `no final response to ${request.method} within 64*T1 (${64 * this.timers.T1} ms)`,
              ),
          ),
        onTransportError: (error) =>
          fail(new SipCallError(503, 'transport error', `sending ${request.method} failed: ${error.message}`)),
      });
      opts.onAttempt?.(tx);
    });
  }

  /** Sends a request, answering 401/407 with credentials (once per realm unless stale). */
  async run(opts: RunOptions): Promise<FinalResult> {
    const answered = new Map<string, SipHeader>();
    const tried = new Set<string>();
    for (let attempt = 0; ; attempt++) {
      const auth = [...answered.values()];
      const request = opts.build(auth);
      const response = await this.sendOnce(request, opts.to, opts, auth);
      const creds = this.credentials;
      if ((response.status === 401 || response.status === 407) && creds && attempt < MAX_AUTH_RETRIES) {
        const challengeName = response.status === 401 ? 'WWW-Authenticate' : 'Proxy-Authenticate';
        const answerName = response.status === 401 ? 'Authorization' : 'Proxy-Authorization';
        const c = pickChallenge(parseChallenges(getHeaders(response, challengeName)));
        const key = `${answerName}\n${c?.realm}`;
        if (c && matchesRealm(c, creds) && (!tried.has(key) || c.stale === true)) {
          tried.add(key);
          const nc = (this.ncByNonce.get(c.nonce) ?? 0) + 1;
          this.ncByNonce.set(c.nonce, nc);
          if (this.ncByNonce.size > 256) this.ncByNonce.delete(this.ncByNonce.keys().next().value as string);
          // The credentials are computed on the request the next attempt builds; its URI and method are the same.
          answered.set(key, {
            name: answerName,
            value: authorize(c, creds, request.method, request.uri, nc, undefined, request.body),
          });
          continue;
        }
      }
      return { response, request, auth };
    }
  }

  // ---- UAC: INVITE ----

  /**
   * Places a call. Resolves with the established call on the first 2xx (ACK sent); rejects with
   * SipCallError {status, reason} for a final status of 300 or more (487 when `signal` aborted it and
   * the CANCEL took), SipTimeoutError when nothing final came within Timer B.
   */
  async invite(options: InviteOptions): Promise<SipCall> {
    if (this.closed) throw new SipCallError(503, 'user agent closed');
    checkObject(options, 'options');
    const target = parseUri(checkNonEmptyString(options.to, 'options.to'));
    checkNonEmptyString(options.offer, 'options.offer');
    const firstHop = this.outboundProxy ?? target;
    const to = await this.resolve(uriAddress(firstHop));
    const kind = to.transport;
    const local = this.transport.local(kind);
    const fromValue =
      options.from ??
      formatNameAddr({ uri: parseUri(`sip:${this.userName}@${this.publicHost ?? local.host}`), params: {} });
    const fromTag = newTag();
    const from = parseNameAddr(fromValue);
    from.params.tag = fromTag;
    const callId = newCallId(this.publicHost ?? local.host);
    // §19.1.5: URI headers and the method parameter never go into a Request-URI (nor into To).
    const targetParams = { ...target.params };
    delete targetParams.method;
    const requestUri: SipUri = { ...target, params: targetParams, headers: {} };
    const toValue = formatNameAddr({ uri: requestUri, params: {} });
    let cseq = Math.floor(this.random() * 0x7fff);
    let sessionExpires = this.sessionExpires;
    let minSE = this.minSE;
    this.counts.callsOut += 1;

    let currentTx: ClientTransaction | undefined;
    let aborted = false;
    let gotProvisional = false;
    let established: CallImpl | undefined;
    let cancelTimer: unknown;
    let rejectAbort: ((e: Error) => void) | undefined;
    const abortWait = new Promise<never>((_, reject) => (rejectAbort = reject));
    abortWait.catch(() => undefined);

    const onAbort = (): void => {
      if (aborted || established) return;
      aborted = true;
      // Before a provisional the transaction defers the CANCEL until one comes (§9.1); Timer B bounds that.
      currentTx?.cancel();
      // §9.1: no final response within 64*T1 of the CANCEL → give up on the INVITE.
      cancelTimer = this.clock.setTimeout(
        () =>
          rejectAbort?.(new SipCallError(487, `cancelled; no final response within 64*T1 (${64 * this.timers.T1} ms)`)),
        64 * this.timers.T1 + (gotProvisional ? 0 : 64 * this.timers.T1),
      );
    };
    this.outgoing.add(onAbort);
    options.signal?.addEventListener('abort', onAbort, { once: true });

    const build =
      (extraHeaders: SipHeader[]) =>
      (auth: SipHeader[]): SipRequest => {
        cseq += 1;
        const headers: SipHeader[] = [];
        if (this.outboundProxy) headers.push({ name: 'Route', value: `<${formatUri(this.outboundProxy)}>` });
        headers.push(
          { name: 'Max-Forwards', value: '70' },
          { name: 'From', value: formatNameAddr(from) },
          { name: 'To', value: toValue },
          { name: 'Call-ID', value: callId },
          { name: 'CSeq', value: `${cseq} INVITE` },
          { name: 'Contact', value: this.contact(kind) },
          ...this.commonHeaders(),
        );
        if (sessionExpires > 0) {
          headers.push({ name: 'Session-Expires', value: String(sessionExpires) });
          if (minSE !== DEFAULT_MIN_SE) headers.push({ name: 'Min-SE', value: String(minSE) });
        }
        headers.push(...auth, ...extraHeaders, ...(options.headers ?? []), {
          name: 'Content-Type',
          value: 'application/sdp',
        });
        return {
          type: 'request',
          method: 'INVITE',
          uri: formatUri(requestUri),
          headers,
          body: Buffer.from(options.offer),
        };
      };

    // The dialogs of 2xx we do not keep (other forks, or an answer that crossed our CANCEL), by To tag:
    // each is ACKed every time its 2xx comes and gets one BYE. Bounded by the forks' 2xx that reach
    // Timer M of the one INVITE transaction (each costs a BYE transaction, capped by maxTransactions).
    const discarded = new Map<string, Dialog>();
    const ackAndBye = (response: SipResponse, request: SipRequest, auth: SipHeader[]): void => {
      const tag = tagOf(getHeader(response, 'To')) ?? '';
      const seq = parseCSeq(getHeader(response, 'CSeq') ?? '0 INVITE').seq;
      const known = discarded.get(tag);
      const d = known ?? Dialog.fromUac(request, response);
      void this.sendInDialogAck(d, seq, auth, kind).catch(() => undefined);
      if (known) return; // a retransmission: its BYE is out already
      discarded.set(tag, d);
      void this.run({
        build: (byeAuth) => d.buildRequest('BYE', { headers: [...this.commonHeaders(), ...byeAuth] }),
        to,
      })
        .then(() => undefined)
        .catch(() => undefined);
    };
    // The SDP of each early dialog (To tag): a 2xx that leaves the answer out repeats it (§13.2.1).
    const earlySdp = new Map<string, string>();

    try {
      if (options.signal?.aborted) onAbort();
      for (let retries422 = 0; ; retries422++) {
        const result = await Promise.race([
          this.run({
            build: build([]),
            to,
            onAttempt: (tx) => {
              currentTx = tx;
              if (aborted) tx.cancel();
            },
            onProvisional: (r) => {
              gotProvisional = true;
              if (r.status === 100) return;
              options.onProvisional?.(r.status, r.reason);
              const sdp = sdpOf(r);
              if (sdp !== null && (r.status === 183 || r.status === 180)) {
                const tag = tagOf(getHeader(r, 'To'));
                if (tag !== undefined && earlySdp.size < MAX_EARLY_DIALOGS) earlySdp.set(tag, sdp);
                options.onEarly?.(sdp);
              }
            },
            onLate2xx: (response, request, auth) => {
              // The same dialog's 2xx again: the ACK was lost; another dialog's: a fork we do not keep.
              const toTag = tagOf(getHeader(response, 'To'));
              if (established && toTag === established.dialog.state.remoteTag) {
                const seq = parseCSeq(getHeader(response, 'CSeq') ?? '0 INVITE').seq;
                void this.sendInDialogAck(established.dialog, seq, auth, kind).catch(() => undefined);
              } else {
                ackAndBye(response, request, auth);
              }
            },
          }),
          abortWait,
        ]);
        const { response, request, auth } = result;
        if (response.status >= 200 && response.status < 300) {
          if (aborted) {
            ackAndBye(response, request, auth);
            throw new SipCallError(487, 'cancelled (answered before the CANCEL took; BYE sent)');
          }
          const dialog = Dialog.fromUac(request, response);
          // A 2xx must carry the answer; some gateways leave it in the 183 only, so that one stands in.
          const answer = sdpOf(response) ?? earlySdp.get(dialog.state.remoteTag) ?? '';
          const call = new CallImpl(this, dialog, 'out', options.offer, answer, kind);
          established = call;
          this.dialogs.set(dialog.id, call);
          await this.sendInDialogAck(dialog, dialog.state.localSeq, auth, kind);
          call.applySessionTimerFromResponse(response, sessionExpires > 0);
          return call;
        }
        if (response.status === 422 && retries422 < MAX_422_RETRIES && !aborted) {
          const min = Number(getHeader(response, 'Min-SE')?.split(';')[0].trim());
          if (Number.isInteger(min) && min > sessionExpires) {
            minSE = min;
            sessionExpires = min;
            continue;
          }
        }
        throw new SipCallError(response.status, response.reason);
      }
    } catch (error) {
      this.counts.rejected += 1;
      if (aborted && error instanceof SipTimeoutError) throw new SipCallError(487, 'cancelled before any provisional');
      throw error;
    } finally {
      this.clock.clearTimeout(cancelTimer);
      this.outgoing.delete(onAbort);
      options.signal?.removeEventListener('abort', onAbort);
    }
  }

  /** The ACK for a 2xx (§13.2.2.4): a request in the dialog with the INVITE's CSeq number. */
  async sendInDialogAck(dialog: Dialog, seq: number, auth: SipHeader[], kind: SipTransportKind): Promise<void> {
    const ack = dialog.buildRequest('ACK', { cseq: seq, headers: [...auth, ...this.commonHeaders().slice(2)] });
    const to = await this.resolve(uriAddress(dialog.nextHopUri(), kind));
    await this.transactions.sendStateless(ack, to);
  }

  /**
   * REGISTER with `registrar` (a SIP URI) for `expires` seconds, answering 401/407. Resolves the
   * expiry the registrar granted; rejects with SipCallError for a final status of 300 or more.
   */
  async register(registrar: string, expires = 3600): Promise<{ status: number; expires: number }> {
    const uri = parseUri(checkNonEmptyString(registrar, 'registrar'));
    checkInteger(expires, 'expires', 0, 86_400 * 7);
    const to = await this.resolve(uriAddress(this.outboundProxy ?? uri));
    const aor = formatNameAddr({
      uri: {
        scheme: 'sip',
        user: this.credentials?.username ?? this.userName,
        host: uri.host,
        params: {},
        headers: {},
      },
      params: {},
    });
    this.registerCallId ??= newCallId(this.publicHost ?? this.transport.local(to.transport).host);
    const tag = newTag();
    const { response } = await this.run({
      to,
      build: (auth) => {
        this.registerSeq += 1;
        const headers: SipHeader[] = [];
        if (this.outboundProxy) headers.push({ name: 'Route', value: `<${formatUri(this.outboundProxy)}>` });
        headers.push(
          { name: 'Max-Forwards', value: '70' },
          { name: 'From', value: `${aor};tag=${tag}` },
          { name: 'To', value: aor },
          { name: 'Call-ID', value: this.registerCallId as string },
          { name: 'CSeq', value: `${this.registerSeq} REGISTER` },
          { name: 'Contact', value: this.contact(to.transport) },
          { name: 'Expires', value: String(expires) },
          ...this.commonHeaders(),
          ...auth,
        );
        return {
          type: 'request',
          method: 'REGISTER',
          uri: formatUri({ ...uri, user: undefined }),
          headers,
          body: Buffer.alloc(0),
        };
      },
    });
    if (response.status >= 300) throw new SipCallError(response.status, response.reason);
    const granted = Number(getHeader(response, 'Expires') ?? expires);
    return { status: response.status, expires: Number.isFinite(granted) ? granted : expires };
  }

  /** Sends OPTIONS to `target` (a SIP URI) and resolves its final response's status. */
  async options(target: string): Promise<number> {
    const uri = parseUri(checkNonEmptyString(target, 'target'));
    const to = await this.resolve(uriAddress(this.outboundProxy ?? uri));
    const host = this.publicHost ?? this.transport.local(to.transport).host;
    const callId = newCallId(host);
    const tag = newTag();
    const { response } = await this.run({
      to,
      build: (auth) => ({
        type: 'request',
        method: 'OPTIONS',
        uri: formatUri(uri),
        headers: [
          ...(this.outboundProxy ? [{ name: 'Route', value: `<${formatUri(this.outboundProxy)}>` }] : []),
          { name: 'Max-Forwards', value: '70' },
          { name: 'From', value: `<sip:${this.userName}@${host}>;tag=${tag}` },
          { name: 'To', value: `<${formatUri(uri)}>` },
          { name: 'Call-ID', value: callId },
          { name: 'CSeq', value: '1 OPTIONS' },
          { name: 'Accept', value: 'application/sdp' },
          ...this.commonHeaders(),
          ...auth,
        ],
        body: Buffer.alloc(0),
      }),
    });
    return response.status;
  }

  // ---- UAS: requests from the transaction layer ----

  /** A response to `req` with our common headers. */
  respond(tx: ServerTransaction, status: number, reason?: string, toTag?: string, headers: SipHeader[] = []): void {
    const r = makeResponse(tx.request, status, reason, toTag);
    for (const h of headers) addHeader(r, h.name, h.value, 'bottom');
    if (getHeader(r, 'Allow') === undefined && (status === 405 || status < 300)) addHeader(r, 'Allow', ALLOW, 'bottom');
    if (this.userAgent !== '') setHeader(r, 'Server', this.userAgent);
    tx.respond(r);
  }

  private readonly onRequest = (request: SipRequest, tx: ServerTransaction): void => {
    try {
      this.dispatch(request, tx);
    } catch (error) {
      // A request we could not make sense of (e.g. a header that does not parse) still gets an answer.
      try {
        this.respond(tx, 400, `Bad Request (${(error as Error).message.slice(0, 80)})`);
      } catch {
        /* the transaction is gone; nothing to answer */
      }
    }
  };

  private dispatch(request: SipRequest, tx: ServerTransaction): void {
    if (this.closed) return this.respond(tx, 503, 'Service Unavailable');
    if (tagOf(getHeader(request, 'To')) !== undefined) {
      const id = incomingDialogId(request);
      const call = id === undefined ? undefined : this.dialogs.get(id);
      if (!call) return this.respond(tx, 481, 'Call/Transaction Does Not Exist');
      const unsupported = unsupportedExtensions(request);
      if (unsupported.length > 0)
        return this.respond(tx, 420, 'Bad Extension', undefined, [
          { name: 'Unsupported', value: unsupported.join(', ') },
        ]);
      return call.onRequest(request, tx);
    }
    switch (request.method) {
      case 'INVITE':
        return this.onInvite(request, tx);
      case 'OPTIONS':
        if (this.isDraining)
          return this.respond(tx, 503, 'Service Unavailable', undefined, [
            { name: 'Retry-After', value: String(DRAINING_RETRY_AFTER_S) },
          ]);
        return this.respond(tx, 200, 'OK', newTag(), [
          { name: 'Accept', value: 'application/sdp' },
          { name: 'Supported', value: 'timer' },
        ]);
      case 'BYE':
      case 'UPDATE':
      case 'INFO':
      case 'PRACK':
        return this.respond(tx, 481, 'Call/Transaction Does Not Exist');
      default:
        return this.respond(tx, 405, 'Method Not Allowed', newTag());
    }
  }

  private onInvite(request: SipRequest, tx: ServerTransaction): void {
    this.counts.callsIn += 1;
    if (this.isDraining) {
      this.counts.rejected += 1;
      return this.respond(tx, 503, 'Service Unavailable', newTag(), [
        { name: 'Retry-After', value: String(DRAINING_RETRY_AFTER_S) },
      ]);
    }
    // §8.2.2.3: an extension the caller requires and we lack is refused with 420.
    const unsupported = unsupportedExtensions(request);
    if (unsupported.length > 0) {
      this.counts.rejected += 1;
      return this.respond(tx, 420, 'Bad Extension', newTag(), [{ name: 'Unsupported', value: unsupported.join(', ') }]);
    }
    // §8.2.3: a body we cannot read (ISUP, multipart, compressed) is refused with 415 naming what we read.
    if (unreadableBody(request)) {
      this.counts.rejected += 1;
      return this.respond(tx, 415, 'Unsupported Media Type', newTag(), [...ACCEPT_HEADERS]);
    }
    const se = sessionExpiresOf(request);
    if (se && se.interval < this.minSE) {
      this.counts.rejected += 1;
      return this.respond(tx, 422, 'Session Interval Too Small', newTag(), [
        { name: 'Min-SE', value: String(this.minSE) },
      ]);
    }
    if (getHeaders(request, 'Contact').length === 0) {
      this.counts.rejected += 1;
      return this.respond(tx, 400, 'Bad Request (no Contact)');
    }
    const incoming = new IncomingCallImpl(this, request, tx);
    this.incoming.set(tx, incoming);
    if (this.events.listenerCount('call') === 0) {
      incoming.reject(480, 'Temporarily Unavailable');
      return;
    }
    incoming.startAnswerTimer(this.answerTimeout);
    this.events.emit('call', incoming);
  }

  forgetIncoming(tx: ServerTransaction): void {
    this.incoming.delete(tx);
  }

  countRejected(): void {
    this.counts.rejected += 1;
  }

  private readonly onAck = (ack: SipRequest): void => {
    const id = incomingDialogId(ack);
    if (id !== undefined) this.dialogs.get(id)?.onAck(ack);
  };

  /** The layer answered an INVITE 408 itself (its maxProceeding) or gave up on it: the call is gone. */
  private readonly onServerTimeout = (tx: ServerTransaction, error?: Error): void => {
    this.incoming.get(tx)?.onTimeout(error?.message ?? 'the INVITE transaction timed out');
  };

  private readonly onCancel = (tx: ServerTransaction): void => {
    const incoming = this.incoming.get(tx);
    if (incoming) return incoming.onCancel();
    // A CANCEL for a re-INVITE: RFC 3261 §9.2 lets it end the pending re-INVITE with 487.
    const id = incomingDialogId(tx.request);
    if (id !== undefined) this.dialogs.get(id)?.onCancelReinvite(tx);
  };

  /** Ends every call with BYE (each bounded by Timer F), answers waiting INVITEs 503, closes the layers. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const incoming of [...this.incoming.values()]) incoming.reject(503, 'Service Unavailable');
    for (const abort of [...this.outgoing]) abort();
    // Each BYE is bounded by Timer F already; close() waits less than that for a far end that is gone.
    let waitTimer: unknown;
    await Promise.race([
      Promise.allSettled([...this.dialogs.values()].map((c) => c.bye())),
      new Promise<void>((resolve) => {
        waitTimer = this.clock.setTimeout(resolve, Math.min(64 * this.timers.T1, CLOSE_BYE_WAIT_MS));
      }),
    ]);
    this.clock.clearTimeout(waitTimer);
    for (const fail of [...this.pendingRejects]) fail(new SipCallError(503, 'user agent closed'));
    for (const c of [...this.dialogs.values()]) c.finish({ by: 'local', detail: 'user agent closed' });
    this.transactions.off('request', this.onRequest);
    this.transactions.off('ack', this.onAck);
    this.transactions.off('cancel', this.onCancel);
    this.transactions.off('timeout', this.onServerTimeout);
    this.transactions.close();
    await this.transport.close();
  }
}

/**
 * A SIP user agent over one transport: emits 'call' (IncomingCall) for each new INVITE and places
 * calls with invite(). OPTIONS is answered 200 (Allow, Accept), or 503 while draining. close() ends
 * every call and closes the transaction layer and the transport.
 */
export class SipUserAgent extends EventEmitter {
  readonly #core: UserAgentCore;

  constructor(options: UserAgentOptions) {
    super();
    this.#core = new UserAgentCore(options, this);
  }

  /** The transport it sends and listens on. */
  get transport(): SipTransport {
    return this.#core.transport;
  }

  /** Its transaction layer. */
  get transactions(): TransactionLayer {
    return this.#core.transactions;
  }

  /** While draining, new INVITEs get 503 with Retry-After and OPTIONS 503. */
  get draining(): boolean {
    return this.#core.isDraining;
  }
  set draining(v: boolean) {
    this.#core.isDraining = v;
  }

  /** Counters and the layers' own stats. */
  stats(): UserAgentStats {
    return this.#core.stats();
  }

  /**
   * Places a call. Resolves with the established call on the first 2xx (ACK sent); rejects with
   * SipCallError {status, reason} for a final status of 300 or more (487 when `signal` aborted it and
   * the CANCEL took), SipTimeoutError when nothing final came within Timer B.
   */
  invite(options: InviteOptions): Promise<SipCall> {
    return this.#core.invite(options);
  }

  /**
   * REGISTER with `registrar` (a SIP URI) for `expires` seconds, answering 401/407. Resolves the
   * expiry the registrar granted; rejects with SipCallError for a final status of 300 or more.
   */
  register(registrar: string, expires = 3600): Promise<{ status: number; expires: number }> {
    return this.#core.register(registrar, expires);
  }

  /** Sends OPTIONS to `target` (a SIP URI) and resolves its final response's status. */
  options(target: string): Promise<number> {
    return this.#core.options(target);
  }

  /** Ends every call with BYE (each bounded by Timer F), answers waiting INVITEs 503, closes the layers. */
  close(): Promise<void> {
    return this.#core.close();
  }
}

/** An incoming INVITE before its final response. */
class IncomingCallImpl extends EventEmitter implements IncomingCall {
  readonly requestUri: SipUri;
  readonly from: NameAddr;
  readonly to: NameAddr;
  readonly diversion?: NameAddr;
  readonly callId: string;
  readonly offer: string | null;
  readonly request: SipRequest;
  private readonly localTag = newTag();
  private final = false;
  private answerTimer: unknown;

  constructor(
    private readonly ua: UserAgentCore,
    request: SipRequest,
    private readonly tx: ServerTransaction,
  ) {
    super();
    this.request = request;
    this.requestUri = parseUri(request.uri);
    this.from = parseNameAddr(getHeader(request, 'From') ?? '');
    this.to = parseNameAddr(getHeader(request, 'To') ?? '');
    const diversion = getHeaders(request, 'Diversion')[0];
    if (diversion !== undefined) this.diversion = parseNameAddr(diversion);
    this.callId = getHeader(request, 'Call-ID') ?? '';
    this.offer = sdpOf(request);
  }

  startAnswerTimer(ms: number): void {
    this.answerTimer = this.ua.clock.setTimeout(() => {
      if (!this.final) this.reject(480, `Temporarily Unavailable (not answered within ${ms} ms)`);
    }, ms);
  }

  #kind(): SipTransportKind {
    return this.tx.source.transport;
  }

  #recordRoute(): SipHeader[] {
    return getHeaders(this.request, 'Record-Route').map((value) => ({ name: 'Record-Route', value }));
  }

  progress(status: 180 | 183, sdp?: string): void {
    if (this.final) return;
    const headers = [...this.#recordRoute(), { name: 'Contact', value: this.ua.contact(this.#kind()) }];
    const r = makeResponse(this.request, status, undefined, this.localTag);
    for (const h of headers) addHeader(r, h.name, h.value, 'bottom');
    if (sdp !== undefined) {
      addHeader(r, 'Content-Type', 'application/sdp', 'bottom');
      r.body = Buffer.from(sdp);
    }
    this.tx.respond(r);
  }

  reject(status: number, reason?: string, headers: SipHeader[] = []): void {
    checkInteger(status, 'status', 300, 699);
    if (this.final) return;
    this.final = true;
    this.ua.clock.clearTimeout(this.answerTimer);
    this.ua.forgetIncoming(this.tx);
    this.ua.countRejected();
    this.ua.respond(this.tx, status, reason, this.localTag, headers);
  }

  accept(answer: string): Promise<SipCall> {
    checkNonEmptyString(answer, 'answer');
    if (this.final) return Promise.reject(new SipCallError(487, 'the INVITE already has a final response'));
    this.final = true;
    this.ua.clock.clearTimeout(this.answerTimer);
    this.ua.forgetIncoming(this.tx);
    const kind = this.#kind();
    const dialog = Dialog.fromUas(this.request, this.localTag);
    const call = new CallImpl(this.ua, dialog, 'in', answer, this.offer ?? '', kind);
    this.ua.dialogs.set(dialog.id, call);
    const response = makeResponse(this.request, 200, 'OK', this.localTag);
    for (const h of this.#recordRoute()) addHeader(response, h.name, h.value, 'bottom');
    addHeader(response, 'Contact', this.ua.contact(kind), 'bottom');
    for (const h of this.ua.commonHeaders()) addHeader(response, h.name, h.value, 'bottom');
    call.negotiateSessionTimer(this.request, response);
    addHeader(response, 'Content-Type', 'application/sdp', 'bottom');
    response.body = Buffer.from(answer);
    return call.send2xx(this.tx, response).then(
      (ack) => {
        // An offer in our 2xx (INVITE without SDP) is answered in the ACK (RFC 3264 §5 via RFC 3261 §13.2.1).
        const sdp = sdpOf(ack);
        if (this.offer === null && sdp !== null) call.remoteSdp = sdp;
        call.startSessionTimer();
        return call;
      },
      (error: Error) => {
        const detail = error instanceof SipCallError ? error.reason : error.message;
        this.emit('ended', { by: 'timeout', detail } satisfies CallEnd);
        throw error;
      },
    );
  }

  onTimeout(detail: string): void {
    if (this.final) return;
    this.final = true;
    this.ua.clock.clearTimeout(this.answerTimer);
    this.ua.forgetIncoming(this.tx);
    this.emit('ended', { by: 'timeout', detail } satisfies CallEnd);
  }

  onCancel(): void {
    if (this.final) return;
    this.final = true;
    this.ua.clock.clearTimeout(this.answerTimer);
    this.ua.forgetIncoming(this.tx);
    // §9.2: the 487 carries the tag the layer's 200 to the CANCEL used, if one went out first.
    this.ua.respond(this.tx, 487, 'Request Terminated', this.tx.localTag ?? this.localTag);
    this.emit('cancelled');
  }
}

interface Pending2xx {
  seq: number;
  timer: unknown;
  resolve: (ack: SipRequest) => void;
  reject: (e: Error) => void;
}

interface PendingIncomingReinvite {
  tx: ServerTransaction;
  timer: unknown;
  done: boolean;
}

/** The session timer in force (RFC 4028): its interval and whether we send the refreshes. */
interface SessionTimer {
  interval: number;
  weRefresh: boolean;
}

/** An established call: its dialog, its SDP, its re-INVITEs, BYE and session timer. */
class CallImpl extends EventEmitter implements SipCall {
  readonly callId: string;
  localSdp: string;
  remoteSdp: string;
  private state: 'active' | 'ending' | 'ended' = 'active';
  private ourReinvite = false;
  private theirReinvite?: PendingIncomingReinvite;
  private readonly pending2xx = new Map<number, Pending2xx>();
  private session?: SessionTimer;
  private refreshTimer: unknown;
  private expiryTimer: unknown;
  private byePromise?: Promise<void>;
  private backoffTimer: unknown;
  private backoffWake?: () => void;
  /** Settles what waits on the call (our pending re-INVITE) when it stops being active. */
  private readonly onEnd = new Set<() => void>();

  constructor(
    private readonly ua: UserAgentCore,
    readonly dialog: Dialog,
    readonly direction: 'in' | 'out',
    localSdp: string,
    remoteSdp: string,
    private readonly kind: SipTransportKind,
  ) {
    super();
    this.callId = dialog.state.callId;
    this.localSdp = localSdp;
    this.remoteSdp = remoteSdp;
  }

  async #nextHop(): Promise<SipAddress> {
    return this.ua.resolve(uriAddress(this.dialog.nextHopUri(), this.kind));
  }

  // ---- 2xx retransmission until the ACK (§13.3.1.4) ----

  /** Sends a 2xx to an INVITE and retransmits it (T1 doubling to T2) until its ACK; 64*T1 without → BYE. */
  send2xx(tx: ServerTransaction, response: SipResponse): Promise<SipRequest> {
    const seq = parseCSeq(getHeader(response, 'CSeq') ?? '0 INVITE').seq;
    const { T1, T2 } = this.ua.timers;
    tx.respond(response);
    return new Promise<SipRequest>((resolve, reject) => {
      let interval = T1;
      let elapsed = 0;
      const entry: Pending2xx = { seq, timer: undefined, resolve, reject };
      const tick = (): void => {
        elapsed += interval;
        if (elapsed >= 64 * T1) {
          this.pending2xx.delete(seq);
          const detail = `no ACK for the 2xx within 64*T1 (${64 * T1} ms)`;
          reject(new SipCallError(408, detail));
          void this.#byeWith({ by: 'timeout', detail });
          return;
        }
        // RFC 6026: the transaction sits in Accepted and sends each 2xx the core hands it.
        tx.respond(response);
        interval = Math.min(interval * 2, T2);
        entry.timer = this.ua.clock.setTimeout(tick, Math.min(interval, 64 * T1 - elapsed));
      };
      entry.timer = this.ua.clock.setTimeout(tick, interval);
      this.pending2xx.set(seq, entry);
    });
  }

  onAck(ack: SipRequest): void {
    const seq = parseCSeq(getHeader(ack, 'CSeq') ?? '0 ACK').seq;
    const entry = this.pending2xx.get(seq);
    if (!entry) return;
    this.ua.clock.clearTimeout(entry.timer);
    this.pending2xx.delete(seq);
    entry.resolve(ack);
  }

  // ---- session timers (RFC 4028) ----

  /** UAS: picks the interval and refresher for our 2xx to `request` and adds the headers. */
  negotiateSessionTimer(request: SipRequest, response: SipResponse): void {
    const se = sessionExpiresOf(request);
    if (!se) {
      this.session = undefined;
      return;
    }
    const refresher = se.refresher ?? (supportsTimer(request) ? 'uac' : 'uas');
    setHeader(response, 'Session-Expires', `${se.interval};refresher=${refresher}`);
    if (supportsTimer(request)) setHeader(response, 'Require', 'timer');
    this.session = { interval: se.interval, weRefresh: refresher === 'uas' };
  }

  /** UAC: the interval and refresher our 2xx says; none → no session timer (RFC 4028 §7.4). */
  applySessionTimerFromResponse(response: SipResponse, asked: boolean): void {
    const se = sessionExpiresOf(response);
    this.session = se && asked ? { interval: se.interval, weRefresh: (se.refresher ?? 'uac') === 'uac' } : undefined;
    this.startSessionTimer();
  }

  /** (Re)starts the refresh and expiry timers from `this.session`. */
  startSessionTimer(): void {
    this.ua.clock.clearTimeout(this.refreshTimer);
    this.ua.clock.clearTimeout(this.expiryTimer);
    this.refreshTimer = this.expiryTimer = undefined;
    if (!this.session || this.state !== 'active') return;
    const { interval, weRefresh } = this.session;
    if (weRefresh) this.refreshTimer = this.ua.clock.setTimeout(() => this.#refresh(), (interval * 1000) / 2);
    // §10: the side that does not refresh sends BYE before the interval ends by min(32 s, interval/3).
    const expiresMs = weRefresh ? interval * 1000 : (interval - Math.min(32, interval / 3)) * 1000;
    this.expiryTimer = this.ua.clock.setTimeout(
      () => void this.#byeWith({ by: 'timeout', detail: `session expired (RFC 4028) after ${interval} s` }),
      expiresMs,
    );
  }

  #refresh(): void {
    if (this.state !== 'active') return;
    if (this.ourReinvite || this.theirReinvite) {
      // A re-INVITE in progress either way refreshes the session when it ends; look again soon.
      this.refreshTimer = this.ua.clock.setTimeout(() => this.#refresh(), this.ua.timers.T2);
      return;
    }
    this.#reinviteInternal(this.localSdp, true).catch(() => undefined);
  }

  /** Session-Expires for a re-INVITE of ours: the interval in force and its refresher kept. */
  #sessionHeaders(): SipHeader[] {
    if (!this.session) return [];
    return [
      {
        name: 'Session-Expires',
        value: `${this.session.interval};refresher=${this.session.weRefresh ? 'uac' : 'uas'}`,
      },
    ];
  }

  // ---- re-INVITE (ours) ----

  reinvite(offer: string): Promise<{ status: number; answer: string | null }> {
    checkNonEmptyString(offer, 'offer');
    return this.#reinviteInternal(offer, false);
  }

  async #reinviteInternal(offer: string, isRefresh: boolean): Promise<{ status: number; answer: string | null }> {
    if (this.state !== 'active') throw new SipCallError(481, 'the call has ended');
    if (this.ourReinvite) throw new SipCallError(491, 'a re-INVITE of ours is already pending');
    this.ourReinvite = true;
    try {
      for (let retry = 0; ; retry++) {
        if (this.theirReinvite) {
          // §14.1: no re-INVITE while another is in progress in either direction; theirs is bounded.
          await this.#backoff(this.ua.timers.T1);
          if (this.state !== 'active') throw new SipCallError(481, 'the call has ended');
          if (this.theirReinvite) return { status: 491, answer: null };
        }
        const to = await this.#nextHop();
        const result = await this.#whileActive(
          this.ua.run({
            to,
            build: (auth) =>
              this.dialog.buildRequest('INVITE', {
                headers: [
                  { name: 'Contact', value: this.ua.contact(this.kind) },
                  ...this.ua.commonHeaders(),
                  ...this.#sessionHeaders(),
                  ...auth,
                  { name: 'Content-Type', value: 'application/sdp' },
                ],
                body: Buffer.from(offer),
              }),
            onLate2xx: (response, _request, auth) => {
              const seq = parseCSeq(getHeader(response, 'CSeq') ?? '0 INVITE').seq;
              void this.ua.sendInDialogAck(this.dialog, seq, auth, this.kind).catch(() => undefined);
            },
          }),
        );
        const { response, auth } = result;
        if (response.status >= 200 && response.status < 300) {
          this.dialog.refreshTarget(response);
          const seq = parseCSeq(getHeader(response, 'CSeq') ?? '0 INVITE').seq;
          await this.ua.sendInDialogAck(this.dialog, seq, auth, this.kind);
          const answer = sdpOf(response);
          this.localSdp = offer;
          if (answer !== null) this.remoteSdp = answer;
          if (this.session) this.applySessionTimerFromResponse(response, true);
          if (isRefresh) this.emit('refreshed');
          return { status: response.status, answer };
        }
        if (response.status === 491 && retry < MAX_491_RETRIES) {
          // §14.1: the Call-ID's owner waits 2.1–4 s, the other side 0–2 s, in units of 10 ms.
          const ms = this.dialog.state.isUac
            ? 2100 + 10 * Math.floor(this.ua.random() * 191)
            : 10 * Math.floor(this.ua.random() * 201);
          await this.#backoff(ms);
          if (this.state !== 'active') throw new SipCallError(481, 'the call has ended');
          continue;
        }
        if (response.status === 481 || response.status === 408) {
          // §14.1: the dialog is gone at the far end.
          void this.#byeWith({ by: 'error', status: response.status, detail: `re-INVITE answered ${response.status}` });
        }
        return { status: response.status, answer: null };
      }
    } finally {
      this.ourReinvite = false;
    }
  }

  /**
   * `run` while the call lasts: when it ends first (our BYE, theirs, a timeout) the re-INVITE rejects
   * at once with 481 rather than waiting for the far end or the transaction's own bounds; a 2xx that
   * still comes later is ACKed (§13.2.2.4) and otherwise ignored.
   */
  #whileActive(run: Promise<FinalResult>): Promise<FinalResult> {
    return new Promise<FinalResult>((resolve, reject) => {
      const end = (): void => {
        reject(new SipCallError(481, 'the call ended while the re-INVITE was pending'));
        run.then(
          ({ response, auth }) => {
            if (response.status < 200 || response.status >= 300) return;
            const seq = parseCSeq(getHeader(response, 'CSeq') ?? '0 INVITE').seq;
            void this.ua.sendInDialogAck(this.dialog, seq, auth, this.kind).catch(() => undefined);
          },
          () => undefined,
        );
      };
      if (this.state !== 'active') return end();
      this.onEnd.add(end);
      run.then(
        (result) => {
          this.onEnd.delete(end);
          resolve(result);
        },
        (error: unknown) => {
          this.onEnd.delete(end);
          reject(error);
        },
      );
    });
  }

  #backoff(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      this.backoffWake = resolve;
      this.backoffTimer = this.ua.clock.setTimeout(() => {
        this.backoffWake = undefined;
        resolve();
      }, ms);
    });
  }

  // ---- requests from the peer ----

  onRequest(request: SipRequest, tx: ServerTransaction): void {
    if (this.dialog.checkRemoteSeq(request) === 'out-of-order') {
      return this.ua.respond(tx, 500, 'Server Internal Error (CSeq out of order)');
    }
    if (this.state !== 'active') {
      // A BYE crossing ours still gets its 200; anything else on an ending call is refused.
      if (request.method === 'BYE') return this.ua.respond(tx, 200, 'OK');
      return this.ua.respond(tx, 481, 'Call/Transaction Does Not Exist');
    }
    if ((request.method === 'INVITE' || request.method === 'UPDATE') && unreadableBody(request)) {
      // §8.2.3 (RFC 3261 §14.2 for re-INVITE): the session stays as it was.
      return this.ua.respond(tx, 415, 'Unsupported Media Type', undefined, [...ACCEPT_HEADERS]);
    }
    switch (request.method) {
      case 'INVITE':
        return this.#onReinvite(request, tx);
      case 'BYE':
        this.ua.respond(tx, 200, 'OK');
        if (this.theirReinvite && !this.theirReinvite.done) this.#answerReinvite(487, 'Request Terminated');
        return this.finish({ by: 'remote', detail: 'BYE from the peer' });
      case 'UPDATE': {
        const offer = sdpOf(request);
        // We answer an UPDATE with the SDP in force, which answers only an identical offer (a refresh);
        // a new offer would need new media, so it is refused and the session stays (RFC 3311 §5.2).
        if (offer !== null && !sameSession(offer, this.remoteSdp))
          return this.ua.respond(tx, 488, 'Not Acceptable Here');
        this.dialog.refreshTarget(request);
        const headers: SipHeader[] = [{ name: 'Contact', value: this.ua.contact(this.kind) }];
        const se = sessionExpiresOf(request);
        if (se && this.session) {
          const refresher = se.refresher ?? 'uac';
          headers.push({ name: 'Session-Expires', value: `${se.interval};refresher=${refresher}` });
          this.session = { interval: se.interval, weRefresh: refresher === 'uas' };
          this.startSessionTimer();
        }
        if (offer !== null) {
          headers.push({ name: 'Content-Type', value: 'application/sdp' });
          const r = makeResponse(request, 200, 'OK');
          for (const h of [...headers, ...this.ua.commonHeaders()]) addHeader(r, h.name, h.value, 'bottom');
          r.body = Buffer.from(this.localSdp);
          return tx.respond(r);
        }
        return this.ua.respond(tx, 200, 'OK', undefined, headers);
      }
      case 'OPTIONS':
      case 'INFO':
        return this.ua.respond(tx, 200, 'OK');
      default:
        return this.ua.respond(tx, 405, 'Method Not Allowed');
    }
  }

  #onReinvite(request: SipRequest, tx: ServerTransaction): void {
    if (this.ourReinvite && !this.backoffWake) return this.ua.respond(tx, 491, 'Request Pending');
    if (this.theirReinvite && !this.theirReinvite.done) {
      return this.ua.respond(tx, 500, 'Server Internal Error (a re-INVITE is pending)', undefined, [
        { name: 'Retry-After', value: String(1 + Math.floor(this.ua.random() * 10)) },
      ]);
    }
    const se = sessionExpiresOf(request);
    if (se && se.interval < this.ua.minSE) {
      return this.ua.respond(tx, 422, 'Session Interval Too Small', undefined, [
        { name: 'Min-SE', value: String(this.ua.minSE) },
      ]);
    }
    const pending: PendingIncomingReinvite = { tx, timer: undefined, done: false };
    this.theirReinvite = pending;
    const offer = sdpOf(request);
    // A bounded wait for the application's reply: it must not hold the dialog forever.
    const limit = 64 * this.ua.timers.T1;
    pending.timer = this.ua.clock.setTimeout(() => {
      if (!pending.done) this.#answerReinvite(500, `Server Internal Error (no reply within ${limit} ms)`);
    }, limit);
    if (offer === null || sameSession(offer, this.remoteSdp)) {
      // A session refresh (RFC 3264 §8 identical offer, or no offer): our SDP unchanged.
      void this.#answerReinvite(200, 'OK', this.localSdp).then(
        () => this.emit('refresh'),
        () => undefined,
      );
      return;
    }
    if (this.listenerCount('reinvite') === 0) {
      this.#answerReinvite(488, 'Not Acceptable Here');
      return;
    }
    this.emit('reinvite', offer, {
      accept: (answer: string) => {
        checkNonEmptyString(answer, 'answer');
        if (pending.done) return;
        const previousLocal = this.localSdp;
        this.localSdp = answer;
        this.remoteSdp = offer;
        this.#answerReinvite(200, 'OK', answer).catch(() => {
          this.localSdp = previousLocal;
        });
      },
      reject: (status: number, reason?: string) => {
        checkInteger(status, 'status', 300, 699);
        if (!pending.done) this.#answerReinvite(status, reason);
      },
    });
  }

  /** Answers the pending incoming re-INVITE; a 2xx is retransmitted until its ACK. */
  #answerReinvite(status: number, reason?: string, sdp?: string): Promise<void> {
    const pending = this.theirReinvite;
    if (!pending || pending.done) return Promise.resolve();
    pending.done = true;
    this.ua.clock.clearTimeout(pending.timer);
    const request = pending.tx.request;
    const finish = (): void => {
      if (this.theirReinvite === pending) this.theirReinvite = undefined;
    };
    if (status >= 300) {
      this.ua.respond(pending.tx, status, reason);
      finish();
      return Promise.resolve();
    }
    this.dialog.refreshTarget(request);
    const response = makeResponse(request, status, reason);
    addHeader(response, 'Contact', this.ua.contact(this.kind), 'bottom');
    for (const h of this.ua.commonHeaders()) addHeader(response, h.name, h.value, 'bottom');
    if (this.session || sessionExpiresOf(request)) this.negotiateSessionTimer(request, response);
    if (sdp !== undefined) {
      addHeader(response, 'Content-Type', 'application/sdp', 'bottom');
      response.body = Buffer.from(sdp);
    }
    this.startSessionTimer();
    return this.send2xx(pending.tx, response).then(
      (ack) => {
        finish();
        const answer = sdpOf(ack);
        if (sdpOf(request) === null && answer !== null) this.remoteSdp = answer;
      },
      (error: Error) => {
        finish();
        throw error;
      },
    );
  }

  onCancelReinvite(tx: ServerTransaction): void {
    if (this.theirReinvite && this.theirReinvite.tx === tx && !this.theirReinvite.done)
      this.#answerReinvite(487, 'Request Terminated');
  }

  // ---- BYE and the end ----

  bye(): Promise<void> {
    return this.#byeWith({ by: 'local', detail: 'BYE sent' });
  }

  #byeWith(end: CallEnd): Promise<void> {
    if (this.byePromise) return this.byePromise;
    if (this.state === 'ended') return Promise.resolve();
    this.state = 'ending';
    this.#stopTimers();
    this.byePromise = (async () => {
      let status: number | undefined;
      let detail = end.detail;
      try {
        const to = await this.#nextHop();
        const { response } = await this.ua.run({
          to,
          build: (auth) => this.dialog.buildRequest('BYE', { headers: [...this.ua.commonHeaders().slice(2), ...auth] }),
        });
        status = response.status;
      } catch (error) {
        detail = `${detail}; BYE got no answer: ${(error as Error).message}`;
      }
      this.finish({ ...end, status: end.status ?? status, detail });
    })();
    return this.byePromise;
  }

  #stopTimers(): void {
    this.ua.clock.clearTimeout(this.refreshTimer);
    this.ua.clock.clearTimeout(this.expiryTimer);
    this.ua.clock.clearTimeout(this.backoffTimer);
    this.backoffWake?.();
    this.backoffWake = undefined;
    for (const entry of this.pending2xx.values()) {
      this.ua.clock.clearTimeout(entry.timer);
      entry.reject(new SipCallError(481, 'the call ended before the ACK'));
    }
    this.pending2xx.clear();
    if (this.theirReinvite) this.ua.clock.clearTimeout(this.theirReinvite.timer);
    for (const end of [...this.onEnd]) end();
    this.onEnd.clear();
  }

  /** Marks the call ended and emits 'ended' once. */
  finish(end: CallEnd): void {
    if (this.state === 'ended') return;
    this.state = 'ended';
    this.#stopTimers();
    this.ua.dialogs.delete(this.dialog.id);
    this.emit('ended', end);
  }
}
