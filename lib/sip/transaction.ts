/**
 * The SIP transaction layer (RFC 3261 §17, with RFC 6026's Accepted states): client and server
 * transactions for INVITE and for every other method, their retransmission and timeout timers, the
 * ACK for a non-2xx final response, CANCEL (§9), and the matching rules of §17.1.3 and §17.2.3.
 *
 * Over UDP requests and non-2xx final responses are retransmitted (Timers A, E, G) and the
 * "wait for stray retransmissions" timers (D, I, J, K) run; over TCP nothing is retransmitted and
 * those timers are zero. Every transaction ends: by a final response, by Timer B/F/H, by 64*T1
 * after a CANCEL, or by the layer's own `maxProceeding` bound, and close() clears every timer.
 *
 * Time comes from an injectable Clock so the timers can be tested exactly with a fake one.
 */
import { EventEmitter } from 'node:events';
import { CapacityError, SessionClosedError } from '../base/errors';
import { checkInteger, checkObject, checkPositive, invalidOption } from '../base/checks';
import { SipTimeoutError, type SipTimeoutTimer } from './errors';
import {
  formatVia,
  getHeader,
  getHeaders,
  makeResponse,
  newBranch,
  newTag,
  parseCSeq,
  parseNameAddr,
  parseVia,
  type SipHeader,
  type SipMessage,
  type SipRequest,
  type SipResponse,
} from './message';
import { responseAddress, type SipAddress, type SipTransportKind } from './transport';

/** RFC 3261's timer base values in milliseconds (§17.1.1.1, table 4). */
export interface Timers {
  /** RTT estimate; the first retransmission interval (default 500). */
  T1: number;
  /** Cap on retransmission intervals of non-INVITE requests and INVITE final responses (default 4000). */
  T2: number;
  /** How long a message stays in the network (default 5000). */
  T4: number;
}

/** RFC 3261's recommended values. */
export const DEFAULT_TIMERS: Readonly<Timers> = Object.freeze({ T1: 500, T2: 4000, T4: 5000 });

/** Where the layer's time comes from; injectable so tests can drive the timers with a fake clock. */
export interface Clock {
  /** Milliseconds on a monotonic-enough scale. */
  now(): number;
  /** Calls `fn` once after `ms`; returns a handle for clearTimeout. */
  setTimeout(fn: () => void, ms: number): unknown;
  /** Cancels a timer that has not fired yet. */
  clearTimeout(handle: unknown): void;
}

/** Node's timers, unreferenced: a pending Timer D alone does not keep the process alive. */
export const systemClock: Clock = {
  now: () => performance.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms).unref(),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/** What a client transaction tells its transaction user (the UA core). */
export interface ClientTransactionHandler {
  /** Every provisional and final response; for INVITE also each retransmitted 2xx (RFC 6026 Accepted). */
  onResponse(response: SipResponse): void;
  /** No final response in time; `error.timer` says which bound ('B', 'F' or 'cancel'). */
  onTimeout(error?: SipTimeoutError): void;
  /** The transport could not send the request (§17.1.4); the transaction has ended. */
  onTransportError(error: Error): void;
}

/** A request the layer sent, waiting for its responses. */
export interface ClientTransaction {
  /** The branch of the top Via the layer added (z9hG4bK…). */
  readonly branch: string;
  /** The request as sent, with that Via. */
  readonly request: SipRequest;
  /** 'calling', 'trying', 'proceeding', 'completed', 'accepted' or 'terminated'. */
  readonly state: string;
  /**
   * INVITE only: builds the CANCEL (§9.1: same Request-URI, Call-ID, From, To, CSeq number, Route and
   * top Via) and sends it in its own transaction once a provisional response has come (deferred until
   * then; never sent after a final response). A 200 to the CANCEL does not end the INVITE: its 487 does,
   * or, when no final response comes within 64*T1 of the CANCEL, onTimeout with timer 'cancel'.
   * Calling it again returns the same CANCEL and sends nothing more.
   */
  cancel(): SipRequest;
}

/** A request received, waiting for the transaction user's response. */
export interface ServerTransaction {
  /** The request that created the transaction (top Via already carries received/rport). */
  readonly request: SipRequest;
  /** Where it came from. */
  readonly source: SipAddress;
  /** 'trying', 'proceeding', 'completed', 'confirmed', 'accepted' or 'terminated'. */
  readonly state: string;
  /**
   * Sends a response. INVITE 2xx: Accepted state (RFC 6026) — the UA core retransmits its 2xx by calling
   * respond() again until the ACK. A response the state no longer allows (a second final, or anything
   * after the transaction ended other than an INVITE 2xx) is dropped: the TU may race a timeout.
   */
  respond(response: SipResponse): void;
  /**
   * The To tag already used toward the client (a response's, or the one the layer put in its 200 to a
   * CANCEL): a 487 after 'cancel' should carry it (§9.2). Undefined while nothing tagged went out.
   */
  readonly localTag: string | undefined;
}

/**
 * What the layer needs of a transport: SipTransport's send, local and its 'message' event (structural, so
 * tests can hand in an in-memory one).
 */
export interface TransactionTransport {
  /** Sends one message; rejects when it cannot (§17.1.4, §17.2.4). */
  send(message: SipMessage, to: SipAddress): Promise<void>;
  /** Our bound address for `kind`: the sent-by of the Vias we add. */
  local(kind: SipTransportKind): SipAddress;
  /** Subscribes to 'message' (message, source). */
  on(event: 'message', listener: (message: SipMessage, source: SipAddress) => void): unknown;
  /** Unsubscribes from 'message'. */
  off(event: 'message', listener: (message: SipMessage, source: SipAddress) => void): unknown;
}

/** Options of a TransactionLayer. */
export interface TransactionLayerOptions {
  /** T1, T2, T4 in ms; any left out take RFC 3261's defaults. */
  timers?: Partial<Timers>;
  /** Time source; Node's timers by default. */
  clock?: Clock;
  /** Live client plus server transactions at most (default 8192); past it new requests get 503. */
  maxTransactions?: number;
  /**
   * How long an INVITE may stay without a final response, ms (default 180 000). A client INVITE is then
   * cancelled; a server INVITE is answered 408 and reported with a 'timeout' event.
   */
  maxProceeding?: number;
}

/** The counters stats() returns. */
export interface TransactionStats {
  /** Client transactions alive now. */
  clientTransactions: number;
  /** Server transactions alive now. */
  serverTransactions: number;
  /** Requests, ACKs and responses the layer sent again (Timers A, E, G and answers to retransmissions). */
  retransmissionsSent: number;
  /** Retransmitted requests and responses the layer swallowed without bothering the TU. */
  retransmissionsAbsorbed: number;
  /** Transactions ended by a timeout (B, F, H, after CANCEL, maxProceeding, unanswered). */
  timeouts: number;
  /** Responses that matched no client transaction, dropped (RFC 6026 §8.9). */
  strayResponses: number;
  /** New requests refused with 503 because maxTransactions was reached. */
  refused: number;
  /** Messages whose Via or CSeq could not be read, dropped. */
  dropped: number;
}

/** The 100 Trying delay of §17.2.1: sent by the layer when the TU has not answered an INVITE in time. */
const TRYING_DELAY_MS = 200;
/** Timer D's floor for UDP (§17.1.1.2 "at least 32 seconds"). */
const TIMER_D_MS = 32_000;
/** RFC 3261's magic cookie: branches starting with it are unique per transaction (§8.1.1.7). */
const MAGIC_COOKIE = 'z9hG4bK';

type ClientState = 'calling' | 'trying' | 'proceeding' | 'completed' | 'accepted' | 'terminated';
type ServerState = 'trying' | 'proceeding' | 'completed' | 'confirmed' | 'accepted' | 'terminated';

/** The named timers of one transaction, so each can be restarted or cleared and all cleared at the end. */
class TimerSet {
  private readonly handles = new Map<string, unknown>();
  constructor(private readonly clock: Clock) {}
  set(name: string, ms: number, fn: () => void): void {
    this.clear(name);
    const handle = this.clock.setTimeout(() => {
      this.handles.delete(name);
      fn();
    }, ms);
    this.handles.set(name, handle);
  }
  clear(name: string): void {
    const handle = this.handles.get(name);
    if (handle === undefined) return;
    this.clock.clearTimeout(handle);
    this.handles.delete(name);
  }
  clearAll(): void {
    for (const handle of this.handles.values()) this.clock.clearTimeout(handle);
    this.handles.clear();
  }
}

/** A copy whose header list can be changed without touching the caller's request. */
function cloneRequest(r: SipRequest): SipRequest {
  return { type: 'request', method: r.method, uri: r.uri, headers: r.headers.map((h) => ({ ...h })), body: r.body };
}

/** The header entries named `name` (Route), in order, as written. */
function rawHeaders(m: SipMessage, name: string): SipHeader[] {
  const lower = name.toLowerCase();
  return m.headers.filter((h) => h.name.toLowerCase() === lower).map((h) => ({ ...h }));
}

/** A header the message must have; its absence is the caller's bug. */
function required(m: SipMessage, name: string): string {
  const value = getHeader(m, name);
  if (value === undefined) throw invalidOption(`a ${name} header`, 'the SIP request', 'none');
  return value;
}

/** Top Via branch and CSeq method of a response: the client matching key of §17.1.3. */
function clientKey(branch: string, method: string): string {
  return `${branch} ${method}`;
}

/** A response's client matching key; throws when its top Via or CSeq cannot be read. */
function responseKey(response: SipResponse): string {
  const topVia = getHeaders(response, 'Via')[0];
  if (topVia === undefined) throw invalidOption('a Via header', 'the SIP response', 'none');
  return clientKey(parseVia(topVia).params.branch ?? '', parseCSeq(required(response, 'CSeq')).method);
}

/**
 * The server matching key of §17.2.3: branch + sent-by + method (ACK counts as INVITE) for RFC 3261
 * branches; for an RFC 2543 peer (no magic cookie) the request's identifying fields instead.
 * `method` lets a CANCEL look up the INVITE it cancels.
 */
function serverKey(request: SipRequest, method: string): string {
  const topVia = getHeaders(request, 'Via')[0];
  if (topVia === undefined) throw invalidOption('a Via header', 'the SIP request', 'none');
  const via = parseVia(topVia);
  const keyMethod = method === 'ACK' ? 'INVITE' : method;
  const sentBy = `${via.host.toLowerCase()}:${via.port ?? 5060}`;
  const branch = via.params.branch;
  if (branch && branch.startsWith(MAGIC_COOKIE)) return `3261 ${branch} ${sentBy} ${keyMethod}`;
  // RFC 2543 fallback: the To tag is left out so the ACK (which carries one) still finds its INVITE.
  const seq = parseCSeq(required(request, 'CSeq')).seq;
  const fromTag = parseNameAddr(required(request, 'From')).params.tag ?? '';
  return ['2543', request.uri, fromTag, required(request, 'Call-ID'), seq, sentBy, branch ?? '', keyMethod].join(' ');
}

/** The To tag a response carries, if any. */
function toTagOf(response: SipResponse): string | undefined {
  const to = getHeader(response, 'To');
  if (to === undefined) return undefined;
  try {
    return parseNameAddr(to).params.tag ?? undefined;
  } catch {
    return undefined; // the TU's own To, unreadable: the layer picks a tag of its own
  }
}

/** A client transaction: one request sent, its responses matched by branch and CSeq method. */
class ClientTx implements ClientTransaction {
  state: ClientState;
  readonly key: string;
  private readonly invite: boolean;
  private readonly reliable: boolean;
  private readonly timers: TimerSet;
  private ack: SipRequest | null = null;
  private cancelRequest: SipRequest | null = null;
  private cancelPending = false;
  private cancelSent = false;

  constructor(
    private readonly layer: TransactionLayer,
    readonly request: SipRequest,
    readonly branch: string,
    private readonly via: string,
    readonly to: SipAddress,
    private readonly handler: ClientTransactionHandler,
  ) {
    this.invite = request.method === 'INVITE';
    this.reliable = to.transport === 'tcp';
    this.state = this.invite ? 'calling' : 'trying';
    this.key = clientKey(branch, request.method);
    this.timers = new TimerSet(layer.clock);
  }

  start(): void {
    const { T1 } = this.layer.timers;
    this.send(this.request);
    if (!this.reliable) this.timers.set('retransmit', T1, () => this.retransmit(T1));
    this.timers.set('timeout', 64 * T1, () => this.timedOut(this.invite ? 'B' : 'F'));
    if (this.invite) this.timers.set('proceeding', this.layer.maxProceeding, () => this.cancel());
  }

  /** Timer A (INVITE: doubles without cap, only in Calling) or E (non-INVITE: doubles up to T2). */
  private retransmit(interval: number): void {
    if (this.invite ? this.state !== 'calling' : this.state !== 'trying' && this.state !== 'proceeding') return;
    this.layer.counters.retransmissionsSent++;
    this.send(this.request);
    let next = 2 * interval;
    // §17.1.2.2: in Proceeding the interval is T2 at once; in Trying it doubles up to T2.
    if (!this.invite) next = this.state === 'proceeding' ? this.layer.timers.T2 : Math.min(next, this.layer.timers.T2);
    this.timers.set('retransmit', next, () => this.retransmit(next));
  }

  private timedOut(timer: SipTimeoutTimer): void {
    const method = this.request.method;
    const waiting = this.state === 'calling' || this.state === 'trying' || this.state === 'proceeding';
    // Timer B fires only in Calling: once a provisional came, only a CANCEL (or maxProceeding) ends the wait.
    if (!waiting || (timer === 'B' && this.state !== 'calling')) return;
    this.terminate();
    this.layer.counters.timeouts++;
    const detail =
      timer === 'cancel'
        ? `no final response to the ${method} within 64*T1 of its CANCEL`
        : `no response to the ${method} within 64*T1 (Timer ${timer})`;
    this.handler.onTimeout(new SipTimeoutError(timer, method, detail));
  }

  /** A response whose top Via branch and CSeq method are ours. */
  receive(response: SipResponse): void {
    const status = response.status;
    switch (this.state) {
      case 'calling':
      case 'trying':
      case 'proceeding':
        if (status < 200) {
          this.state = 'proceeding';
          if (this.invite) {
            this.timers.clear('retransmit');
            this.timers.clear('timeout');
          }
          this.handler.onResponse(response);
          if (this.cancelPending && this.state === 'proceeding') this.sendCancel();
          return;
        }
        this.timers.clearAll();
        if (this.invite && status < 300) {
          // RFC 6026 Accepted: further 2xx (from forks or retransmissions) go up to the core, which ACKs them.
          this.state = 'accepted';
          this.timers.set('M', 64 * this.layer.timers.T1, () => this.terminate());
        } else if (this.invite) {
          this.state = 'completed';
          this.ack = this.buildAck(response);
          this.send(this.ack);
          this.linger('D', Math.max(TIMER_D_MS, 64 * this.layer.timers.T1));
        } else {
          this.state = 'completed';
          this.linger('K', this.layer.timers.T4);
        }
        this.handler.onResponse(response);
        return;
      case 'completed':
        // A retransmitted final response: the server missed our ACK (INVITE), or it is just a duplicate.
        this.layer.counters.retransmissionsAbsorbed++;
        if (this.invite && this.ack && status >= 300) {
          this.layer.counters.retransmissionsSent++;
          this.send(this.ack);
        }
        return;
      case 'accepted':
        if (status >= 200 && status < 300) this.handler.onResponse(response);
        else this.layer.counters.retransmissionsAbsorbed++;
        return;
      case 'terminated':
        return;
    }
  }

  cancel(): SipRequest {
    if (!this.invite) throw invalidOption('an INVITE transaction', 'cancel()', `a ${this.request.method} transaction`);
    if (this.cancelRequest === null) this.cancelRequest = this.buildCancel();
    if (this.state === 'calling') this.cancelPending = true;
    else if (this.state === 'proceeding' && !this.cancelSent) this.sendCancel();
    return this.cancelRequest;
  }

  private sendCancel(): void {
    if (this.cancelRequest === null || this.cancelSent) return;
    this.cancelSent = true;
    this.cancelPending = false;
    this.timers.clear('proceeding');
    // The CANCEL's own transaction reports nothing: the INVITE's final response, or the 64*T1 below, ends the call.
    const quiet: ClientTransactionHandler = { onResponse: () => {}, onTimeout: () => {}, onTransportError: () => {} };
    this.layer.startClient(this.cancelRequest, this.branch, this.via, this.to, quiet);
    this.timers.set('cancel', 64 * this.layer.timers.T1, () => this.timedOut('cancel'));
  }

  /** §9.1: a CANCEL names the INVITE it cancels by the same fields and the same top Via. */
  private buildCancel(): SipRequest {
    return this.sameTransactionRequest('CANCEL', required(this.request, 'To'));
  }

  /** §17.1.1.3: the ACK for a non-2xx final response, in this transaction (same branch, the response's To). */
  private buildAck(response: SipResponse): SipRequest {
    return this.sameTransactionRequest('ACK', getHeader(response, 'To') ?? required(this.request, 'To'));
  }

  /** A CANCEL or non-2xx ACK: the INVITE's Request-URI, top Via, Route, From, Call-ID and CSeq number. */
  private sameTransactionRequest(method: 'CANCEL' | 'ACK', to: string): SipRequest {
    const r = this.request;
    const seq = parseCSeq(required(r, 'CSeq')).seq;
    const headers: SipHeader[] = [
      { name: 'Via', value: this.via },
      { name: 'Max-Forwards', value: '70' },
      ...rawHeaders(r, 'Route'),
      { name: 'From', value: required(r, 'From') },
      { name: 'To', value: to },
      { name: 'Call-ID', value: required(r, 'Call-ID') },
      { name: 'CSeq', value: `${seq} ${method}` },
    ];
    return { type: 'request', method, uri: r.uri, headers, body: Buffer.alloc(0) };
  }

  /** Timer D or K: keep absorbing retransmissions over UDP; over TCP there are none, so end now. */
  private linger(name: string, ms: number): void {
    if (this.reliable) this.terminate();
    else this.timers.set(name, ms, () => this.terminate());
  }

  private send(message: SipRequest): void {
    this.layer.transmit(message, this.to).catch((error: unknown) => this.transportFailed(error));
  }

  /** §17.1.4: a failure while the request is still ours to deliver ends the transaction and tells the TU. */
  private transportFailed(error: unknown): void {
    if (this.state !== 'calling' && this.state !== 'trying' && this.state !== 'proceeding') return;
    this.terminate();
    this.handler.onTransportError(error instanceof Error ? error : new Error(String(error)));
  }

  terminate(): void {
    if (this.state === 'terminated') return;
    this.state = 'terminated';
    this.timers.clearAll();
    this.layer.forgetClient(this);
  }
}

/** A server transaction: one request received, retransmissions of it absorbed, its responses kept. */
class ServerTx implements ServerTransaction {
  state: ServerState;
  private readonly invite: boolean;
  private readonly reliable: boolean;
  private readonly timers: TimerSet;
  private readonly replyTo: SipAddress;
  private lastProvisional: SipResponse | null = null;
  private final: SipResponse | null = null;
  /** The To tag the CANCEL's 200 used when no response had one yet, for the TU's 487 to reuse (§9.2). */
  cancelTag: string | undefined;

  constructor(
    private readonly layer: TransactionLayer,
    readonly key: string,
    readonly request: SipRequest,
    readonly source: SipAddress,
  ) {
    this.invite = request.method === 'INVITE';
    this.reliable = source.transport === 'tcp';
    this.state = this.invite ? 'proceeding' : 'trying';
    this.timers = new TimerSet(layer.clock);
    this.replyTo = responseAddress(request, source);
  }

  start(): void {
    if (this.invite) {
      this.timers.set('trying', TRYING_DELAY_MS, () => {
        if (this.lastProvisional === null && this.state === 'proceeding') this.respond(makeResponse(this.request, 100));
      });
      this.timers.set('proceeding', this.layer.maxProceeding, () => this.proceedingTooLong());
    } else {
      // The client gives up after 64*T1 (Timer F); holding the transaction longer serves no one.
      this.timers.set('unanswered', 64 * this.layer.timers.T1, () => this.unanswered());
    }
  }

  get localTag(): string | undefined {
    const sent = this.final ?? this.lastProvisional;
    return (sent && toTagOf(sent)) ?? this.cancelTag;
  }

  /** Still waiting for the TU's final response. */
  get pending(): boolean {
    return this.state === 'trying' || this.state === 'proceeding';
  }

  respond(response: SipResponse): void {
    const status = response.status;
    if (!this.pending) {
      // RFC 6026: in Accepted the TU retransmits its 2xx through the transaction; after the end, straight out.
      if (this.invite && status >= 200 && status < 300 && (this.state === 'accepted' || this.state === 'terminated')) {
        this.send(response);
      }
      return;
    }
    this.timers.clear('trying');
    if (status < 200) {
      this.state = 'proceeding';
      this.lastProvisional = response;
      this.send(response);
      return;
    }
    this.final = response;
    this.timers.clear('proceeding');
    this.timers.clear('unanswered');
    this.send(response);
    const { T1, T2 } = this.layer.timers;
    if (this.invite && status < 300) {
      this.state = 'accepted';
      this.timers.set('L', 64 * T1, () => this.terminate());
    } else if (this.invite) {
      this.state = 'completed';
      if (!this.reliable) this.timers.set('G', T1, () => this.retransmitFinal(Math.min(2 * T1, T2)));
      this.timers.set('H', 64 * T1, () => this.noAck());
    } else {
      this.state = 'completed';
      if (this.reliable) this.terminate();
      else this.timers.set('J', 64 * T1, () => this.terminate());
    }
  }

  /** Timer G: the final non-2xx again until the ACK, the interval doubling up to T2. */
  private retransmitFinal(next: number): void {
    if (this.state !== 'completed' || this.final === null) return;
    this.layer.counters.retransmissionsSent++;
    this.send(this.final);
    const after = Math.min(2 * next, this.layer.timers.T2);
    this.timers.set('G', next, () => this.retransmitFinal(after));
  }

  /** Timer H: the ACK never came. */
  private noAck(): void {
    if (this.state !== 'completed') return;
    this.terminate();
    this.layer.counters.timeouts++;
    const error = new SipTimeoutError('H', 'INVITE', 'no ACK for the final response within 64*T1 (Timer H)');
    this.layer.emit('timeout', this, error);
  }

  /** maxProceeding: the TU never answered the INVITE; 408 tells the caller rather than leaving it ringing. */
  private proceedingTooLong(): void {
    if (!this.pending) return;
    this.layer.counters.timeouts++;
    const ms = this.layer.maxProceeding;
    this.respond(makeResponse(this.request, 408, 'Request Timeout', this.localTag ?? newTag()));
    const error = new SipTimeoutError('proceeding', 'INVITE', `no final response within maxProceeding (${ms} ms)`);
    this.layer.emit('timeout', this, error);
  }

  /** A non-INVITE the TU left unanswered past the client's own Timer F. */
  private unanswered(): void {
    if (!this.pending) return;
    this.terminate();
    this.layer.counters.timeouts++;
    const error = new SipTimeoutError(
      'unanswered',
      this.request.method,
      `no response to the ${this.request.method} within 64*T1`,
    );
    this.layer.emit('timeout', this, error);
  }

  /** A retransmission of our request (or the ACK of our INVITE) arrived. */
  receive(request: SipRequest): void {
    if (request.method === 'ACK') {
      if (this.state === 'completed') {
        // §17.2.1: Confirmed absorbs ACK retransmissions for T4 (UDP), then ends.
        this.state = 'confirmed';
        this.timers.clear('G');
        this.timers.clear('H');
        if (this.reliable) this.terminate();
        else this.timers.set('I', this.layer.timers.T4, () => this.terminate());
      } else if (this.state === 'accepted') {
        // RFC 6026 §7.1: an ACK matching an Accepted transaction is the TU's (the ACK of its 2xx).
        this.layer.emit('ack', request, this.source);
      } else {
        this.layer.counters.retransmissionsAbsorbed++;
      }
      return;
    }
    this.layer.counters.retransmissionsAbsorbed++;
    // Retransmitted request: Proceeding resends the last provisional, Completed the final (§17.2.1, §17.2.2).
    const again = this.state === 'proceeding' ? this.lastProvisional : this.state === 'completed' ? this.final : null;
    if (again !== null) {
      this.layer.counters.retransmissionsSent++;
      this.send(again);
    }
  }

  private send(response: SipResponse): void {
    this.layer.transmit(response, this.replyTo).catch((error: unknown) => {
      // §17.2.4: the TU hears of it; the transaction ends (nothing more can reach the client).
      this.terminate();
      this.layer.emit('transport-error', error instanceof Error ? error : new Error(String(error)), this);
    });
  }

  terminate(): void {
    if (this.state === 'terminated') return;
    this.state = 'terminated';
    this.timers.clearAll();
    this.layer.forgetServer(this);
  }
}

/**
 * The transaction layer over one SipTransport. Events:
 * - 'request' (request: SipRequest, tx: ServerTransaction): a new request (not ACK, not a CANCEL the layer handled);
 * - 'ack' (ack: SipRequest, source: SipAddress): an ACK matching no server transaction (the ACK of a 2xx);
 * - 'cancel' (tx: ServerTransaction, cancel: SipRequest): a CANCEL for an INVITE still without a final
 *   response; the layer has answered the CANCEL 200, the TU answers the INVITE 487 (the layer does when
 *   nobody listens);
 * - 'timeout' (tx: ServerTransaction, error: SipTimeoutError): Timer H, maxProceeding, or an unanswered request;
 * - 'transport-error' (error: Error, tx: ServerTransaction): a response could not be sent (§17.2.4).
 */
export class TransactionLayer extends EventEmitter {
  /** @internal The timer base values in use. */
  readonly timers: Timers;
  /** @internal The time source. */
  readonly clock: Clock;
  /** @internal */
  readonly maxProceeding: number;
  /** @internal Counters the transactions update. */
  readonly counters = {
    retransmissionsSent: 0,
    retransmissionsAbsorbed: 0,
    timeouts: 0,
    strayResponses: 0,
    refused: 0,
    dropped: 0,
  };
  private readonly maxTransactions: number;
  private readonly clients = new Map<string, ClientTx>();
  private readonly servers = new Map<string, ServerTx>();
  private closed = false;
  private readonly onMessage = (message: SipMessage, source: SipAddress): void => this.receive(message, source);

  constructor(
    private readonly transport: TransactionTransport,
    options: TransactionLayerOptions = {},
  ) {
    super();
    checkObject(options, 'options');
    const t = checkObject<Partial<Timers>>(options.timers ?? {}, 'options.timers');
    this.timers = {
      T1: checkPositive(t.T1 ?? DEFAULT_TIMERS.T1, 'options.timers.T1'),
      T2: checkPositive(t.T2 ?? DEFAULT_TIMERS.T2, 'options.timers.T2'),
      T4: checkPositive(t.T4 ?? DEFAULT_TIMERS.T4, 'options.timers.T4'),
    };
    this.clock = options.clock ?? systemClock;
    this.maxTransactions = checkInteger(options.maxTransactions ?? 8192, 'options.maxTransactions', 1);
    this.maxProceeding = checkPositive(options.maxProceeding ?? 180_000, 'options.maxProceeding');
    transport.on('message', this.onMessage);
  }

  /**
   * Sends `request` in a new client transaction, adding the top Via (our sent-by for `to.transport`, a new
   * z9hG4bK branch, rport). The caller's request object is not changed; the transaction's `request` is the
   * one sent. Throws CapacityError past maxTransactions, SessionClosedError after close().
   */
  sendRequest(request: SipRequest, to: SipAddress, handler: ClientTransactionHandler): ClientTransaction {
    if (request.method === 'ACK') throw invalidOption('a method other than ACK', 'sendRequest()', "'ACK'");
    this.checkOpen();
    if (this.clients.size + this.servers.size >= this.maxTransactions) {
      throw new CapacityError('full', `The SIP transaction layer holds maxTransactions (${this.maxTransactions})`);
    }
    const branch = this.branch();
    const via = this.via(to, branch);
    const sent = cloneRequest(request);
    sent.headers.unshift({ name: 'Via', value: via });
    return this.startClient(sent, branch, via, to, handler);
  }

  /** @internal Starts a client transaction for a request that already carries its top Via `via`. */
  startClient(
    request: SipRequest,
    branch: string,
    via: string,
    to: SipAddress,
    handler: ClientTransactionHandler,
  ): ClientTx {
    const tx = new ClientTx(this, request, branch, via, to, handler);
    this.clients.set(tx.key, tx);
    tx.start();
    return tx;
  }

  /** Sends a request outside any transaction (the ACK of a 2xx), with its own Via and a new branch. */
  async sendStateless(request: SipRequest, to: SipAddress): Promise<void> {
    this.checkOpen();
    const sent = cloneRequest(request);
    sent.headers.unshift({ name: 'Via', value: this.via(to, this.branch()) });
    await this.transmit(sent, to);
  }

  /** Ends every transaction without telling their TUs, clears every timer and stops listening. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.transport.off('message', this.onMessage);
    for (const tx of [...this.clients.values()]) tx.terminate();
    for (const tx of [...this.servers.values()]) tx.terminate();
  }

  /** Live transaction counts and the counters since construction. */
  stats(): TransactionStats {
    return { clientTransactions: this.clients.size, serverTransactions: this.servers.size, ...this.counters };
  }

  /** @internal */
  transmit(message: SipMessage, to: SipAddress): Promise<void> {
    if (this.closed) return Promise.resolve();
    try {
      return this.transport.send(message, to);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** @internal */
  forgetClient(tx: ClientTx): void {
    if (this.clients.get(tx.key) === tx) this.clients.delete(tx.key);
  }

  /** @internal */
  forgetServer(tx: ServerTx): void {
    if (this.servers.get(tx.key) === tx) this.servers.delete(tx.key);
  }

  private checkOpen(): void {
    if (this.closed) throw new SessionClosedError('The SIP transaction layer is closed');
  }

  private branch(): string {
    const b = newBranch();
    return b.startsWith(MAGIC_COOKIE) ? b : MAGIC_COOKIE + b;
  }

  private via(to: SipAddress, branch: string): string {
    const local = this.transport.local(to.transport);
    return formatVia({
      transport: to.transport.toUpperCase(),
      host: local.host,
      port: local.port,
      params: { branch, rport: null },
    });
  }

  private receive(message: SipMessage, source: SipAddress): void {
    if (this.closed) return;
    let key: string;
    try {
      key = message.type === 'response' ? responseKey(message) : serverKey(message, message.method);
    } catch {
      // A Via, CSeq or name-addr we cannot read: not a message we can match or answer (§18: discard).
      this.counters.dropped++;
      return;
    }
    if (message.type === 'response') this.receiveResponse(message, key);
    else this.receiveRequest(message, source, key);
  }

  private receiveResponse(response: SipResponse, key: string): void {
    const tx = this.clients.get(key);
    if (tx === undefined) {
      this.counters.strayResponses++;
      return;
    }
    tx.receive(response);
  }

  private receiveRequest(request: SipRequest, source: SipAddress, key: string): void {
    const existing = this.servers.get(key);
    if (existing !== undefined) {
      existing.receive(request);
      return;
    }
    if (request.method === 'ACK') {
      this.emit('ack', request, source);
      return;
    }
    if (this.clients.size + this.servers.size >= this.maxTransactions) {
      this.counters.refused++;
      const busy = makeResponse(request, 503, 'Service Unavailable', newTag());
      busy.headers.push({ name: 'Retry-After', value: '5' });
      busy.headers.push({ name: 'Warning', value: `399 faxline "maxTransactions (${this.maxTransactions}) reached"` });
      this.transmit(busy, responseAddress(request, source)).catch(() => {});
      return;
    }
    const tx = new ServerTx(this, key, request, source);
    this.servers.set(key, tx);
    tx.start();
    if (request.method === 'CANCEL') this.cancelArrived(tx);
    else this.emit('request', request, tx);
  }

  /** §9.2: CANCEL is its own transaction; it finds the INVITE by the same matching rules. */
  private cancelArrived(cancelTx: ServerTx): void {
    const cancel = cancelTx.request;
    const target = this.servers.get(serverKey(cancel, 'INVITE'));
    if (target === undefined) {
      cancelTx.respond(makeResponse(cancel, 481, 'Call/Transaction Does Not Exist', newTag()));
      return;
    }
    // §9.2: the 200 to the CANCEL carries the same To tag as the INVITE's responses.
    let tag = target.localTag;
    if (tag === undefined) {
      tag = newTag();
      target.cancelTag = tag;
    }
    cancelTx.respond(makeResponse(cancel, 200, 'OK', tag));
    if (!target.pending) return; // a final response went out already: the CANCEL changes nothing
    if (this.listenerCount('cancel') > 0) this.emit('cancel', target, cancel);
    else target.respond(makeResponse(target.request, 487, 'Request Terminated', tag));
  }
}
