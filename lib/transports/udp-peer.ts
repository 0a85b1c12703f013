/**
 * The UDP plumbing every datagram medium of a call needs (RTP/G.711, T.38 UDPTL): one IPv4
 * socket bound to a local endpoint and one far end, given or latched from the first valid
 * datagram and optionally followed as it moves (symmetric, for NAT). Datagrams from anyone
 * else are foreign and dropped. What is sent goes through the line simulator, if any, and is
 * copied into a fixed pool of send buffers, since a UDP send completes after the call returns.
 * Nothing valid for too long ends the line with 'silence'; a socket error ends it with 'error'.
 * The medium (RtpLine, UdptlLine) owns what it makes of a datagram; this owns only the socket.
 */
import * as dgram from 'node:dgram';
import { isIPv4 } from 'node:net';
import { InvalidOptionError } from '../base/errors';
import type { PacketImpairment } from './impairments';
import type { LineEnd } from './line';

/** Send buffers in the pool: datagrams in flight or held back by the impairment at once. */
const SEND_POOL_SIZE = 64;
/** Bound on close()'s wait for sends still in flight. */
const CLOSE_DRAIN_MS = 250;
/** Most copies of one datagram the impairment may ask for. */
const MAX_DELIVERIES = 8;
/** Most datagrams one prime() sends. */
export const MAX_PRIME = 16;

/** A UDP endpoint. */
export interface UdpEndpoint {
  /** IPv4 address (the remote one literally, as SDP's c= line gives it). */
  host: string;
  /** UDP port. */
  port: number;
}

/** The options of a UdpPeer its medium takes from its caller as they are. */
export interface UdpPeerOptions {
  /** Where to bind (default 0.0.0.0, any free port). */
  local?: UdpEndpoint;
  /** Where to send. Omitted: the source of the first valid datagram is latched (and ready() waits for it). */
  remote?: UdpEndpoint;
  /** Send to where the latest valid datagram came from (for NAT). Default false: other sources are foreign. */
  symmetric?: boolean;
  /** After the first valid datagram, nothing for this long ends the line with 'silence' (default 10 000 ms). */
  silenceTimeoutMs?: number;
}

/** What the medium tells its UdpPeer about itself. */
export interface UdpPeerMedium {
  /** The medium's name in messages: 'RTP', 'UDPTL'. */
  label: string;
  /** Makes the medium's own error (with its stable code) for a failed socket or an early close. */
  error: (message: string, options?: { cause?: unknown }) => Error;
  /** The size of each send buffer: the longest datagram the medium sends. Longer ones are not sent. */
  sendBufferBytes: number;
  /** The line simulator, already checked by the medium; only its `deliveries` is used here. */
  impairment: PacketImpairment | null;
  /**
   * Whether our own sends keep the line alive too: T.38 is one-way while a page goes, so only
   * silence both ways means the far end is gone. Audio flows both ways all the time.
   */
  sendsKeepAlive: boolean;
  /**
   * Takes a datagram from the far end (or, symmetric, a new source) at the peer's clock time
   * `nowMs`; returns whether it is valid for the medium. Only a valid one latches its source
   * and keeps the line alive. Must not throw: malformed input is the medium's to count.
   */
  receive: (datagram: Buffer, nowMs: number) => boolean;
}

/** The peer's own counters; each medium reports them under its own stats keys. */
export interface UdpPeerCounts {
  /** Datagrams handed to the socket. */
  sent: number;
  /** Datagrams from a source other than the far end, dropped. */
  foreign: number;
  /** Times a symmetric line moved to a new source. */
  relatched: number;
  /** Sends the socket reported failed. */
  sendErrors: number;
  /** Datagrams not sent: no far end known yet, or every send buffer busy. */
  sendDropped: number;
  /** Datagrams not sent for being longer than the send buffers. */
  sendOversize: number;
  /** Datagrams the line simulator dropped. */
  impairedLost: number;
}

/**
 * Checks one endpoint option: an IPv4 address and a port (0, any free port, allowed only for
 * the local end). Throws InvalidOptionError naming `name`.
 */
export function checkUdpEndpoint(name: string, value: unknown, remote: boolean): UdpEndpoint {
  const ep = value as UdpEndpoint;
  if (typeof ep !== 'object' || ep === null || typeof ep.host !== 'string' || !isIPv4(ep.host))
    throw new InvalidOptionError(`Expected an IPv4 address for ${name}.host but got ${String(ep?.host)}`);
  const min = remote ? 1 : 0;
  if (!Number.isInteger(ep.port) || ep.port < min || ep.port > 65535)
    throw new InvalidOptionError(`Expected an integer in [${min}, 65535] for ${name}.port but got ${String(ep.port)}`);
  return { host: ep.host, port: ep.port };
}

/** The peer options checked and with their defaults, before any socket exists. */
export interface UdpPeerSettings {
  /** Where to bind. */
  local: UdpEndpoint;
  /** The far end, or null to latch it. */
  remote: UdpEndpoint | null;
  /** Follow the far end as it moves. */
  symmetric: boolean;
  /** The silence that ends the line, ms. */
  silenceMs: number;
}

/**
 * Checks the peer's options (throws InvalidOptionError), so that a medium can check all of its
 * options before it opens a socket.
 */
export function checkUdpPeerOptions(options: UdpPeerOptions): UdpPeerSettings {
  const local =
    options.local === undefined ? { host: '0.0.0.0', port: 0 } : checkUdpEndpoint('local', options.local, false);
  const remote = options.remote === undefined ? null : checkUdpEndpoint('remote', options.remote, true);
  const symmetric = options.symmetric ?? false;
  if (typeof symmetric !== 'boolean') throw new InvalidOptionError('Expected a boolean for symmetric');
  const silenceMs = options.silenceTimeoutMs ?? 10_000;
  if (typeof silenceMs !== 'number' || !(silenceMs > 0) || !Number.isFinite(silenceMs))
    throw new InvalidOptionError(`Expected a positive number of ms for silenceTimeoutMs but got ${String(silenceMs)}`);
  return { local, remote, symmetric, silenceMs };
}

interface SendSlot {
  buf: Buffer;
  length: number;
  busy: boolean;
  dueMs: number;
  done: (error: Error | null) => void;
}

/** One call's UDP socket and far end, used by a datagram medium (see the file comment). */
export class UdpPeer {
  readonly #medium: UdpPeerMedium;
  readonly #socket: dgram.Socket;
  readonly #start = performance.now();
  readonly #symmetric: boolean;
  readonly #silenceMs: number;
  readonly #deliveries: number[] = new Array<number>(MAX_DELIVERIES).fill(0);
  readonly #pool: SendSlot[] = [];
  // Slots held back by the impairment, in due-time order.
  readonly #delayed: SendSlot[] = [];
  readonly #ready: Promise<void>;
  #resolveReady!: () => void;
  #rejectReady!: (error: Error) => void;
  #isReady = false;
  readonly #bound: Promise<UdpEndpoint>;
  #local: UdpEndpoint | null = null;
  #peer: UdpEndpoint | null;
  #ended: LineEnd | null = null;
  #closed = false;
  #closing: Promise<void> | null = null;
  #lastValidMs: number | null = null;
  /** When we last sent, on the same clock (counts only when the medium's sends keep it alive). */
  #lastSentMs = 0;
  #silenceTimer: NodeJS.Timeout | null = null;
  #inFlight = 0;
  readonly #counts: UdpPeerCounts = {
    sent: 0,
    foreign: 0,
    relatched: 0,
    sendErrors: 0,
    sendDropped: 0,
    sendOversize: 0,
    impairedLost: 0,
  };

  /** Binds at once; `settings` come from checkUdpPeerOptions. */
  constructor(settings: UdpPeerSettings, medium: UdpPeerMedium) {
    this.#medium = medium;
    this.#peer = settings.remote;
    this.#symmetric = settings.symmetric;
    this.#silenceMs = settings.silenceMs;
    for (let i = 0; i < SEND_POOL_SIZE; i++) {
      const slot: SendSlot = {
        buf: Buffer.alloc(medium.sendBufferBytes),
        length: 0,
        busy: false,
        dueMs: 0,
        done: (error) => {
          slot.busy = false;
          this.#inFlight--;
          if (error) this.#counts.sendErrors++;
        },
      };
      this.#pool.push(slot);
    }

    this.#ready = new Promise<void>((resolve, reject) => {
      this.#resolveReady = resolve;
      this.#rejectReady = reject;
    });
    // A rejection nobody awaited must not crash the process; ready() hands out the same promise.
    this.#ready.catch(() => undefined);
    let resolveBound!: (local: UdpEndpoint) => void;
    this.#bound = new Promise<UdpEndpoint>((resolve, reject) => {
      resolveBound = resolve;
      this.#ready.catch(reject);
    });
    this.#bound.catch(() => undefined);

    const label = medium.label;
    this.#socket = dgram.createSocket({ type: 'udp4' });
    this.#socket.on('message', (msg, rinfo) => this.#onMessage(msg, rinfo));
    this.#socket.on('error', (error) => {
      this.#end({ reason: 'error', detail: `${label} socket error: ${error.message}` });
      this.#failReady(medium.error(`The ${label} socket failed: ${error.message}`, { cause: error }));
    });
    this.#socket.bind(settings.local.port, settings.local.host, () => {
      const address = this.#socket.address();
      this.#local = { host: address.address, port: address.port };
      resolveBound({ ...this.#local });
      if (this.#peer) this.#setReady();
    });
    this.#silenceTimer = setInterval(() => this.checkSilence(), Math.min(500, Math.max(10, this.#silenceMs / 4)));
    this.#silenceTimer.unref();
  }

  /** Where the socket is bound, once it is. */
  get localAddress(): UdpEndpoint | null {
    return this.#local ? { ...this.#local } : null;
  }

  /** Where we send: the remote given, or the latched source. */
  get remoteAddress(): UdpEndpoint | null {
    return this.#peer ? { ...this.#peer } : null;
  }

  /** Whether the far end is known (without copying it, for the per-tick path). */
  get hasRemote(): boolean {
    return this.#peer !== null;
  }

  /** The bound address as "host:port", or null before binding (for stats). */
  get localText(): string | null {
    return this.#local ? `${this.#local.host}:${this.#local.port}` : null;
  }

  /** The far end as "host:port", or null while unknown (for stats). */
  get remoteText(): string | null {
    return this.#peer ? `${this.#peer.host}:${this.#peer.port}` : null;
  }

  /** Set once the line ended on its own side (silence, socket error). */
  get ended(): LineEnd | null {
    return this.#ended;
  }

  /** True from the start of close(). */
  get closed(): boolean {
    return this.#closed;
  }

  /** The peer's counters so far (a live view; copy to keep). */
  get counts(): Readonly<UdpPeerCounts> {
    return this.#counts;
  }

  /** Resolves with the bound address once bound; rejects like ready() when the socket fails first. */
  bound(): Promise<UdpEndpoint> {
    return this.#bound;
  }

  /**
   * Resolves when the socket is bound and the far end known (given, or latched from the first
   * valid datagram). Rejects with the medium's error when the socket fails or the line closes first.
   */
  ready(): Promise<void> {
    return this.#ready;
  }

  /** The peer's own monotonic clock, ms since it was made: the time base of `receive`. */
  now(): number {
    return performance.now() - this.#start;
  }

  /**
   * Sets the far end learnt from signalling after the line was bound (an SDP answer): sends go
   * there from now on, and ready() resolves once bound. A symmetric line still moves to where
   * valid datagrams come from, so a far end behind NAT is followed as before.
   */
  setRemote(remote: UdpEndpoint): void {
    const checked = checkUdpEndpoint('remote', remote, true);
    if (this.#closed) return;
    this.#peer = checked;
    if (this.#local) this.#setReady();
  }

  /**
   * Sends `count` (at most MAX_PRIME) empty datagrams to the far end at once, to open the path
   * through our NAT before the far end's media arrives. Empty: no RTP or UDPTL receiver takes one
   * as media (each drops it as malformed), so the far end's stream and sequence are untouched.
   * Returns how many were handed to the socket (none while the far end is unknown).
   */
  prime(count: number): number {
    if (!Number.isInteger(count) || count < 0 || count > MAX_PRIME)
      throw new InvalidOptionError(`Expected an integer in [0, ${MAX_PRIME}] for count but got ${String(count)}`);
    if (this.#closed || !this.#peer) return 0;
    let sent = 0;
    for (let i = 0; i < count; i++) {
      const slot = this.#freeSlot();
      if (!slot) break;
      slot.length = 0;
      this.#transmit(slot);
      sent++;
    }
    return sent;
  }

  /** Sends what the impairment held back until line time `nowMs`. */
  flush(nowMs: number): void {
    let n = 0;
    while (n < this.#delayed.length && this.#delayed[n].dueMs <= nowMs) n++;
    if (n === 0) return;
    const due = this.#delayed.splice(0, n);
    for (const slot of due) this.#transmit(slot);
  }

  /**
   * Sends one datagram at line time `nowMs`, through the impairment if any; `datagram` is
   * copied. Never throws: what cannot be sent is counted.
   */
  send(datagram: Uint8Array, nowMs: number): void {
    if (this.#closed) return;
    this.flush(nowMs);
    if (!this.#peer) {
      this.#counts.sendDropped++;
      return;
    }
    if (datagram.length > this.#medium.sendBufferBytes) {
      this.#counts.sendOversize++;
      return;
    }
    if (this.#medium.sendsKeepAlive) this.#lastSentMs = this.now();
    const impairment = this.#medium.impairment;
    if (!impairment) {
      this.#sendNow(datagram);
      return;
    }
    const out = this.#deliveries;
    const n = Math.min(impairment.deliveries(nowMs, out), MAX_DELIVERIES);
    if (n <= 0) this.#counts.impairedLost++;
    for (let i = 0; i < n; i++) {
      const due = out[i];
      if (!(due > nowMs)) this.#sendNow(datagram);
      else this.#hold(datagram, due);
    }
  }

  /** Ends the line with 'silence' when nothing valid came (or, if sends count, went) for too long. */
  checkSilence(): void {
    if (this.#ended || this.#closed || this.#lastValidMs === null) return;
    if (this.now() - Math.max(this.#lastValidMs, this.#lastSentMs) < this.#silenceMs) return;
    const from = this.#peer ? `${this.#peer.host}:${this.#peer.port}` : 'the peer';
    const way = this.#medium.sendsKeepAlive ? 'to or from' : 'from';
    this.#end({ reason: 'silence', detail: `no ${this.#medium.label} ${way} ${from} for ${this.#silenceMs / 1000} s` });
  }

  /** Sends what the impairment still holds, waits briefly for sends in flight, closes the socket. Idempotent. */
  close(): Promise<void> {
    if (this.#closing) return this.#closing;
    this.#closing = (async () => {
      this.flush(Infinity);
      this.#closed = true;
      if (this.#silenceTimer) clearInterval(this.#silenceTimer);
      this.#failReady(this.#medium.error(`The ${this.#medium.label} line was closed before it was ready`));
      const until = performance.now() + CLOSE_DRAIN_MS;
      while (this.#inFlight > 0 && performance.now() < until) await new Promise((resolve) => setTimeout(resolve, 5));
      await new Promise<void>((resolve) => {
        try {
          this.#socket.close(() => resolve());
        } catch {
          resolve(); // already closed by an error
        }
      });
    })();
    return this.#closing;
  }

  #onMessage(msg: Buffer, rinfo: dgram.RemoteInfo): void {
    if (this.#closed) return;
    const now = this.now();
    const peer = this.#peer;
    const fromPeer = peer !== null && peer.host === rinfo.address && peer.port === rinfo.port;
    if (peer !== null && !fromPeer && !this.#symmetric) {
      this.#counts.foreign++;
      return;
    }
    if (!this.#medium.receive(msg, now)) return;
    this.#lastValidMs = now;
    if (!fromPeer) {
      if (peer !== null) this.#counts.relatched++;
      this.#peer = { host: rinfo.address, port: rinfo.port };
    }
    if (this.#local) this.#setReady();
  }

  #end(end: LineEnd): void {
    if (this.#ended === null) this.#ended = end;
  }

  #setReady(): void {
    if (this.#isReady) return;
    this.#isReady = true;
    this.#resolveReady();
  }

  #failReady(error: Error): void {
    if (this.#isReady) return;
    this.#isReady = true;
    this.#rejectReady(error);
  }

  #freeSlot(): SendSlot | null {
    for (const slot of this.#pool) if (!slot.busy) return slot;
    this.#counts.sendDropped++;
    return null;
  }

  #sendNow(datagram: Uint8Array): void {
    const slot = this.#freeSlot();
    if (!slot) return;
    slot.buf.set(datagram);
    slot.length = datagram.length;
    this.#transmit(slot);
  }

  #transmit(slot: SendSlot): void {
    const peer = this.#peer;
    if (!peer || this.#ended?.reason === 'error') {
      slot.busy = false;
      return;
    }
    slot.busy = true;
    this.#inFlight++;
    this.#counts.sent++;
    try {
      this.#socket.send(slot.buf, 0, slot.length, peer.port, peer.host, slot.done);
    } catch (error) {
      // A socket that is not running throws synchronously; count it, never throw from a send.
      slot.done(error as Error);
      this.#counts.sent--;
    }
  }

  #hold(datagram: Uint8Array, dueMs: number): void {
    const slot = this.#freeSlot();
    if (!slot) return;
    slot.buf.set(datagram);
    slot.length = datagram.length;
    slot.busy = true;
    slot.dueMs = dueMs;
    // Insert in due order; the queue is at most the pool's size.
    let i = this.#delayed.length;
    while (i > 0 && this.#delayed[i - 1].dueMs > dueMs) i--;
    this.#delayed.splice(i, 0, slot);
  }
}
