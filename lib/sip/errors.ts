/**
 * The SIP stack's error classes, one block per layer (each layer's owner appends its own block below).
 * All extend FaxlineError so callers can catch faxline errors in one place and switch on `code`.
 */
import { FaxlineError } from '../base/errors';

// ---- wire: message parser and transport ----

/** Why a SIP message could not be parsed; stable strings for stats, logs and the 400 reason phrase. */
export type SipParseReason =
  | 'message-too-large'
  | 'too-many-headers'
  | 'header-too-long'
  | 'bad-start-line'
  | 'bad-header'
  | 'truncated'
  | 'bad-content-length'
  | 'missing-header'
  | 'bad-via'
  | 'bad-cseq'
  | 'bad-uri'
  | 'bad-name-addr';

/**
 * A SIP message (or a URI, Via, CSeq, name-addr inside one) broke RFC 3261's grammar or one of our bounds.
 * When the start line and some headers could still be read, `partial` holds them (without a body), so the
 * transport can answer a malformed request with 400 (RFC 3261 §8.2.2.3 / §16.3 spirit).
 */
export class SipParseError extends FaxlineError {
  /** What was wrong, e.g. 'bad-content-length'. */
  readonly reason: SipParseReason;
  /** The start line and the well-formed headers, when they could be read; otherwise undefined. */
  readonly partial?: import('./message').SipMessage;
  constructor(
    reason: SipParseReason,
    message: string,
    options?: { partial?: import('./message').SipMessage; cause?: unknown },
  ) {
    super('ERR_FAXLINE_SIP_PARSE', message, options);
    this.reason = reason;
    if (options?.partial) this.partial = options.partial;
  }
}

/** A SIP transport could not bind, connect, or send (a bound reached, a socket error, closed). */
export class SipTransportError extends FaxlineError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_FAXLINE_SIP_TRANSPORT', message, options);
  }
}

// ---- transactions ----

/** Which bound ran out: an RFC 3261 timer (B, F, H), the wait after a CANCEL, or one of our own limits. */
export type SipTimeoutTimer = 'B' | 'F' | 'H' | 'cancel' | 'proceeding' | 'unanswered';

/**
 * A SIP transaction ended without the answer it waited for: no response within 64*T1 (Timer B or F),
 * no ACK for a final response (Timer H), no final response within 64*T1 of a CANCEL (§9.1), or a
 * request left unanswered past the layer's own bound. `timer` names which.
 */
export class SipTimeoutError extends FaxlineError {
  /** The bound that ran out, e.g. 'B'. */
  readonly timer: SipTimeoutTimer;
  /** The method of the transaction's request, e.g. 'INVITE'. */
  readonly method: string;
  constructor(timer: SipTimeoutTimer, method: string, message: string) {
    super('ERR_FAXLINE_SIP_TIMEOUT', message);
    this.timer = timer;
    this.method = method;
  }
}

// ---- SDP offer/answer (fax-sdp.ts) ----

/** Why an SDP was not taken: each names the rule or the bound that refused it. */
export type SipSdpReason = 'malformed' | 'too-large' | 'too-many-media' | 'no-usable-media' | 'no-common-codec';

/**
 * A far end's SDP that we cannot use: not SDP, over a bound, or no stream we can carry a fax on.
 * The UA answers an offer that throws this with 488 Not Acceptable Here.
 */
export class SipSdpError extends FaxlineError {
  /** Which rule refused the SDP. */
  readonly reason: SipSdpReason;
  constructor(reason: SipSdpReason, message: string) {
    super('ERR_FAXLINE_SIP_SDP', message);
    this.reason = reason;
  }
}

// ---- calls: dialogs and the INVITE session (user-agent.ts) ----

/**
 * A call could not be placed or a request inside it failed: the far end (or a proxy) answered with a final
 * status of 300 or more, the call was cancelled (487), or one of the user agent's own bounds ended it
 * (then `status` is the status we acted as if we had received, e.g. 408, and `reason` names the bound).
 */
export class SipCallError extends FaxlineError {
  /** The SIP status, e.g. 486. */
  readonly status: number;
  /** The reason phrase from the response, or the bound that ended the wait. */
  readonly reason: string;
  constructor(status: number, reason: string, message?: string) {
    super('ERR_FAXLINE_SIP_CALL', message ?? `SIP call failed: ${status} ${reason}`);
    this.status = status;
    this.reason = reason;
  }
}
