/**
 * SipEndpoint: faxline as a SIP fax machine. It places calls (`sendFax`) and answers them (the
 * `call` event, `receiveFax`) through our own user agent (user-agent.ts), carries each fax over
 * RTP/G.711 or T.38 UDPTL lines of its own (media.ts), and runs the SWML send_fax / receive_fax
 * operations on them, so a SIP fax reports exactly what the other transports report.
 *
 * The fax call policy, per endpoint or per sendFax (`t38`):
 * - 'prefer' (default): the call starts on G.711 (PCMU, PCMA, telephone-event). The answering side
 *   asks for T.38 with a re-INVITE as its fax starts (as a gateway does on CED); the calling side
 *   asks CALLER_T38_DELAY_MS later unless the far end asked first, so two faxline ends do not
 *   collide (491). A 200 moves the fax to T.38; 488, 415, any other refusal or no answer within
 *   `t38AnswerTimeoutMs` and the fax goes on in G.711 (`fellBack: true`). A T.38 re-INVITE from the
 *   far end is accepted at any time.
 * - 'off': G.711 only; a T.38 re-INVITE (or a first offer with only m=image) is answered 488.
 * - 'only': the calling side offers T.38 (m=image) in its first INVITE; the answering side takes a
 *   G.711 offer and asks for T.38 at once. Either way, a refusal fails the fax (CALL_DROPPED, the
 *   detail says T.38 was refused) instead of falling back.
 * A first offer with m=image is taken as T.38 from the start (unless 'off'). A re-INVITE with the
 * same SDP (a session refresh) is answered by the user agent and never reaches the media. Early
 * media (183 with SDP) sets where our RTP goes. Each line sends PRIME_DATAGRAMS empty datagrams
 * as soon as it knows the far end, to open the path through a NAT, and follows the far end's
 * media where it comes from (symmetric RTP/UDPTL).
 *
 * Calls that fail before any media (the fax never started) end with these SpanDSP codes, the SIP
 * status in `detail` (no new codes are invented, SPEC §1):
 *
 * | what happened | result code |
 * | --- | --- |
 * | no answer: 408, 480, no final response (Timer B), ring time out (CANCEL → 487) | T0_EXPIRED (2) |
 * | busy (486, 600), refused (403, 404, 603, …), 401/407 without or with wrong credentials, 488/606, 5xx, transport error | CALL_DROPPED (49) |
 * | our own signal aborted before the answer (CANCEL → 487) | CALL_DROPPED (49) |
 * | the far end hangs up (BYE) during the fax | what SpanDSP reports on the hang-up, normally CALL_DROPPED (49) |
 *
 * Inbound calls go to the `call` listeners as SipIncomingFax objects; with no listener the
 * endpoint answers every call itself and receives into the default store (`storeDir`, else
 * receive-fax.ts's DEFAULT_RECEIVE_DIR). A listener that neither receives nor rejects within
 * UNHANDLED_CALL_MS has its call rejected 480.
 */
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { isIPv4 } from 'node:net';
import * as os from 'node:os';
import { checkInteger, checkNumber, checkObject, checkOneOf, checkPositive, checkString } from '../base/checks';
import { CapacityError, InvalidOptionError } from '../base/errors';
import { ResultCode } from '../base/result-codes';
import { checkT38Options, type T38Options } from '../engine/options';
import { failedBeforeStart } from '../engine/result';
import type { FaxSession } from '../engine/session';
import { DEFAULT_READY_TIMEOUT_MS, LineMedia } from '../realtime/line-media';
import { anySignal } from '../swml/fax-operation';
import { defaultReceiveStore, receiveFax, type ReceiveFaxOptions, type ReceiveFaxOutcome } from '../swml/receive-fax';
import { prepareSendFax, type SendFaxContext, type SendFaxOptions, type SendFaxOutcome } from '../swml/send-fax';
import type { CallContext } from '../swml/events';
import type { CallLines } from '../transports/line';
import type { FaxMedia, MediaControl, MediaOutcome } from '../transports/media';
import type { ReceiveOptions, SendOptions } from '../engine/options';
import { negotiatedUdptl } from '../transports/t38/sdp';
import type { Credentials } from './digest';
import { answerFor, audioOffer, parseRemote, t38Offer, type RemoteMedia, type T38Params } from './fax-sdp';
import { formatUri, parseUri, type NameAddr } from './message';
import { CallMedia, checkPortRange, DEFAULT_MEDIA_PORTS, mediaAddress, MediaPorts, type PortRange } from './media';
import type { Timers } from './transaction';
import { SipTransport, type SipTransportKind } from './transport';
import { SipUserAgent, type IncomingCall, type SipCall } from './user-agent';

/** How a route treats T.38: see the file's comment. */
export type T38Policy = 'prefer' | 'off' | 'only';

/** Where the endpoint listens for SIP. */
export interface SipListenAddress {
  transport: SipTransportKind;
  host: string;
  /** 0: any free port. */
  port: number;
}

/** Options of a SipEndpoint. */
export interface SipEndpointOptions {
  /** 'udp:HOST:PORT' or 'tcp:HOST:PORT' (IPv4), or the same as an object. */
  listen: string | SipListenAddress;
  /** The address the far end reaches us at (behind NAT): our Contact, Via and SDP c=. */
  publicAddress?: string;
  /** Local UDP ports for RTP and UDPTL lines (default 16384–32767, even ones). */
  ports?: PortRange;
  /** Every out-of-dialog request goes through this proxy, e.g. 'sip:10.0.0.1:5060;lr'. */
  outboundProxy?: string;
  /** Digest credentials for 401/407 challenges. */
  credentials?: Credentials;
  /** The T.38 policy of every call (sendFax can override it). Default 'prefer'. */
  t38?: T38Policy;
  /** Our T.38 settings (error correction, redundancy, …; default T38_DEFAULTS). */
  t38Settings?: T38Options;
  /** RFC 4028 Session-Expires we ask for, s (default: the user agent's, 1800). */
  sessionExpires?: number;
  /** The user part of our Contact and default From (default 'faxline'). */
  userName?: string;
  /** The User-Agent header. */
  userAgent?: string;
  /** SIP timers T1, T2, T4 (ms). */
  timers?: Partial<Timers>;
  /** How long an outgoing call may ring before it is cancelled, ms (default 60 000). */
  ringTimeoutMs?: number;
  /**
   * Inbound calls ring this long (180 Ringing) before they are answered, ms (default 0: at once).
   * A caller's CANCEL in that time ends the call with 487, as with a fax machine that rings.
   */
  answerDelayMs?: number;
  /** How long a T.38 re-INVITE may go unanswered before the fax stays in G.711, ms (default 10 000). */
  t38AnswerTimeoutMs?: number;
  /** How long the media may take to be ready once the call is up, ms (default 60 000). */
  readyTimeoutMs?: number;
  /** Bound on one fax's line time without a page getting through, ms (default: LineMedia's, four hours). */
  timeLimitMs?: number;
  /** After the first media packet, nothing for this long ends the line, ms (default: the line's, 10 000). */
  silenceTimeoutMs?: number;
  /** Calls in flight at most, both ways (default 1000): more inbound get 503, sendFax rejects. */
  maxCalls?: number;
  /** The default store's folder for calls no listener takes. */
  storeDir?: string;
  /** Where the endpoint's own notes go (a call nobody handled, a failed BYE). Default: nowhere. */
  log?: (message: string) => void;
}

/** What a SIP fax adds to the SWML outcome. */
export interface SipFaxInfo {
  /** The transport that carried the fax at its end: G.711 audio or T.38. */
  transport: 'g711' | 't38';
  /** We asked for T.38, the far end refused or did not answer, and the fax went on in G.711. */
  fellBack: boolean;
  /** The SIP call: its Call-ID ('' when none was placed) and the INVITE's final status (0 when none). */
  sip: { callId: string; status: number };
}

/** How a SIP send_fax ended. */
export type SipSendFaxOutcome = SendFaxOutcome & SipFaxInfo;
/** How a SIP receive_fax ended. */
export type SipReceiveFaxOutcome = ReceiveFaxOutcome & SipFaxInfo;

/**
 * What sendFax takes: the SWML parameters, the destination, and send_fax's host options (its
 * `document` limits are `documentLimits` here: `document` is the URL).
 */
export interface SipSendFaxRequest extends Omit<SendFaxOptions, 'document'> {
  /** The destination, e.g. 'sip:+15551234@pbx.example:5060'. */
  to: string;
  /** The document URL (PDF or TIFF-F). */
  document: string;
  /** Our station identity (TSI). */
  identity?: string;
  /** The header line of every page. */
  headerInfo?: string;
  /** Where the calling.call.fax status events go. */
  statusUrl?: string;
  /** Our From (default: the user agent's, userName@publicAddress). */
  from?: string;
  /** The T.38 policy of this call (default: the endpoint's). */
  t38?: T38Policy;
  /** The status events' context (ids); default: fresh ids (the document is prepared before the call exists). */
  context?: Partial<CallContext>;
  /** Limits of fetching and rendering the document (send_fax's `document` option). */
  documentLimits?: SendFaxOptions['document'];
}

/** What receiveFax takes: the SWML parameters and receive_fax's host options. */
export interface SipReceiveFaxRequest extends ReceiveFaxOptions {
  /** Our station identity (CSI); default: the dialled number when T.30 can carry it. */
  identity?: string;
  /** Where the calling.call.fax status events go. */
  statusUrl?: string;
  /** The status events' context (ids); default: the SIP Call-ID as call_id, the dialled number as caller_id, fresh ids. */
  context?: Partial<CallContext>;
}

/** The endpoint's figures. */
export interface SipEndpointStats {
  callsIn: number;
  callsOut: number;
  /** Calls in flight now. */
  active: number;
  faxesOk: number;
  faxesFailed: number;
  /** Faxes that ended on T.38, and on G.711. */
  t38: number;
  g711: number;
  /** Faxes that asked for T.38 and went on in G.711. */
  fallbacks: number;
  /** Media ports held now. */
  mediaPorts: number;
  /** The user agent's own (calls, transport, transactions). */
  ua: ReturnType<SipUserAgent['stats']>;
}

/** The calling side waits this long before asking for T.38, so the answering side (which asks at once) goes first. */
export const CALLER_T38_DELAY_MS = 2_000;
/** Empty datagrams each line sends once it knows the far end, to open a NAT's path. */
export const PRIME_DATAGRAMS = 3;
/** A `call` listener must receive or reject within this long, or the call is rejected 480. */
export const UNHANDLED_CALL_MS = 30_000;
/** After a fax received in full, how long the answering side leaves the hang-up to the caller. */
export const CALLEE_BYE_GRACE_MS = 3_000;
/** Default ring time of an outgoing call. */
export const DEFAULT_RING_TIMEOUT_MS = 60_000;
/** Default bound on a T.38 re-INVITE's answer. */
export const DEFAULT_T38_ANSWER_TIMEOUT_MS = 10_000;
/** close() waits at most this long for the calls it ended to hang up. */
export const CLOSE_WAIT_MS = 5_000;
/** Default bound on calls in flight. */
export const DEFAULT_MAX_CALLS = 1000;

/** 'udp:HOST:PORT' / 'tcp:HOST:PORT' or the object, checked. */
export function parseListen(value: string | SipListenAddress): SipListenAddress {
  if (typeof value === 'string') {
    const m = /^(udp|tcp):(.+):(\d{1,5})$/i.exec(value);
    if (!m) throw new InvalidOptionError(`Expected listen as udp:HOST:PORT or tcp:HOST:PORT but got '${value}'`);
    return parseListen({
      transport: m[1]!.toLowerCase() as SipTransportKind,
      host: m[2] === 'localhost' ? '127.0.0.1' : m[2]!,
      port: Number(m[3]),
    });
  }
  const o = checkObject<SipListenAddress>(value, 'listen');
  const transport = checkOneOf(o.transport, 'listen.transport', ['udp', 'tcp'] as const);
  if (typeof o.host !== 'string' || !isIPv4(o.host))
    throw new InvalidOptionError(`Expected an IPv4 address for listen.host but got ${String(o.host)}`);
  return { transport, host: o.host, port: checkInteger(o.port, 'listen.port', 0, 65535) };
}

/** A SipCallError-like rejection of invite(): duck-typed, so that any layer's error reads the same. */
interface CallFailure {
  code?: unknown;
  status?: unknown;
  reason?: unknown;
  message?: unknown;
}

/** The fax result and SIP status for a call that failed before its media (the table above). */
export function callFailureResult(
  error: unknown,
  why: { ringTimedOut: boolean; policy: T38Policy },
): { code: number; detail: string; status: number } {
  const e = (error ?? {}) as CallFailure;
  const message = typeof e.message === 'string' ? e.message : String(error);
  if (e.code === 'ERR_FAXLINE_SIP_CALL' && typeof e.status === 'number') {
    const status = e.status;
    const sip = `SIP ${status}${typeof e.reason === 'string' && e.reason ? ` ${e.reason}` : ''}`;
    if (status === 487 && why.ringTimedOut)
      return {
        code: ResultCode.T0_EXPIRED,
        detail: `nobody answered within the ring time (${sip} after CANCEL)`,
        status,
      };
    if (status === 487) return { code: ResultCode.CALL_DROPPED, detail: `the call was cancelled (${sip})`, status };
    if (status === 408 || status === 480)
      return { code: ResultCode.T0_EXPIRED, detail: `the call was not answered: ${sip}`, status };
    if ((status === 488 || status === 606 || status === 415) && why.policy === 'only')
      return {
        code: ResultCode.CALL_DROPPED,
        detail: `the far end refused a T.38 call and t38 is 'only': ${sip}`,
        status,
      };
    if (status === 401 || status === 407)
      return {
        code: ResultCode.CALL_DROPPED,
        detail: `the call needs authentication that failed or was not given: ${sip}`,
        status,
      };
    return { code: ResultCode.CALL_DROPPED, detail: `the call failed: ${sip}`, status };
  }
  if (e.code === 'ERR_FAXLINE_SIP_TIMEOUT')
    return { code: ResultCode.T0_EXPIRED, detail: `the INVITE got no final response: ${message}`, status: 408 };
  return { code: ResultCode.CALL_DROPPED, detail: `the call could not be placed: ${message}`, status: 0 };
}

/** A medium for a fax that ends before any line: it reports `code` without running a terminal. */
function failedMedia(code: number, detail: string, pages = 0): FaxMedia {
  const result = failedBeforeStart(code, detail, pages);
  const outcome = async (): Promise<MediaOutcome> => ({ result, durationMs: 0 });
  return { kind: 'sip', send: outcome, receive: outcome, end: () => undefined };
}

/** Our T.38 capabilities for SDP, from the session's settings. */
function t38ParamsOf(o: Required<T38Options>): T38Params {
  return {
    version: o.version as T38Params['version'],
    maxBitRate: o.maxBitRate,
    rateManagement: o.rateManagement,
    maxBuffer: o.maxBuffer,
    maxDatagram: o.maxDatagram,
    errorCorrection: o.errorCorrection,
    fillBitRemoval: o.fillBitRemoval,
    transcodingMMR: o.transcodingMMR,
    transcodingJBIG: o.transcodingJBIG,
  };
}

/** T.38 bit rates a session takes; the negotiated one is rounded down to one of them. */
const SESSION_BIT_RATES = [2400, 4800, 7200, 9600, 12000, 14400];

/** The session's T.38 settings once the far end's parameters are known. */
function sessionT38(ours: Required<T38Options>, remote: T38Params): T38Options {
  const local = t38ParamsOf(ours);
  const udptl = negotiatedUdptl(local, remote);
  const rate = Math.min(ours.maxBitRate, remote.maxBitRate);
  return {
    ...ours,
    version: Math.min(ours.version, remote.version),
    maxBitRate: [...SESSION_BIT_RATES].reverse().find((r) => r <= rate) ?? 2400,
    rateManagement: remote.rateManagement,
    maxBuffer: remote.maxBuffer ?? ours.maxBuffer,
    maxDatagram: udptl.maxDatagram,
    errorCorrection: udptl.errorCorrection,
  };
}

/** The bounded wait: resolves after `ms`, or at once when `signal` aborts. */
function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

const errorText = (error: unknown): string => (error instanceof Error ? error.message : String(error));

/** What a FaxCall needs from its endpoint. */
interface CallSettings {
  policy: T38Policy;
  t38: Required<T38Options>;
  t38AnswerTimeoutMs: number;
  readyTimeoutMs: number;
  timeLimitMs?: number;
  log: (message: string) => void;
}

/**
 * One fax call's media and signalling: the SIP call, its lines, the fax session once it runs,
 * and the T.38 switch both ways.
 */
class FaxCall {
  readonly role: 'caller' | 'callee';
  readonly media: CallMedia;
  readonly settings: CallSettings;
  /** Aborted when the call ends on the SIP side (BYE, session expiry): the fax hangs up. */
  readonly ended = new AbortController();
  call: SipCall | null = null;
  status = 0;
  fellBack = false;
  session: FaxSession | null = null;
  #startedInT38 = false;
  #pendingSwitch: T38Options | null = null;
  #endDetail = '';
  #byeSent = false;
  /** Aborted when the fax is over: stops a waiting T.38 request. */
  readonly #over = new AbortController();
  /** Aborted when the endpoint closes: cancels a call still ringing. */
  readonly closing = new AbortController();

  constructor(role: 'caller' | 'callee', media: CallMedia, settings: CallSettings) {
    this.role = role;
    this.media = media;
    this.settings = settings;
  }

  get callId(): string {
    return this.call?.callId ?? '';
  }

  /** The transport the fax ended on. */
  get transport(): 'g711' | 't38' {
    return this.#startedInT38 || this.session?.medium === 't38' ? 't38' : 'g711';
  }

  info(): SipFaxInfo {
    return { transport: this.transport, fellBack: this.fellBack, sip: { callId: this.callId, status: this.status } };
  }

  /** Takes the established call: its re-INVITEs and its end. */
  attach(call: SipCall): void {
    this.call = call;
    call.on(
      'reinvite',
      (offer: string, reply: { accept(answer: string): void; reject(status: number, reason?: string): void }) =>
        this.#onReinvite(offer, reply),
    );
    call.once('ended', (end: { by: string; status?: number; detail: string }) => {
      if (end.by === 'local') return;
      this.#endDetail =
        end.by === 'remote' ? 'the far end hung up (SIP BYE)' : `the SIP call ended: ${end.detail || end.by}`;
      if (this.session && !this.session.closed) this.session.hangUp(this.#endDetail);
      this.ended.abort();
    });
  }

  /** Ends the fax now (the endpoint closes): a ringing call is cancelled, a running fax hung up. */
  abort(detail: string): void {
    this.closing.abort();
    if (this.session && !this.session.closed) this.session.hangUp(detail);
  }

  /** Sets where a line sends, from the far end's SDP, and opens the NAT path. */
  useRemote(remote: RemoteMedia): void {
    const line = remote.kind === 'image' ? this.media.udptl : this.media.rtp;
    if (!line) return;
    line.setRemote({ host: remote.address, port: remote.port });
    line.prime(PRIME_DATAGRAMS);
  }

  /** Early media (183 with SDP): our RTP goes where it says. Never throws. */
  early(sdp: string): void {
    try {
      const remote = parseRemote(sdp, 'audio-only');
      if (this.media.rtp && remote.codec === this.media.rtp.codec) this.useRemote(remote);
    } catch {
      // Early media we cannot read is not worth failing the call for: the answer decides.
    }
  }

  /** The FaxMedia of this call: T.38 from the start when `t38` is given, else audio that may switch. */
  faxMedia(t38: T38Options | null): FaxMedia {
    const { policy, t38: ours } = this.settings;
    let lines: CallLines;
    if (t38) {
      this.#startedInT38 = true;
      lines = { t38: this.media.udptl! };
    } else {
      lines = { audio: this.media.rtp! };
      if (policy !== 'off' && this.media.udptl) lines.t38 = this.media.udptl;
    }
    const delay = this.role === 'caller' && policy === 'prefer' ? CALLER_T38_DELAY_MS : 0;
    const line = new LineMedia(lines, {
      closeLine: false,
      readyTimeoutMs: this.settings.readyTimeoutMs,
      ...(this.settings.timeLimitMs !== undefined && { timeLimitMs: this.settings.timeLimitMs }),
      ...(t38 ? { t38 } : {}),
      ...(!t38 && lines.t38
        ? { t38Switch: { request: true, offer: ours, answerTimeoutMs: delay + this.settings.t38AnswerTimeoutMs } }
        : {}),
      onSession: (session) => this.#onSession(session, delay),
    });
    const signal = this.ended.signal;
    return {
      kind: 'sip',
      signal,
      send: (options: SendOptions, control: MediaControl) => line.send(options, control),
      receive: (options: ReceiveOptions, control: MediaControl) => line.receive(options, control),
      end: () => line.end(),
    };
  }

  /** The fax is over: hang up (the answering side first gives the caller a moment), close the lines. */
  async finish(faxOk: boolean, log: (message: string) => void): Promise<void> {
    this.#over.abort();
    const call = this.call;
    if (call && !this.ended.signal.aborted && !this.#byeSent) {
      if (this.role === 'callee' && faxOk) await pause(CALLEE_BYE_GRACE_MS, this.ended.signal);
      if (!this.ended.signal.aborted) {
        this.#byeSent = true;
        await call.bye().catch((error: unknown) => log(`BYE for ${call.callId} failed: ${errorText(error)}`));
      }
    }
    await this.media.close();
  }

  #onSession(session: FaxSession, delay: number): void {
    this.session = session;
    session.on('t38-request', () => void this.#requestT38(session, delay));
    // A 200 that comes after the session's own answer timeout still moves the fax to T.38.
    session.on('t38-switched', () => (this.fellBack = false));
    session.on('t38-refused', (refusal) => {
      if (this.settings.policy === 'only') {
        session.hangUp(`T.38 is required (t38 'only') but ${refusal.detail}`);
      } else {
        this.fellBack = true;
        this.settings.log(`call ${this.callId}: T.38 not taken (${refusal.detail}); the fax goes on in G.711`);
      }
    });
    if (this.#pendingSwitch) session.switchToT38(this.#pendingSwitch);
    if (this.ended.signal.aborted) session.hangUp(this.#endDetail);
  }

  /** Our T.38 re-INVITE (the session asked); its answer switches the session or refuses. */
  async #requestT38(session: FaxSession, delay: number): Promise<void> {
    if (delay > 0) await pause(delay, this.#over.signal);
    const call = this.call;
    const usable = (): boolean => !session.closed && !session.finished && session.medium !== 't38';
    if (!call || !usable() || this.ended.signal.aborted) return;
    let status: number;
    let answer: string | null;
    try {
      ({ status, answer } = await call.reinvite(t38Offer(this.media.next(), t38ParamsOf(this.settings.t38))));
    } catch (error) {
      if (usable()) session.t38Refused(`the T.38 re-INVITE got no answer: ${errorText(error)}`);
      return;
    }
    if (!usable()) return;
    if (status >= 200 && status < 300 && answer) {
      let remote: RemoteMedia | null = null;
      try {
        remote = parseRemote(answer);
      } catch {
        remote = null;
      }
      if (remote?.kind === 'image' && remote.t38) {
        this.useRemote(remote);
        // Also after the session's own answer timeout: the far end has moved to T.38.
        session.switchToT38(sessionT38(this.settings.t38, remote.t38));
        return;
      }
      session.t38Refused(`the far end answered the T.38 re-INVITE without T.38 (SIP ${status})`);
      return;
    }
    session.t38Refused(`the far end refused T.38 (SIP ${status})`);
  }

  #onReinvite(
    offer: string,
    reply: { accept(answer: string): void; reject(status: number, reason?: string): void },
  ): void {
    const policy = this.settings.policy;
    let remote: RemoteMedia;
    try {
      remote = parseRemote(offer, policy === 'off' ? 'audio-only' : 't38-ok');
    } catch {
      reply.reject(488, 'Not Acceptable Here');
      return;
    }
    if (remote.kind === 'image') {
      const answer = this.media.udptl && remote.t38 ? answerFor(remote, this.media.next(), 't38-ok') : null;
      if (answer === null || !remote.t38) {
        reply.reject(488, 'Not Acceptable Here');
        return;
      }
      this.useRemote(remote);
      reply.accept(answer);
      const settings = sessionT38(this.settings.t38, remote.t38);
      const session = this.session;
      if (!session) this.#pendingSwitch = settings;
      else if (!session.closed) session.switchToT38(settings);
      return;
    }
    // Audio: a new address or a hold on G.711; there is no way back from T.38, nor another law mid-fax.
    const rtp = this.media.rtp;
    if (!rtp || this.transport === 't38' || remote.codec !== rtp.codec) {
      reply.reject(488, 'Not Acceptable Here');
      return;
    }
    const answer = answerFor(remote, this.media.next(), 'audio-only');
    if (answer === null) {
      reply.reject(488, 'Not Acceptable Here');
      return;
    }
    this.useRemote(remote);
    reply.accept(answer);
  }
}

/** The events a SipEndpoint emits. */
export interface SipEndpointEvents {
  /** A new inbound call: receive it (call.receiveFax) or reject it. */
  call: [SipIncomingFax];
}

/** What a SipIncomingFax asks of its endpoint (internal). */
interface IncomingHooks {
  receive(
    incoming: IncomingCall,
    call: SipIncomingFax,
    request: SipReceiveFaxRequest,
    cancelled: () => boolean,
  ): Promise<SipReceiveFaxOutcome>;
  rejected(call: SipIncomingFax): void;
  log(message: string): void;
}

/**
 * An inbound call as the `call` listener sees it: who calls whom, and the two things to do with it.
 */
export class SipIncomingFax {
  /** The dialled number: the Request-URI's user, else the To user, else the Diversion user. */
  readonly number: string;
  /** The caller's URI (From). */
  readonly from: string;
  /** The caller's display name, when given. */
  readonly displayName: string | undefined;
  readonly callId: string;
  readonly #incoming: IncomingCall;
  readonly #hooks: IncomingHooks;
  #handled = false;
  #cancelled = false;
  readonly #timer: NodeJS.Timeout;

  /** Made by the endpoint for each inbound INVITE. */
  constructor(incoming: IncomingCall, hooks: IncomingHooks) {
    this.#incoming = incoming;
    this.#hooks = hooks;
    this.callId = incoming.callId;
    const user = (a: NameAddr | undefined): string | undefined => a?.uri.user || undefined;
    this.number = incoming.requestUri.user || user(incoming.to) || user(incoming.diversion) || '';
    this.from = formatUri(incoming.from.uri);
    this.displayName = incoming.from.displayName;
    incoming.once('cancelled', () => {
      this.#cancelled = true;
      // Nobody will answer it now: it leaves the calls in flight.
      if (!this.#handled) {
        this.#handled = true;
        clearTimeout(this.#timer);
        hooks.rejected(this);
      }
    });
    this.#timer = setTimeout(() => {
      if (this.#handled) return;
      this.reject(480, 'Temporarily Unavailable');
      hooks.log(
        `call ${this.callId} was not answered by its listener within ${UNHANDLED_CALL_MS / 1000} s: rejected 480`,
      );
    }, UNHANDLED_CALL_MS);
  }

  /** Whether the call was received, rejected or cancelled by the caller. */
  get handled(): boolean {
    return this.#handled;
  }

  /** Refuses the call (default 486 Busy Here). */
  reject(status = 486, reason?: string): void {
    checkInteger(status, 'status', 300, 699);
    if (this.#handled) return;
    this.#handled = true;
    clearTimeout(this.#timer);
    this.#incoming.reject(status, reason);
    this.#hooks.rejected(this);
  }

  /**
   * Answers the call and receives the fax (see the policy in the file's comment). Resolves like
   * receive_fax, with the transport and whether it fell back; rejects only with InvalidOptionError
   * for a wrong request, or when the call was already handled.
   */
  async receiveFax(request: SipReceiveFaxRequest = {}): Promise<SipReceiveFaxOutcome> {
    if (this.#handled && !this.#cancelled)
      throw new InvalidOptionError(`call ${this.callId} was already received or rejected`);
    this.#handled = true;
    clearTimeout(this.#timer);
    return this.#hooks.receive(this.#incoming, this, request, () => this.#cancelled);
  }
}

/**
 * A SIP fax endpoint: see the file's comment for the policy and the result codes.
 *
 * @example
 * const endpoint = new SipEndpoint({ listen: 'udp:0.0.0.0:5060', publicAddress: '203.0.113.7' });
 * await endpoint.start();
 * const outcome = await endpoint.sendFax({ to: 'sip:+15551234@pbx.example', document: 'file:///tmp/a.pdf', allowFiles: true });
 */
export class SipEndpoint extends EventEmitter<SipEndpointEvents> {
  readonly options: SipEndpointOptions;
  readonly #listen: SipListenAddress;
  readonly #policy: T38Policy;
  readonly #t38: Required<T38Options>;
  readonly #maxCalls: number;
  readonly #log: (message: string) => void;
  #ua: SipUserAgent | null = null;
  #transport: SipTransport | null = null;
  #ports: MediaPorts | null = null;
  #address = '';
  #closed = false;
  #closing: Promise<void> | null = null;
  readonly #active = new Set<FaxCall | SipIncomingFax>();
  readonly #idle = new Set<() => void>();
  readonly #stats = { callsIn: 0, callsOut: 0, faxesOk: 0, faxesFailed: 0, t38: 0, g711: 0, fallbacks: 0 };

  constructor(options: SipEndpointOptions) {
    super();
    checkObject(options, 'options');
    this.#listen = parseListen(options.listen);
    if (options.publicAddress !== undefined && !isIPv4(options.publicAddress))
      throw new InvalidOptionError(
        `Expected an IPv4 address for publicAddress but got ${String(options.publicAddress)}`,
      );
    if (options.ports !== undefined) checkPortRange(options.ports);
    this.#policy =
      options.t38 === undefined ? 'prefer' : checkOneOf(options.t38, 't38', ['prefer', 'off', 'only'] as const);
    this.#t38 = checkT38Options(options.t38Settings ?? {});
    for (const key of [
      'ringTimeoutMs',
      't38AnswerTimeoutMs',
      'readyTimeoutMs',
      'timeLimitMs',
      'silenceTimeoutMs',
    ] as const) {
      if (options[key] !== undefined) checkPositive(options[key], key);
    }
    if (options.answerDelayMs !== undefined) checkNumber(options.answerDelayMs, 'answerDelayMs', 0, UNHANDLED_CALL_MS);
    this.#maxCalls = checkInteger(options.maxCalls ?? DEFAULT_MAX_CALLS, 'maxCalls', 1);
    if (options.outboundProxy !== undefined) parseUri(checkString(options.outboundProxy, 'outboundProxy'));
    if (options.storeDir !== undefined) defaultReceiveStore(options.storeDir);
    this.#log = options.log ?? (() => undefined);
    this.options = options;
  }

  /** Binds the SIP transport and starts answering. */
  async start(): Promise<void> {
    if (this.#ua) return;
    if (this.#closed) throw new InvalidOptionError('The SIP endpoint is closed');
    const l = this.#listen;
    const o = this.options;
    const transport = await SipTransport.open({
      [l.transport]: { host: l.host, port: l.port },
      ...(o.publicAddress !== undefined && { publicAddress: o.publicAddress }),
    });
    this.#transport = transport;
    this.#address = mediaAddress(l.host, o.publicAddress);
    this.#ports = new MediaPorts(l.host, o.ports ?? DEFAULT_MEDIA_PORTS);
    const ua = new SipUserAgent({
      transport,
      publicHost: o.publicAddress,
      userName: o.userName ?? 'faxline',
      outboundProxy: o.outboundProxy,
      credentials: o.credentials,
      sessionExpires: o.sessionExpires,
      userAgent: o.userAgent ?? 'faxline',
      timers: o.timers,
    });
    ua.on('call', (incoming: IncomingCall) => this.#onCall(incoming));
    this.#ua = ua;
  }

  /** Where SIP is bound: transport, host (the public address when given) and port. */
  get address(): SipListenAddress {
    const transport = this.#transport;
    if (!transport) throw new InvalidOptionError('The SIP endpoint is not started');
    return transport.local(this.#listen.transport);
  }

  /** Whether drain() was called. */
  get draining(): boolean {
    return this.#ua?.draining ?? false;
  }

  /**
   * Places a call to `request.to` and sends the document on it. The document is prepared first,
   * so the far end never waits for it. Resolves like send_fax (a failed call is a failed fax with
   * the code of the table above) plus the transport, the fallback and the SIP call; rejects with
   * InvalidOptionError for a wrong request, CapacityError when draining, closed or full.
   */
  async sendFax(request: SipSendFaxRequest): Promise<SipSendFaxOutcome> {
    const ua = this.#started();
    checkObject(request, 'request');
    const { to, document, identity, headerInfo, statusUrl, from, t38, context, documentLimits, ...rest } = request;
    const options: SendFaxOptions = { ...rest, ...(documentLimits !== undefined && { document: documentLimits }) };
    const target = parseUri(checkString(to, 'to'));
    if (target.scheme !== 'sip' && target.scheme !== 'sips')
      throw new InvalidOptionError(`Expected a sip: URI for to but got '${to}'`);
    const policy = t38 === undefined ? this.#policy : checkOneOf(t38, 't38', ['prefer', 'off', 'only'] as const);
    if (ua.draining) throw new CapacityError('draining', 'The SIP endpoint is draining: it places no new calls');
    if (this.#active.size >= this.#maxCalls)
      throw new CapacityError('full', `The SIP endpoint has ${this.#maxCalls} calls in flight (maxCalls)`);
    const callContext: SendFaxContext = {
      project_id: 'faxline-sip',
      space_id: 'faxline-sip',
      call_id: randomUUID(),
      node_id: os.hostname(),
      swml_session_id: randomUUID(),
      ...context,
    };
    const job = await prepareSendFax(
      { document, identity, header_info: headerInfo, status_url: statusUrl },
      callContext,
      options,
    );
    const none: SipFaxInfo = { transport: 'g711', fellBack: false, sip: { callId: '', status: 0 } };
    if (job.failure) return this.#count({ ...(await job.send(failedMedia(0, ''))), ...none }, null);

    let media: CallMedia;
    try {
      media = await CallMedia.open(this.#ports!, {
        address: this.#address,
        ...(policy !== 'only' && { audio: 'pcmu' as const }),
        t38: policy !== 'off',
        t38Params: t38ParamsOf(this.#t38),
        ...(this.options.silenceTimeoutMs !== undefined && { silenceTimeoutMs: this.options.silenceTimeoutMs }),
      });
    } catch (error) {
      return this.#count(
        { ...(await job.send(failedMedia(ResultCode.CALL_DROPPED, `no media port: ${errorText(error)}`))), ...none },
        null,
      );
    }
    const fax = new FaxCall('caller', media, this.#callSettings(policy));
    this.#active.add(fax);
    this.#stats.callsOut++;
    let outcome: SipSendFaxOutcome | null = null;
    try {
      const local = media.local();
      const offer = policy === 'only' ? t38Offer(local, t38ParamsOf(this.#t38)) : audioOffer(local, ['pcmu', 'pcma']);
      const ring = new AbortController();
      const ringTimer = setTimeout(() => ring.abort(), this.options.ringTimeoutMs ?? DEFAULT_RING_TIMEOUT_MS);
      const { signal, detach } = anySignal([options.signal, ring.signal, fax.closing.signal]);
      let call: SipCall;
      try {
        call = await ua.invite({
          to,
          ...(from !== undefined && { from }),
          offer,
          signal,
          onEarly: (sdp) => fax.early(sdp),
        });
      } catch (error) {
        const failure = callFailureResult(error, { ringTimedOut: ring.signal.aborted, policy });
        fax.status = failure.status;
        const failed = await job.send(failedMedia(failure.code, failure.detail, job.documentPages));
        outcome = { ...failed, ...fax.info() };
        return outcome;
      } finally {
        clearTimeout(ringTimer);
        detach();
      }
      fax.status = 200;
      fax.attach(call);
      const started = await this.#answered(fax, call.remoteSdp, policy);
      const sent = await job.send(
        started.ok
          ? fax.faxMedia(started.t38)
          : failedMedia(ResultCode.CALL_DROPPED, started.detail, job.documentPages),
      );
      outcome = { ...sent, ...fax.info() };
      return outcome;
    } finally {
      await fax.finish(outcome?.result.success ?? false, this.#log);
      this.#end(fax);
      if (outcome) this.#count(outcome, fax);
    }
  }

  /**
   * Stops taking calls: OPTIONS and new INVITEs are answered 503, sendFax rejects. Resolves true
   * once every call in flight has ended, or false when `timeoutMs` passed first (they go on).
   */
  async drain(timeoutMs?: number): Promise<boolean> {
    const ua = this.#started();
    if (timeoutMs !== undefined) checkPositive(timeoutMs, 'timeoutMs');
    ua.draining = true;
    if (this.#active.size === 0) return true;
    return new Promise<boolean>((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const done = (): void => {
        clearTimeout(timer);
        this.#idle.delete(done);
        resolve(true);
      };
      this.#idle.add(done);
      if (timeoutMs !== undefined)
        timer = setTimeout(() => {
          this.#idle.delete(done);
          resolve(false);
        }, timeoutMs);
    });
  }

  /** The endpoint's figures and the user agent's. */
  stats(): SipEndpointStats {
    const ua = this.#started();
    return { ...this.#stats, active: this.#active.size, mediaPorts: this.#ports!.inUse, ua: ua.stats() };
  }

  /**
   * Ends every call (a ringing one cancelled, a fax hung up, an unanswered inbound one refused
   * 503), waits at most CLOSE_WAIT_MS for their BYEs, then closes the user agent and its transport.
   * Idempotent.
   */
  async close(): Promise<void> {
    if (this.#closing) return this.#closing;
    this.#closing = (async () => {
      this.#closed = true;
      const ua = this.#ua;
      if (ua) ua.draining = true;
      for (const call of [...this.#active]) {
        if (call instanceof FaxCall) call.abort('the SIP endpoint was closed');
        else call.reject(503, 'Service Unavailable');
      }
      if (this.#active.size > 0) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(done, CLOSE_WAIT_MS);
          function done(): void {
            clearTimeout(timer);
            resolve();
          }
          this.#idle.add(done);
        });
      }
      this.#idle.clear();
      this.#ua = null;
      await ua?.close();
      this.#transport = null;
    })();
    return this.#closing;
  }

  /** Receives an inbound call (SipIncomingFax.receiveFax). */
  async #receiveCall(
    incoming: IncomingCall,
    handle: SipIncomingFax,
    request: SipReceiveFaxRequest,
    cancelled: () => boolean,
  ): Promise<SipReceiveFaxOutcome> {
    checkObject(request, 'request');
    const { identity, statusUrl, context, ...options } = request;
    const policy = this.#policy;
    const params = { identity, status_url: statusUrl };
    const callContext = {
      project_id: 'faxline-sip',
      space_id: 'faxline-sip',
      call_id: incoming.callId,
      node_id: os.hostname(),
      swml_session_id: randomUUID(),
      caller_id: handle.number,
      ...context,
    };
    const none: SipFaxInfo = { transport: 'g711', fellBack: false, sip: { callId: incoming.callId, status: 0 } };
    const refuse = async (status: number, detail: string): Promise<SipReceiveFaxOutcome> => {
      if (!cancelled()) incoming.reject(status, status === 488 ? 'Not Acceptable Here' : undefined);
      const failed = await receiveFax(
        params,
        { ...callContext, media: failedMedia(ResultCode.CALL_DROPPED, detail) },
        options,
      );
      const outcome = { ...failed, ...none, sip: { callId: incoming.callId, status } };
      this.#count(outcome, null);
      this.#end(handle);
      return outcome;
    };
    if (cancelled()) return refuse(487, 'the caller cancelled the call before it was answered');

    let remote: RemoteMedia | null = null;
    if (incoming.offer !== null) {
      try {
        remote = parseRemote(incoming.offer, policy === 'off' ? 'audio-only' : 't38-ok');
      } catch (error) {
        return refuse(488, `the offer has no media we take: ${errorText(error)}`);
      }
    }
    const startT38 = remote?.kind === 'image';
    let media: CallMedia;
    try {
      media = await CallMedia.open(this.#ports!, {
        address: this.#address,
        ...(!startT38 && { audio: remote?.codec ?? 'pcmu' }),
        t38: policy !== 'off',
        t38Params: t38ParamsOf(this.#t38),
        ...(this.options.silenceTimeoutMs !== undefined && { silenceTimeoutMs: this.options.silenceTimeoutMs }),
      });
    } catch (error) {
      return refuse(503, `no media port: ${errorText(error)}`);
    }
    const fax = new FaxCall('callee', media, this.#callSettings(policy));
    this.#active.delete(handle);
    this.#active.add(fax);
    let outcome: SipReceiveFaxOutcome | null = null;
    try {
      const answer = remote
        ? answerFor(remote, media.next(), startT38 ? 't38-ok' : 'audio-only')
        : audioOffer(media.next(), ['pcmu', 'pcma']);
      if (answer === null) {
        fax.status = 488;
        incoming.reject(488, 'Not Acceptable Here');
        const failed = await receiveFax(
          params,
          { ...callContext, media: failedMedia(ResultCode.CALL_DROPPED, 'the offer has no media we take (SIP 488)') },
          options,
        );
        outcome = { ...failed, ...fax.info() };
        return outcome;
      }
      if (remote) fax.useRemote(remote);
      if (!(await this.#ring(incoming, cancelled))) {
        fax.status = 487;
        const failed = await receiveFax(
          params,
          {
            ...callContext,
            media: failedMedia(
              ResultCode.CALL_DROPPED,
              'the caller cancelled the call before it was answered (SIP 487)',
            ),
          },
          options,
        );
        outcome = { ...failed, ...fax.info() };
        return outcome;
      }
      let call: SipCall;
      try {
        call = await incoming.accept(answer);
      } catch (error) {
        fax.status = 200;
        const failed = await receiveFax(
          params,
          {
            ...callContext,
            media: failedMedia(ResultCode.CALL_DROPPED, `the call did not complete: ${errorText(error)}`),
          },
          options,
        );
        outcome = { ...failed, ...fax.info() };
        return outcome;
      }
      fax.status = 200;
      fax.attach(call);
      let t38: T38Options | null = null;
      if (remote?.kind === 'image' && remote.t38) t38 = sessionT38(this.#t38, remote.t38);
      if (!remote) {
        // The offer came in our 200; the answer in the ACK.
        const started = await this.#answered(fax, call.remoteSdp, policy === 'only' ? 'prefer' : policy);
        if (!started.ok) {
          const failed = await receiveFax(
            params,
            { ...callContext, media: failedMedia(ResultCode.CALL_DROPPED, started.detail) },
            options,
          );
          outcome = { ...failed, ...fax.info() };
          return outcome;
        }
        t38 = started.t38;
      }
      const received = await receiveFax(params, { ...callContext, media: fax.faxMedia(t38) }, options);
      outcome = { ...received, ...fax.info() };
      return outcome;
    } finally {
      await fax.finish(outcome?.result.success ?? false, this.#log);
      this.#end(fax);
      if (outcome) this.#count(outcome, fax);
    }
  }

  /**
   * Rings an inbound call for `answerDelayMs` (180 Ringing first); false when the caller
   * cancelled meanwhile (the user agent has answered the INVITE 487).
   */
  async #ring(incoming: IncomingCall, cancelled: () => boolean): Promise<boolean> {
    const delayMs = this.options.answerDelayMs ?? 0;
    if (delayMs <= 0 || cancelled()) return !cancelled();
    incoming.progress(180);
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, delayMs);
      function done(): void {
        clearTimeout(timer);
        incoming.off('cancelled', done);
        resolve();
      }
      incoming.once('cancelled', done);
    });
    return !cancelled();
  }

  /** The far end's SDP answer (or ACK) read into the lines: which medium the fax starts on. */
  async #answered(
    fax: FaxCall,
    sdp: string,
    policy: T38Policy,
  ): Promise<{ ok: true; t38: T38Options | null } | { ok: false; detail: string }> {
    let remote: RemoteMedia;
    try {
      remote = parseRemote(sdp, policy === 'off' ? 'audio-only' : 't38-ok');
    } catch (error) {
      return { ok: false, detail: `the far end's SDP answer cannot be used: ${errorText(error)}` };
    }
    if (remote.kind === 'image') {
      if (!fax.media.udptl || !remote.t38) return { ok: false, detail: 'the far end answered T.38 we did not offer' };
      fax.useRemote(remote);
      return { ok: true, t38: sessionT38(this.#t38, remote.t38) };
    }
    if (policy === 'only' || !fax.media.rtp)
      return { ok: false, detail: "the far end answered a T.38 offer with audio and t38 is 'only'" };
    try {
      await fax.media.setCodec(remote.codec ?? 'pcmu');
    } catch (error) {
      return { ok: false, detail: `the RTP line could not move to ${String(remote.codec)}: ${errorText(error)}` };
    }
    fax.useRemote(remote);
    return { ok: true, t38: null };
  }

  #callSettings(policy: T38Policy): CallSettings {
    const o = this.options;
    return {
      policy,
      t38: this.#t38,
      t38AnswerTimeoutMs: o.t38AnswerTimeoutMs ?? DEFAULT_T38_ANSWER_TIMEOUT_MS,
      readyTimeoutMs: o.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS,
      ...(o.timeLimitMs !== undefined && { timeLimitMs: o.timeLimitMs }),
      log: this.#log,
    };
  }

  #onCall(incoming: IncomingCall): void {
    this.#stats.callsIn++;
    if (this.#active.size >= this.#maxCalls) {
      incoming.reject(503, 'Service Unavailable');
      this.#log(`call ${incoming.callId} refused: ${this.#maxCalls} calls in flight (maxCalls)`);
      return;
    }
    const handle = new SipIncomingFax(incoming, {
      receive: (i, h, request, cancelled) => this.#receiveCall(i, h, request, cancelled),
      rejected: (h) => this.#end(h),
      log: this.#log,
    });
    this.#active.add(handle);
    if (this.listenerCount('call') === 0) {
      void handle.receiveFax(this.options.storeDir !== undefined ? { storeDir: this.options.storeDir } : {}).then(
        (outcome) =>
          this.#log(
            `call ${incoming.callId} from ${handle.from}: ${outcome.variables.receive_fax_result} ` +
              `(${outcome.result.code} ${outcome.result.text}) ${outcome.document}`,
          ),
        (error: unknown) => this.#log(`call ${incoming.callId}: ${errorText(error)}`),
      );
      return;
    }
    try {
      this.emit('call', handle);
    } catch (error) {
      this.#log(`call listener threw: ${errorText(error)}`);
      handle.reject(500, 'Server Internal Error');
    }
  }

  #end(call: FaxCall | SipIncomingFax): void {
    this.#active.delete(call);
    if (this.#active.size === 0) for (const wake of [...this.#idle]) wake();
  }

  #count<T extends (SendFaxOutcome | ReceiveFaxOutcome) & SipFaxInfo>(outcome: T, fax: FaxCall | null): T {
    if (outcome.result.success) this.#stats.faxesOk++;
    else this.#stats.faxesFailed++;
    if (fax?.session) {
      if (outcome.transport === 't38') this.#stats.t38++;
      else this.#stats.g711++;
    }
    if (outcome.fellBack) this.#stats.fallbacks++;
    return outcome;
  }

  #started(): SipUserAgent {
    if (this.#closed) throw new CapacityError('draining', 'The SIP endpoint is closed');
    if (!this.#ua) throw new InvalidOptionError('The SIP endpoint is not started: await endpoint.start() first');
    return this.#ua;
  }
}
