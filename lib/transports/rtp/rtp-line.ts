/**
 * One call's audio as RTP/G.711 over UDP (RFC 3550, RFC 3551): an AudioLine. Received packets
 * go through a jitter buffer timed by the line's own monotonic clock (performance.now()), so
 * arrival and playout share one time base whatever the caller's line time is. What we send is
 * G.711-coded into preallocated buffers and packetized into one reused buffer, then copied into
 * a small pool of send buffers (a UDP send completes after the call returns, so the bytes must
 * stay put until its callback).
 */
import * as dgram from 'node:dgram';
import { isIPv4 } from 'node:net';
import { FaxlineError, InvalidOptionError } from '../../engine/errors';
import { G711_PAYLOAD_TYPE, g711Decode, g711Encode, type G711Law } from '../g711';
import type { PacketImpairment } from '../impairments';
import type { AudioLine, LineEnd, LineStats } from '../line';
import { DEFAULT_PLAYOUT_DELAY_MS, JitterBuffer, playoutDelayFor } from './jitter-buffer';
import { MAX_REDUNDANCY_DEPTH, RTP_HEADER_BYTES, RtpPacketizer } from './packet';
import { RED_BLOCK_HEADER_BYTES } from './red';

export type { PacketImpairment } from '../impairments';

/** Samples (and G.711 bytes) in one 20 ms frame. */
const FRAME_SAMPLES = 160;
/** Send buffers in the pool: packets in flight or held back by the impairment at once. */
const SEND_POOL_SIZE = 64;
/** Bound on close()'s wait for sends still in flight. */
const CLOSE_DRAIN_MS = 250;
/** Most copies of one packet the impairment may ask for. */
const MAX_DELIVERIES = 8;

/** A UDP endpoint. */
export interface RtpEndpoint {
  /** IPv4 address (the remote one literally, as SDP's c= line gives it). */
  host: string;
  /** UDP port. */
  port: number;
}

/** Options of RtpLine. */
export interface RtpLineOptions {
  /** Where to bind (default 0.0.0.0, any free port). */
  local?: RtpEndpoint;
  /** Where to send. Omitted: the source of the first valid packet is latched (and ready() waits for it). */
  remote?: RtpEndpoint;
  /** G.711 law (default 'pcmu'). */
  codec?: G711Law;
  /** Send to where the peer's latest valid packet came from (for NAT). Default false. */
  symmetric?: boolean;
  /** RFC 2198 redundancy, sent and accepted, when the peer took it (see sdp.ts). */
  redundancy?: { payloadType: number; depth: number };
  /** Jitter buffer playout delay, ms (default 60). */
  playoutDelayMs?: number;
  /** After the first packet, nothing valid for this long ends the line with 'silence' (default 10 000 ms). */
  silenceTimeoutMs?: number;
  /** The line simulator, applied to what we send. */
  impairment?: PacketImpairment;
}

/** The RTP line's socket failed before the line was ready, or the line closed first. */
export class RtpLineError extends FaxlineError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_FAXLINE_RTP_LINE', message, options);
  }
}

function checkEndpoint(name: string, value: unknown, remote: boolean): RtpEndpoint {
  const ep = value as RtpEndpoint;
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

/** An AudioLine over RTP/G.711 on UDP4. */
export class RtpLine implements AudioLine {
  /** Always 'rtp'. */
  readonly kind = 'rtp';
  /** The G.711 law on the wire. */
  readonly codec: G711Law;
  readonly #socket: dgram.Socket;
  readonly #start = performance.now();
  readonly #symmetric: boolean;
  readonly #silenceMs: number;
  readonly #impairment: PacketImpairment | null;
  readonly #jitter: JitterBuffer;
  readonly #packetizer: RtpPacketizer;
  readonly #payload = new Uint8Array(FRAME_SAMPLES);
  readonly #scratch = new Int16Array(FRAME_SAMPLES);
  readonly #deliveries: number[] = new Array<number>(MAX_DELIVERIES).fill(0);
  readonly #pool: SendSlot[] = [];
  // Slots held back by the impairment, in due-time order.
  readonly #delayed: SendSlot[] = [];
  readonly #ready: Promise<void>;
  #resolveReady!: () => void;
  #rejectReady!: (error: Error) => void;
  #isReady = false;
  readonly #bound: Promise<RtpEndpoint>;
  #local: RtpEndpoint | null = null;
  #peer: RtpEndpoint | null;
  #ended: LineEnd | null = null;
  #closed = false;
  #closing: Promise<void> | null = null;
  #lastValidMs: number | null = null;
  #silenceTimer: NodeJS.Timeout | null = null;
  #inFlight = 0;
  #counts = { packetsSent: 0, sourceForeign: 0, sendErrors: 0, sendDropped: 0, impairedLost: 0 };

  constructor(options: RtpLineOptions = {}) {
    if (typeof options !== 'object' || options === null) throw new InvalidOptionError('Expected an object for options');
    const local =
      options.local === undefined ? { host: '0.0.0.0', port: 0 } : checkEndpoint('local', options.local, false);
    this.#peer = options.remote === undefined ? null : checkEndpoint('remote', options.remote, true);
    const codec = options.codec ?? 'pcmu';
    if (codec !== 'pcmu' && codec !== 'pcma')
      throw new InvalidOptionError(`Expected 'pcmu' or 'pcma' for codec but got ${String(codec)}`);
    this.codec = codec;
    this.#symmetric = options.symmetric ?? false;
    if (typeof this.#symmetric !== 'boolean') throw new InvalidOptionError('Expected a boolean for symmetric');
    this.#silenceMs = options.silenceTimeoutMs ?? 10_000;
    if (typeof this.#silenceMs !== 'number' || !(this.#silenceMs > 0) || !Number.isFinite(this.#silenceMs))
      throw new InvalidOptionError(
        `Expected a positive number of ms for silenceTimeoutMs but got ${String(this.#silenceMs)}`,
      );
    const impairment = options.impairment ?? null;
    if (
      impairment !== null &&
      (typeof impairment.processAudio !== 'function' || typeof impairment.deliveries !== 'function')
    )
      throw new InvalidOptionError('Expected a PacketImpairment (processAudio, deliveries) for impairment');
    this.#impairment = impairment;
    const red = options.redundancy;
    if (red && (!Number.isInteger(red.depth) || red.depth < 1 || red.depth > MAX_REDUNDANCY_DEPTH))
      throw new InvalidOptionError(
        `Expected an integer in [1, ${MAX_REDUNDANCY_DEPTH}] for redundancy.depth but got ${String(red.depth)}`,
      );
    const payloadType = G711_PAYLOAD_TYPE[codec];
    this.#packetizer = new RtpPacketizer({ payloadType, redundancy: red });
    this.#jitter = new JitterBuffer({
      payloadType,
      redPayloadType: red?.payloadType,
      // A live network jitters: the usual delay, or longer when redundancy needs it.
      playoutDelayMs:
        options.playoutDelayMs ??
        Math.max(DEFAULT_PLAYOUT_DELAY_MS, playoutDelayFor(options.redundancy?.depth ?? 0, 20)),
    });
    const packetBytes =
      RTP_HEADER_BYTES + 1 + (red?.depth ?? 0) * (RED_BLOCK_HEADER_BYTES + FRAME_SAMPLES) + FRAME_SAMPLES;
    for (let i = 0; i < SEND_POOL_SIZE; i++) {
      const slot: SendSlot = {
        buf: Buffer.alloc(packetBytes),
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
    let resolveBound!: (local: RtpEndpoint) => void;
    this.#bound = new Promise<RtpEndpoint>((resolve, reject) => {
      resolveBound = resolve;
      this.#ready.catch(reject);
    });
    this.#bound.catch(() => undefined);

    this.#socket = dgram.createSocket({ type: 'udp4' });
    this.#socket.on('message', (msg, rinfo) => this.#onMessage(msg, rinfo));
    this.#socket.on('error', (error) => {
      this.#end({ reason: 'error', detail: `RTP socket error: ${error.message}` });
      this.#failReady(new RtpLineError(`The RTP socket failed: ${error.message}`, { cause: error }));
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
  get localAddress(): RtpEndpoint | null {
    return this.#local ? { ...this.#local } : null;
  }

  /**
   * Resolves with the bound address as soon as the socket is bound (before the peer is known),
   * e.g. for the port a host puts in its SDP. Rejects like ready() when the socket fails first.
   */
  bound(): Promise<RtpEndpoint> {
    return this.#bound;
  }

  /** Where we send: the remote given, or the latched source. */
  get remoteAddress(): RtpEndpoint | null {
    return this.#peer ? { ...this.#peer } : null;
  }

  /** @inheritdoc */
  get ended(): LineEnd | null {
    return this.#ended;
  }

  /**
   * Resolves when the socket is bound and, without a `remote`, the first valid RTP packet came.
   * Rejects with RtpLineError when the socket fails first or the line is closed first.
   */
  ready(): Promise<void> {
    return this.#ready;
  }

  /**
   * Plays the next frame from the jitter buffer into `heard`; false for a missing frame. The
   * caller's line time is not taken: the buffer runs on the line's own clock.
   */
  // eslint-disable-next-line @typescript-eslint/no-unused-vars -- AudioLine's signature; the line keeps its own time
  read(heard: Int16Array, nowMs?: number): boolean {
    if (this.#closed) return false;
    this.#checkSilence();
    // The line's own clock, not the caller's: arrival times were taken on it.
    const payload = this.#jitter.pop(this.#now());
    if (payload === null) return false;
    g711Decode(this.codec, payload, heard);
    return true;
  }

  /** Encodes and sends one frame at line time `nowMs` (through the impairment, if any). */
  write(frame: Int16Array, nowMs: number): void {
    if (this.#closed) return;
    this.#flushDelayed(nowMs);
    const peer = this.#peer;
    if (!peer) return;
    const impairment = this.#impairment;
    if (impairment) {
      this.#scratch.set(frame);
      impairment.processAudio(this.#scratch);
      g711Encode(this.codec, this.#scratch, this.#payload);
    } else {
      g711Encode(this.codec, frame, this.#payload);
    }
    const packet = this.#packetizer.packetize(this.#payload);
    if (!impairment) {
      this.#sendNow(packet, packet.length);
      return;
    }
    const out = this.#deliveries;
    const n = Math.min(impairment.deliveries(nowMs, out), MAX_DELIVERIES);
    if (n <= 0) this.#counts.impairedLost++;
    for (let i = 0; i < n; i++) {
      const due = out[i];
      if (!(due > nowMs)) this.#sendNow(packet, packet.length);
      else this.#hold(packet, due);
    }
  }

  /** @inheritdoc */
  stats(): LineStats {
    const jb = this.#jitter.stats();
    return {
      kind: 'rtp',
      codec: this.codec,
      local: this.#local ? `${this.#local.host}:${this.#local.port}` : null,
      remote: this.#peer ? `${this.#peer.host}:${this.#peer.port}` : null,
      packetsSent: this.#counts.packetsSent,
      packetsReceived: jb.received,
      lost: jb.lost,
      late: jb.late,
      duplicate: jb.duplicate,
      foreign: jb.foreign + this.#counts.sourceForeign,
      malformed: jb.malformed,
      recovered: jb.recovered,
      resets: jb.resets,
      sendErrors: this.#counts.sendErrors,
      sendDropped: this.#counts.sendDropped,
      jitterMs: Math.round(jb.jitterMs * 1000) / 1000,
    };
  }

  /** Sends what the impairment still holds, waits briefly for sends in flight, closes the socket. */
  close(): Promise<void> {
    if (this.#closing) return this.#closing;
    this.#closing = (async () => {
      this.#flushDelayed(Infinity);
      this.#closed = true;
      if (this.#silenceTimer) clearInterval(this.#silenceTimer);
      this.#failReady(new RtpLineError('The RTP line was closed before it was ready'));
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
    const now = this.#now();
    const peer = this.#peer;
    const fromPeer = peer !== null && peer.host === rinfo.address && peer.port === rinfo.port;
    if (peer !== null && !fromPeer && !this.#symmetric) {
      this.#counts.sourceForeign++;
      return;
    }
    const result = this.#jitter.push(msg, now);
    if (result !== 'accepted' && result !== 'duplicate' && result !== 'late') return;
    this.#lastValidMs = now;
    if (!fromPeer) this.#peer = { host: rinfo.address, port: rinfo.port };
    if (this.#local) this.#setReady();
  }

  #checkSilence(): void {
    if (this.#ended || this.#closed || this.#lastValidMs === null) return;
    if (this.#now() - this.#lastValidMs < this.#silenceMs) return;
    const from = this.#peer ? `${this.#peer.host}:${this.#peer.port}` : 'the peer';
    this.#end({ reason: 'silence', detail: `no RTP from ${from} for ${this.#silenceMs / 1000} s` });
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

  #sendNow(packet: Uint8Array, length: number): void {
    const slot = this.#freeSlot();
    if (!slot) return;
    slot.buf.set(packet.subarray(0, length));
    slot.length = length;
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
    this.#counts.packetsSent++;
    try {
      this.#socket.send(slot.buf, 0, slot.length, peer.port, peer.host, slot.done);
    } catch (error) {
      // A socket that is not running throws synchronously; count it, never throw from write().
      slot.done(error as Error);
      this.#counts.packetsSent--;
    }
  }

  #hold(packet: Uint8Array, dueMs: number): void {
    const slot = this.#freeSlot();
    if (!slot) return;
    slot.buf.set(packet);
    slot.length = packet.length;
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
