/**
 * One call's T.38 as UDPTL datagrams over UDP (IPv4): a DatagramLine. The line carries
 * datagrams and nothing more: UDPTL framing, sequence numbers and recovery belong to the
 * session (native/engine/udptl.h), which also counts malformed datagrams. The socket, the far
 * end (given, latched, symmetric), the send buffers and the silence watch are the UdpPeer's
 * (../udp-peer.ts), shared with RtpLine; this line adds the bounded queue datagrams wait in
 * until the terminal polls on its 20 ms tick, and the datagram size bound.
 */
import { checkObject } from '../../base/checks';
import { FaxlineError, InvalidOptionError } from '../../base/errors';
import type { PacketImpairment } from '../impairments';
import type { DatagramLine, LineEnd } from '../line';
import { checkUdpPeerOptions, UdpPeer, type UdpEndpoint } from '../udp-peer';

/** A UDP endpoint. */
export type UdptlEndpoint = UdpEndpoint;

/** Options of UdptlLine. */
export interface UdptlLineOptions {
  /** Where to bind (default 0.0.0.0, any free port). */
  local?: UdptlEndpoint;
  /** Where to send. Omitted: the source of the first datagram is latched (and ready() waits for it). */
  remote?: UdptlEndpoint;
  /** Send to where the latest datagram came from (for NAT). Default false: other sources are foreign. */
  symmetric?: boolean;
  /**
   * After the first datagram, no datagram either way for this long ends the line with 'silence'
   * (default 10 000 ms). Only both ways: while a page goes, T.38 is one-way for a minute or more.
   */
  silenceTimeoutMs?: number;
  /** The line simulator, applied to what we send (its delivery times are line times). */
  impairment?: PacketImpairment;
  /**
   * The largest datagram received or sent, octets (default 1500, one Ethernet MTU's worth, the
   * UDPTL codec's own bound). Longer ones received are counted 'oversize' and dropped; longer
   * ones to send are counted 'sendOversize' and not sent.
   */
  maxDatagramBytes?: number;
}

/**
 * The line's statistics (`stats.line` of a T.38 call); the UDPTL recovery figures come from the
 * session. A type alias, not an interface, so that it is a LineStats.
 */
export type UdptlLineStats = {
  kind: 'udptl';
  /** The bound address, "host:port", once bound. */
  local: string | null;
  /** Where we send, "host:port", once known. */
  remote: string | null;
  /** Datagrams handed to the socket. */
  sent: number;
  /** Datagrams queued for the terminal. */
  received: number;
  /** Datagrams from a source other than the far end, dropped. */
  foreign: number;
  /** Datagrams longer than maxDatagramBytes, dropped. */
  oversize: number;
  /** Empty datagrams, dropped. */
  empty: number;
  /** Datagrams dropped because the receive queue was full. */
  overflow: number;
  /** Times a symmetric line moved to a new source. */
  relatched: number;
  /** Sends the socket reported failed. */
  sendErrors: number;
  /** Datagrams not sent: no far end known yet, or every send buffer busy. */
  sendDropped: number;
  /** Datagrams not sent for being longer than maxDatagramBytes. */
  sendOversize: number;
  /** Datagrams the line simulator dropped. */
  impairedLost: number;
};

/** The UDPTL line's socket failed before the line was ready, or the line closed first. */
export class UdptlLineError extends FaxlineError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_FAXLINE_UDPTL_LINE', message, options);
  }
}

/** Received datagrams kept until the next poll; a terminal polling every 20 ms never nears it. */
const RECEIVE_QUEUE_SIZE = 256;
const DEFAULT_MAX_DATAGRAM_BYTES = 1500;
/** The largest UDP payload over IPv4. */
const MAX_UDP_PAYLOAD = 65507;

/** A DatagramLine over UDP4, for UDPTL. */
export class UdptlLine implements DatagramLine {
  /** Always 'udptl'. */
  readonly kind = 'udptl';
  readonly #peer: UdpPeer;
  readonly #maxBytes: number;
  // Two queues swapped on each poll, so polling allocates nothing.
  #queue: Buffer[] = [];
  #spare: Buffer[] = [];
  #counts = { received: 0, oversize: 0, empty: 0, overflow: 0 };

  constructor(options: UdptlLineOptions = {}) {
    checkObject(options, 'options');
    const settings = checkUdpPeerOptions(options);
    this.#maxBytes = options.maxDatagramBytes ?? DEFAULT_MAX_DATAGRAM_BYTES;
    if (!Number.isInteger(this.#maxBytes) || this.#maxBytes < 1 || this.#maxBytes > MAX_UDP_PAYLOAD)
      throw new InvalidOptionError(
        `Expected an integer in [1, ${MAX_UDP_PAYLOAD}] for maxDatagramBytes but got ${String(this.#maxBytes)}`,
      );
    const impairment = options.impairment ?? null;
    if (impairment !== null && typeof impairment.deliveries !== 'function')
      throw new InvalidOptionError('Expected a PacketImpairment (with deliveries) for impairment');
    this.#peer = new UdpPeer(settings, {
      label: 'UDPTL',
      error: (message, errorOptions) => new UdptlLineError(message, errorOptions),
      sendBufferBytes: this.#maxBytes,
      impairment,
      // While a page goes T.38 is one-way for a minute or more: our own sends keep the line alive.
      sendsKeepAlive: true,
      receive: (datagram) => this.#receive(datagram),
    });
  }

  /** Where the socket is bound, once it is. */
  get localAddress(): UdptlEndpoint | null {
    return this.#peer.localAddress;
  }

  /**
   * Resolves with the bound address as soon as the socket is bound (before the far end is
   * known), e.g. for the port a host puts in its SDP. Rejects like ready() when the socket fails first.
   */
  bound(): Promise<UdptlEndpoint> {
    return this.#peer.bound();
  }

  /** Where we send: the remote given, or the latched source. */
  get remoteAddress(): UdptlEndpoint | null {
    return this.#peer.remoteAddress;
  }

  /**
   * Sets the far end learnt after binding (the SDP answer to a T.38 re-INVITE); ready() resolves
   * once bound. With `symmetric` the line still follows where datagrams come from.
   */
  setRemote(remote: UdptlEndpoint): void {
    this.#peer.setRemote(remote);
  }

  /**
   * Sends `count` empty datagrams to the far end now, opening the NAT path before T.38 flows
   * (a UDPTL receiver drops an empty datagram). Returns how many went.
   */
  prime(count: number): number {
    return this.#peer.prime(count);
  }

  /** @inheritdoc */
  get ended(): LineEnd | null {
    return this.#peer.ended;
  }

  /**
   * Resolves when the socket is bound and, without a `remote`, the first datagram came.
   * Rejects with UdptlLineError when the socket fails first or the line is closed first.
   */
  ready(): Promise<void> {
    return this.#peer.ready();
  }

  /**
   * Hands every datagram queued since the last poll to `deliver`, oldest first; each is valid
   * only during its call. Also sends what the impairment held back until `nowMs`.
   */
  poll(deliver: (datagram: Uint8Array) => void, nowMs: number): void {
    if (this.#peer.closed) return;
    this.#peer.flush(nowMs);
    this.#peer.checkSilence();
    if (this.#queue.length === 0) return;
    const batch = this.#queue;
    this.#queue = this.#spare;
    this.#spare = batch;
    try {
      for (const datagram of batch) deliver(datagram);
    } finally {
      batch.length = 0;
    }
  }

  /** Sends one datagram at line time `nowMs` (through the impairment, if any); never throws. */
  send(datagram: Uint8Array, nowMs: number): void {
    this.#peer.send(datagram, nowMs);
  }

  /** @inheritdoc */
  stats(): UdptlLineStats {
    const peer = this.#peer.counts;
    return {
      kind: 'udptl',
      local: this.#peer.localText,
      remote: this.#peer.remoteText,
      sent: peer.sent,
      received: this.#counts.received,
      foreign: peer.foreign,
      oversize: this.#counts.oversize,
      empty: this.#counts.empty,
      overflow: this.#counts.overflow,
      relatched: peer.relatched,
      sendErrors: peer.sendErrors,
      sendDropped: peer.sendDropped,
      sendOversize: peer.sendOversize,
      impairedLost: peer.impairedLost,
    };
  }

  /** Sends what the impairment still holds, waits briefly for sends in flight, closes the socket. Idempotent. */
  close(): Promise<void> {
    this.#queue.length = 0;
    return this.#peer.close();
  }

  /** Queues a datagram from the far end; false for one that cannot be UDPTL. */
  #receive(datagram: Buffer): boolean {
    // Neither can be UDPTL; they neither latch nor keep the line alive.
    if (datagram.length > this.#maxBytes) {
      this.#counts.oversize++;
      return false;
    }
    if (datagram.length === 0) {
      this.#counts.empty++;
      return false;
    }
    // A full queue still means the far end is there: it latches and keeps the line alive.
    if (this.#queue.length >= RECEIVE_QUEUE_SIZE) {
      this.#counts.overflow++;
      return true;
    }
    this.#counts.received++;
    // Node hands each message its own buffer: it can be queued as is.
    this.#queue.push(datagram);
    return true;
  }
}
