/**
 * A SIP dialog's state and the requests sent inside it (RFC 3261 §12). Pure: no sockets, no timers.
 * The UA core creates one from the INVITE and its response, asks it to build each in-dialog request
 * and to check the CSeq of each one that arrives.
 */
import {
  formatNameAddr,
  formatUri,
  getHeader,
  getHeaders,
  parseCSeq,
  parseNameAddr,
  parseUri,
  type NameAddr,
  type SipHeader,
  type SipMessage,
  type SipRequest,
  type SipResponse,
  type SipUri,
} from './message';
import type { SipAddress, SipTransportKind } from './transport';

/** The largest CSeq number (RFC 3261 §8.1.1.5: below 2**31). */
export const MAX_CSEQ = 2 ** 31 - 1;

/** A dialog's identity: Call-ID, local tag and remote tag (§12), as one map key. */
export function dialogId(callId: string, localTag: string, remoteTag: string): string {
  return `${callId}\n${localTag}\n${remoteTag}`;
}

/** The tag parameter of a From or To header value, if any. */
export function tagOf(headerValue: string | undefined): string | undefined {
  if (headerValue === undefined) return undefined;
  const tag = parseNameAddr(headerValue).params.tag;
  return tag === null || tag === undefined || tag === '' ? undefined : tag;
}

/** The dialog key of a request as seen by its receiver: local tag = To tag, remote tag = From tag. */
export function incomingDialogId(request: SipRequest): string | undefined {
  const callId = getHeader(request, 'Call-ID');
  const local = tagOf(getHeader(request, 'To'));
  const remote = tagOf(getHeader(request, 'From'));
  if (callId === undefined || local === undefined || remote === undefined) return undefined;
  return dialogId(callId, local, remote);
}

/** What a dialog remembers (§12.1). `remoteSeq` is null until the peer sends its first request. */
export interface DialogState {
  callId: string;
  localTag: string;
  remoteTag: string;
  /** The local party, From of our requests, without its tag. */
  localUri: NameAddr;
  /** The remote party, To of our requests, without its tag. */
  remoteUri: NameAddr;
  localSeq: number;
  remoteSeq: number | null;
  /** Route set in the order Route headers of our requests list it. */
  routeSet: NameAddr[];
  /** The peer's Contact URI: where requests go when the route set is empty. */
  remoteTarget: SipUri;
  /** True when this side sent the INVITE that made the dialog (the Call-ID's owner, §14.1 back-off). */
  isUac: boolean;
}

/** What buildRequest adds besides the dialog's own headers. */
export interface InDialogRequestOptions {
  /** Extra headers, appended in order (Contact, Content-Type, Authorization, …). */
  headers?: SipHeader[];
  body?: Buffer;
  /** The CSeq number to use instead of the next one: ACK and CANCEL reuse the INVITE's (§13.2.2.4, §9.1). */
  cseq?: number;
}

/** A copy of a name-addr without its tag (the dialog keeps tags apart). */
function withoutTag(a: NameAddr): NameAddr {
  const params = { ...a.params };
  delete params.tag;
  return { ...a, params };
}

function withTag(a: NameAddr, tag: string): string {
  return formatNameAddr({ ...a, params: { ...a.params, tag } });
}

function requireHeader(m: SipMessage, name: string): string {
  const v = getHeader(m, name);
  if (v === undefined) throw new Error(`missing ${name} header`);
  return v;
}

/** The first Contact's URI, or undefined when there is none (a 2xx or INVITE without one is broken). */
function contactUri(m: SipMessage): SipUri | undefined {
  const c = getHeaders(m, 'Contact')[0];
  if (c === undefined || c.trim() === '*') return undefined;
  return parseNameAddr(c).uri;
}

/** Whether a route entry is a loose router (`;lr`, §16.12). */
export function isLooseRoute(a: NameAddr): boolean {
  return Object.prototype.hasOwnProperty.call(a.uri.params, 'lr');
}

/**
 * A dialog (§12): identity, route set, remote target and the two CSeq counters, and the rules that
 * build and check requests inside it.
 */
export class Dialog {
  /** The state; read-only by convention outside this class. */
  readonly state: DialogState;

  constructor(state: DialogState) {
    this.state = state;
  }

  /**
   * The UAC's dialog from its INVITE and a response with a To tag (§12.1.2): route set from the
   * response's Record-Route reversed, remote target from its Contact, local CSeq from the request.
   */
  static fromUac(request: SipRequest, response: SipResponse): Dialog {
    const from = parseNameAddr(requireHeader(request, 'From'));
    const to = parseNameAddr(requireHeader(response, 'To'));
    const localTag = from.params.tag;
    const remoteTag = to.params.tag;
    if (!localTag || !remoteTag) throw new Error('a dialog needs both tags');
    const routeSet = getHeaders(response, 'Record-Route')
      .map((v) => parseNameAddr(v))
      .reverse();
    return new Dialog({
      callId: requireHeader(request, 'Call-ID'),
      localTag,
      remoteTag,
      localUri: withoutTag(from),
      remoteUri: withoutTag(to),
      localSeq: parseCSeq(requireHeader(request, 'CSeq')).seq,
      remoteSeq: null,
      routeSet,
      // A provisional may come without Contact; the Request-URI stands in until one arrives.
      remoteTarget: contactUri(response) ?? parseUri(request.uri),
      isUac: true,
    });
  }

  /**
   * The UAS's dialog from an INVITE (§12.1.1): route set from Record-Route as listed, remote target
   * from Contact, remote CSeq from the request, `localTag` is the tag this side puts in To.
   * `initialLocalSeq` is where our own requests start (a random value below 2**31 by default).
   */
  static fromUas(request: SipRequest, localTag: string, initialLocalSeq?: number): Dialog {
    const from = parseNameAddr(requireHeader(request, 'From'));
    const to = parseNameAddr(requireHeader(request, 'To'));
    const remoteTag = from.params.tag;
    if (!remoteTag) throw new Error('the request has no From tag');
    const target = contactUri(request);
    if (target === undefined) throw new Error('the request has no Contact');
    return new Dialog({
      callId: requireHeader(request, 'Call-ID'),
      localTag,
      remoteTag,
      localUri: withoutTag(to),
      remoteUri: withoutTag(from),
      // Kept small so that a long call's re-INVITEs and BYE never reach 2**31.
      localSeq: initialLocalSeq ?? 1 + Math.floor(Math.random() * 0x7fff),
      remoteSeq: parseCSeq(requireHeader(request, 'CSeq')).seq,
      routeSet: getHeaders(request, 'Record-Route').map((v) => parseNameAddr(v)),
      remoteTarget: target,
      isUac: false,
    });
  }

  /** This dialog's key for a map (see dialogId). */
  get id(): string {
    return dialogId(this.state.callId, this.state.localTag, this.state.remoteTag);
  }

  /** Takes the next local CSeq number (§12.2.1.1: incremented by one for each new request). */
  nextSeq(): number {
    if (this.state.localSeq >= MAX_CSEQ) throw new Error(`the dialog's CSeq reached its bound ${MAX_CSEQ}`);
    this.state.localSeq += 1;
    return this.state.localSeq;
  }

  /**
   * Builds a request inside the dialog (§12.2.1.1): To/From with tags, Call-ID, CSeq, and the
   * Request-URI and Route headers from the route set: loose first hop → Request-URI is the remote
   * target and Route lists the whole set; strict first hop → Request-URI is that hop (without the
   * parameters a Request-URI may not carry) and Route lists the rest followed by the remote target.
   * Max-Forwards 70 is added; Via is the transaction layer's.
   */
  buildRequest(method: string, options: InDialogRequestOptions = {}): SipRequest {
    const s = this.state;
    const seq = options.cseq ?? this.nextSeq();
    let uri: string;
    const routes: string[] = [];
    if (s.routeSet.length === 0) {
      uri = formatUri(s.remoteTarget);
    } else if (isLooseRoute(s.routeSet[0])) {
      uri = formatUri(s.remoteTarget);
      for (const r of s.routeSet) routes.push(formatNameAddr(r));
    } else {
      const first = s.routeSet[0].uri;
      const params = { ...first.params };
      delete params.method;
      uri = formatUri({ ...first, params, headers: {} });
      for (const r of s.routeSet.slice(1)) routes.push(formatNameAddr(r));
      routes.push(formatNameAddr({ uri: s.remoteTarget, params: {} }));
    }
    const headers: SipHeader[] = [
      ...routes.map((value) => ({ name: 'Route', value })),
      { name: 'Max-Forwards', value: '70' },
      { name: 'From', value: withTag(s.localUri, s.localTag) },
      { name: 'To', value: withTag(s.remoteUri, s.remoteTag) },
      { name: 'Call-ID', value: s.callId },
      { name: 'CSeq', value: `${seq} ${method}` },
      ...(options.headers ?? []),
    ];
    return { type: 'request', method, uri, headers, body: options.body ?? Buffer.alloc(0) };
  }

  /**
   * The URI of the next hop for an in-dialog request (§8.1.2 with §12.2.1.1): the route set's first
   * entry, else the remote target.
   */
  nextHopUri(): SipUri {
    return this.state.routeSet.length > 0 ? this.state.routeSet[0].uri : this.state.remoteTarget;
  }

  /**
   * Checks an arriving in-dialog request's CSeq (§12.2.2) and records it: 'ok', or 'out-of-order'
   * when it is lower than the last one seen (the caller answers 500). ACK and CANCEL carry the
   * INVITE's number and are not checked.
   */
  checkRemoteSeq(request: SipRequest): 'ok' | 'out-of-order' {
    if (request.method === 'ACK' || request.method === 'CANCEL') return 'ok';
    const seq = parseCSeq(requireHeader(request, 'CSeq')).seq;
    if (this.state.remoteSeq !== null && seq < this.state.remoteSeq) return 'out-of-order';
    this.state.remoteSeq = seq;
    return 'ok';
  }

  /**
   * A target refresh (§12.2: re-INVITE or UPDATE, or their 2xx) replaces the remote target with the
   * message's Contact; a message without one leaves it.
   */
  refreshTarget(m: SipMessage): void {
    const target = contactUri(m);
    if (target !== undefined) this.state.remoteTarget = target;
  }
}

/**
 * Where a URI says to send (§18 without DNS SRV/NAPTR): its host and port (5060 by default) and its
 * transport parameter (or `fallback`). A host name is returned as is; the caller resolves it.
 */
export function uriAddress(uri: SipUri, fallback: SipTransportKind = 'udp'): SipAddress {
  const t = uri.params.transport;
  const transport: SipTransportKind =
    typeof t === 'string' && t.toLowerCase() === 'tcp' ? 'tcp' : typeof t === 'string' ? 'udp' : fallback;
  let host = uri.host;
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
  return { transport, host, port: uri.port ?? 5060 };
}
