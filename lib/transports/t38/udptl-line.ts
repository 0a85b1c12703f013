/**
 * One call's T.38 as UDPTL datagrams over UDP (IPv4): a DatagramLine. The line carries
 * datagrams and nothing more: UDPTL framing, sequence numbers and recovery belong to the
 * session (native/engine/udptl.h), which also counts malformed datagrams. Like RtpLine, the far
 * end is given or latched from the first datagram, optionally followed as it moves (symmetric,
 * for NAT); datagrams queue (bounded) until the terminal polls on its 20 ms tick; what we send
 * is copied into a pool of send buffers, since a UDP send completes after the call returns.
 */
import * as dgram from 'node:dgram';
import { isIPv4 } from 'node:net';
import { FaxlineError, InvalidOptionError } from '../../engine/errors';
import type { PacketImpairment } from '../impairments';
import type { DatagramLine, LineEnd } from '../line';

/** A UDP endpoint. */
export interface UdptlEndpoint {
  /** IPv4 address (the remote one literally, as SDP's c= line gives it). */
  host: string;
  /** UDP port. */
  port: number;
}

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

/** Send buffers in the pool: datagrams in flight or held back by the impairment at once. */
const SEND_POOL_SIZE = 64;
/** Received datagrams kept until the next poll; a terminal polling every 20 ms never nears it. */
const RECEIVE_QUEUE_SIZE = 256;
/** Bound on close()'s wait for sends still in flight. */
const CLOSE_DRAIN_MS = 250;
/** Most copies of one datagram the impairment may ask for. */
const MAX_DELIVERIES = 8;
const DEFAULT_MAX_DATAGRAM_BYTES = 1500;
/** The largest UDP payload over IPv4. */
const MAX_UDP_PAYLOAD = 65507;

function checkEndpoint(name: string, value: unknown, remote: boolean): UdptlEndpoint {
  const ep = value as UdptlEndpoint;
  if (typeof ep !== 'object' || ep === null || typeof ep.host !== 'string' || !isIPv4(ep.host))
    throw new InvalidOptionError(`Expected an IPv4 address for ${name}.host but got ${String(ep?.host)}`);
  const min = remote ? 1 : 0;
  if (!Number.isInteger(ep.port) || ep.port < min || ep.port > 65535)
    throw new InvalidOptionError(`Expected an integer in [${min}, 65535] for ${name}.port but got ${String(ep.port)}`);
  return { host: ep.host, port: ep.port };
}

interface SendSlot {
  buf: Buffer;
  length: number;
  busy: boolean;
  dueMs: number;
  done: (error: Error | null) => void;
}

/** A DatagramLine over UDP4, for UDPTL. */
export class UdptlLine implements DatagramLine {
  /** Always 'udptl'. */
  readonly kind = 'udptl';
  readonly #socket: dgram.Socket;
  readonly #start = performance.now();
  readonly #symmetric: boolean;
  readonly #silenceMs: number;
  readonly #maxBytes: number;
  readonly #impairment: PacketImpairment | null;
  readonly #deliveries: number[] = new Array<number>(MAX_DELIVERIES).fill(0);
  readonly #pool: SendSlot[] = [];
  // Slots held back by the impairment, in due-time order.
  readonly #delayed: SendSlot[] = [];
  // Two queues swapped on each poll, so polling allocates nothing.
  #queue: Buffer[] = [];
  #spare: Buffer[] = [];
  readonly #ready: Promise<void>;
  #resolveReady!: () => void;
  #rejectReady!: (error: Error) => void;
  #isReady = false;
  readonly #bound: Promise<UdptlEndpoint>;
  #local: UdptlEndpoint | null = null;
  #peer: UdptlEndpoint | null;
  #ended: LineEnd | null = null;
  #closed = false;
  #closing: Promise<void> | null = null;
  #lastValidMs: number | null = null;
  /** When we last sent, on the same clock: our own traffic means the call is alive. */
  #lastSentMs = 0;
  #silenceTimer: NodeJS.Timeout | null = null;
  #inFlight = 0;
  #counts = {
    sent: 0,
    received: 0,
    foreign: 0,
    oversize: 0,
    empty: 0,
    overflow: 0,
    relatched: 0,
    sendErrors: 0,
    sendDropped: 0,
    sendOversize: 0,
    impairedLost: 0,
  };

  constructor(options: UdptlLineOptions = {}) {
    if (typeof options !== 'object' || options === null) throw new InvalidOptionError('Expected an object for options');
    const local =
      options.local === undefined ? { host: '0.0.0.0', port: 0 } : checkEndpoint('local', options.local, false);
    this.#peer = options.remote === undefined ? null : checkEndpoint('remote', options.remote, true);
    this.#symmetric = options.symmetric ?? false;
    if (typeof this.#symmetric !== 'boolean') throw new InvalidOptionError('Expected a boolean for symmetric');
    this.#silenceMs = options.silenceTimeoutMs ?? 10_000;
    if (typeof this.#silenceMs !== 'number' || !(this.#silenceMs > 0) || !Number.isFinite(this.#silenceMs))
      throw new InvalidOptionError(
        `Expected a positive number of ms for silenceTimeoutMs but got ${String(this.#silenceMs)}`,
      );
    this.#maxBytes = options.maxDatagramBytes ?? DEFAULT_MAX_DATAGRAM_BYTES;
    if (!Number.isInteger(this.#maxBytes) || this.#maxBytes < 1 || this.#maxBytes > MAX_UDP_PAYLOAD)
      throw new InvalidOptionError(
        `Expected an integer in [1, ${MAX_UDP_PAYLOAD}] for maxDatagramBytes but got ${String(this.#maxBytes)}`,
      );
    const impairment = options.impairment ?? null;
    if (impairment !== null && typeof impairment.deliveries !== 'function')
      throw new InvalidOptionError('Expected a PacketImpairment (with deliveries) for impairment');
    this.#impairment = impairment;
    for (let i = 0; i < SEND_POOL_SIZE; i++) {
      const slot: SendSlot = {
        buf: Buffer.alloc(this.#maxBytes),
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
    let resolveBound!: (local: UdptlEndpoint) => void;
    this.#bound = new Promise<UdptlEndpoint>((resolve, reject) => {
      resolveBound = resolve;
      this.#ready.catch(reject);
    });
    this.#bound.catch(() => undefined);

    this.#socket = dgram.createSocket({ type: 'udp4' });
    this.#socket.on('message', (msg, rinfo) => this.#onMessage(msg, rinfo));
    this.#socket.on('error', (error) => {
      this.#end({ reason: 'error', detail: `UDPTL socket error: ${error.message}` });
      this.#failReady(new UdptlLineError(`The UDPTL socket failed: ${error.message}`, { cause: error }));
    });
    this.#socket.bind(local.port, local.host, () => {
      const address = this.#socket.address();
      this.#local = { host: address.address, port: address.port };
      resolveBound({ ...this.#local });
      if (this.#peer) this.#setReady();
    });
    this.#silenceTimer = setInterval(() => this.#checkSilence(), Math.min(500, Math.max(10, this.#silenceMs / 4)));
    this.#silenceTimer.unref();
  }

  /** Where the socket is bound, once it is. */
  get localAddress(): UdptlEndpoint | null {
    return this.#local ? { ...this.#local } : null;
  }

  /**
   * Resolves with the bound address as soon as the socket is bound (before the far end is
   * known), e.g. for the port a host puts in its SDP. Rejects like ready() when the socket fails first.
   */
  bound(): Promise<UdptlEndpoint> {
    return this.#bound;
  }

  /** Where we send: the remote given, or the latched source. */
  get remoteAddress(): UdptlEndpoint | null {
    return this.#peer ? { ...this.#peer } : null;
  }

  /** @inheritdoc */
  get ended(): LineEnd | null {
    return this.#ended;
  }

  /**
   * Resolves when the socket is bound and, without a `remote`, the first datagram came.
   * Rejects with UdptlLineError when the socket fails first or the line is closed first.
   */
  ready(): Promise<void> {
    return this.#ready;
  }

  /**
   * Hands every datagram queued since the last poll to `deliver`, oldest first; each is valid
   * only during its call. Also sends what the impairment held back until `nowMs`.
   */
  poll(deliver: (datagram: Uint8Array) => void, nowMs: number): void {
    if (this.#closed) return;
    this.#flushDelayed(nowMs);
    this.#checkSilence();
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
    if (this.#closed) return;
    this.#flushDelayed(nowMs);
    if (!this.#peer) {
      this.#counts.sendDropped++;
      return;
    }
    if (datagram.length > this.#maxBytes) {
      this.#counts.sendOversize++;
      return;
    }
    this.#lastSentMs = this.#now();
    const impairment = this.#impairment;
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

  /** @inheritdoc */
  stats(): UdptlLineStats {
    return {
      kind: 'udptl',
      local: this.#local ? `${this.#local.host}:${this.#local.port}` : null,
      remote: this.#peer ? `${this.#peer.host}:${this.#peer.port}` : null,
      ...this.#counts,
    };
  }

  /** Sends what the impairment still holds, waits briefly for sends in flight, closes the socket. Idempotent. */
  close(): Promise<void> {
    if (this.#closing) return this.#closing;
    this.#closing = (async () => {
      this.#flushDelayed(Infinity);
      this.#closed = true;
      this.#queue.length = 0;
      if (this.#silenceTimer) clearInterval(this.#silenceTimer);
      this.#failReady(new UdptlLineError('The UDPTL line was closed before it was ready'));
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

  #now(): number {
    return performance.now() - this.#start;
  }

  #onMessage(msg: Buffer, rinfo: dgram.RemoteInfo): void {
    if (this.#closed) return;
    const peer = this.#peer;
    const fromPeer = peer !== null && peer.host === rinfo.address && peer.port === rinfo.port;
    if (peer !== null && !fromPeer && !this.#symmetric) {
      this.#counts.foreign++;
      return;
    }
    // Neither can be UDPTL; they neither latch nor keep the line alive.
    if (msg.length > this.#maxBytes) {
      this.#counts.oversize++;
      return;
    }
    if (msg.length === 0) {
      this.#counts.empty++;
      return;
    }
    this.#lastValidMs = this.#now();
    if (!fromPeer) {
      if (peer !== null) this.#counts.relatched++;
      this.#peer = { host: rinfo.address, port: rinfo.port };
    }
    if (this.#local) this.#setReady();
    if (this.#queue.length >= RECEIVE_QUEUE_SIZE) {
      this.#counts.overflow++;
      return;
    }
    this.#counts.received++;
    // Node hands each message its own buffer: it can be queued as is.
    this.#queue.push(msg);
  }

  #checkSilence(): void {
    if (this.#ended || this.#closed || this.#lastValidMs === null) return;
    if (this.#now() - Math.max(this.#lastValidMs, this.#lastSentMs) < this.#silenceMs) return;
    const from = this.#peer ? `${this.#peer.host}:${this.#peer.port}` : 'the peer';
    this.#end({ reason: 'silence', detail: `no UDPTL to or from ${from} for ${this.#silenceMs / 1000} s` });
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
      // A socket that is not running throws synchronously; count it, never throw from send().
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

  #flushDelayed(nowMs: number): void {
    let n = 0;
    while (n < this.#delayed.length && this.#delayed[n].dueMs <= nowMs) n++;
    if (n === 0) return;
    const due = this.#delayed.splice(0, n);
    for (const slot of due) this.#transmit(slot);
  }
}
