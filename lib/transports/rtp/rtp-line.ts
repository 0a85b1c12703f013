/**
 * One call's audio as RTP/G.711 over UDP (RFC 3550, RFC 3551): an AudioLine. Received packets
 * go through a jitter buffer timed by the line's own monotonic clock (performance.now()), so
 * arrival and playout share one time base whatever the caller's line time is. What we send is
 * G.711-coded into preallocated buffers and packetized into one reused buffer, then handed to
 * the UdpPeer (../udp-peer.ts), which owns the socket, the far end and the send buffers.
 */
import { checkObject } from '../../base/checks';
import { FaxlineError, InvalidOptionError } from '../../base/errors';
import { G711_PAYLOAD_TYPE, g711Decode, g711Encode, type G711Law } from '../g711';
import type { PacketImpairment } from '../impairments';
import type { AudioLine, LineEnd, LineStats } from '../line';
import { checkUdpPeerOptions, UdpPeer, type UdpEndpoint } from '../udp-peer';
import { DEFAULT_PLAYOUT_DELAY_MS, JitterBuffer, playoutDelayFor } from './jitter-buffer';
import { MAX_REDUNDANCY_DEPTH, RTP_HEADER_BYTES, RtpPacketizer } from './packet';
import { RED_BLOCK_HEADER_BYTES } from './red';

export type { PacketImpairment } from '../impairments';

/** Samples (and G.711 bytes) in one 20 ms frame. */
const FRAME_SAMPLES = 160;

/** A UDP endpoint. */
export type RtpEndpoint = UdpEndpoint;

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

/** An AudioLine over RTP/G.711 on UDP4. */
export class RtpLine implements AudioLine {
  /** Always 'rtp'. */
  readonly kind = 'rtp';
  /** The G.711 law on the wire. */
  readonly codec: G711Law;
  readonly #peer: UdpPeer;
  readonly #impairment: PacketImpairment | null;
  readonly #jitter: JitterBuffer;
  readonly #packetizer: RtpPacketizer;
  readonly #payload = new Uint8Array(FRAME_SAMPLES);
  readonly #scratch = new Int16Array(FRAME_SAMPLES);

  constructor(options: RtpLineOptions = {}) {
    checkObject(options, 'options');
    const settings = checkUdpPeerOptions(options);
    const codec = options.codec ?? 'pcmu';
    if (codec !== 'pcmu' && codec !== 'pcma')
      throw new InvalidOptionError(`Expected 'pcmu' or 'pcma' for codec but got ${String(codec)}`);
    this.codec = codec;
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
    const jitter = new JitterBuffer({
      payloadType,
      redPayloadType: red?.payloadType,
      // A live network jitters: the usual delay, or longer when redundancy needs it.
      playoutDelayMs:
        options.playoutDelayMs ??
        Math.max(DEFAULT_PLAYOUT_DELAY_MS, playoutDelayFor(options.redundancy?.depth ?? 0, 20)),
    });
    this.#jitter = jitter;
    this.#peer = new UdpPeer(settings, {
      label: 'RTP',
      error: (message, errorOptions) => new RtpLineError(message, errorOptions),
      sendBufferBytes:
        RTP_HEADER_BYTES + 1 + (red?.depth ?? 0) * (RED_BLOCK_HEADER_BYTES + FRAME_SAMPLES) + FRAME_SAMPLES,
      impairment,
      sendsKeepAlive: false,
      // Only a packet of this stream latches its source and keeps the line alive.
      receive: (packet, nowMs) => {
        const result = jitter.push(packet, nowMs);
        return result === 'accepted' || result === 'duplicate' || result === 'late';
      },
    });
  }

  /** Where the socket is bound, once it is. */
  get localAddress(): RtpEndpoint | null {
    return this.#peer.localAddress;
  }

  /**
   * Resolves with the bound address as soon as the socket is bound (before the peer is known),
   * e.g. for the port a host puts in its SDP. Rejects like ready() when the socket fails first.
   */
  bound(): Promise<RtpEndpoint> {
    return this.#peer.bound();
  }

  /** Where we send: the remote given, or the latched source. */
  get remoteAddress(): RtpEndpoint | null {
    return this.#peer.remoteAddress;
  }

  /**
   * Sets the far end learnt after binding (an SDP answer, early media); ready() resolves once
   * bound. With `symmetric` the line still follows where valid packets come from.
   */
  setRemote(remote: RtpEndpoint): void {
    this.#peer.setRemote(remote);
  }

  /**
   * Sends `count` empty datagrams to the far end now, opening the NAT path before audio flows
   * (receivers drop them as malformed RTP, so the stream is untouched). Returns how many went.
   */
  prime(count: number): number {
    return this.#peer.prime(count);
  }

  /** @inheritdoc */
  get ended(): LineEnd | null {
    return this.#peer.ended;
  }

  /**
   * Resolves when the socket is bound and, without a `remote`, the first valid RTP packet came.
   * Rejects with RtpLineError when the socket fails first or the line is closed first.
   */
  ready(): Promise<void> {
    return this.#peer.ready();
  }

  /**
   * Plays the next frame from the jitter buffer into `heard`; false for a missing frame. The
   * caller's line time is not taken: the buffer runs on the line's own clock.
   */
  // eslint-disable-next-line @typescript-eslint/no-unused-vars -- AudioLine's signature; the line keeps its own time
  read(heard: Int16Array, nowMs?: number): boolean {
    if (this.#peer.closed) return false;
    this.#peer.checkSilence();
    // The line's own clock, not the caller's: arrival times were taken on it.
    const payload = this.#jitter.pop(this.#peer.now());
    if (payload === null) return false;
    g711Decode(this.codec, payload, heard);
    return true;
  }

  /** Encodes and sends one frame at line time `nowMs` (through the impairment, if any). */
  write(frame: Int16Array, nowMs: number): void {
    const peer = this.#peer;
    if (peer.closed) return;
    peer.flush(nowMs);
    // No far end yet: nothing to encode (the impairment's audio stream does not advance either).
    if (!peer.hasRemote) return;
    const impairment = this.#impairment;
    if (impairment) {
      this.#scratch.set(frame);
      impairment.processAudio(this.#scratch);
      g711Encode(this.codec, this.#scratch, this.#payload);
    } else {
      g711Encode(this.codec, frame, this.#payload);
    }
    peer.send(this.#packetizer.packetize(this.#payload), nowMs);
  }

  /** @inheritdoc */
  stats(): LineStats {
    const jb = this.#jitter.stats();
    const counts = this.#peer.counts;
    return {
      kind: 'rtp',
      codec: this.codec,
      local: this.#peer.localText,
      remote: this.#peer.remoteText,
      packetsSent: counts.sent,
      packetsReceived: jb.received,
      lost: jb.lost,
      late: jb.late,
      duplicate: jb.duplicate,
      foreign: jb.foreign + counts.foreign,
      malformed: jb.malformed,
      recovered: jb.recovered,
      resets: jb.resets,
      sendErrors: counts.sendErrors,
      sendDropped: counts.sendDropped,
      jitterMs: Math.round(jb.jitterMs * 1000) / 1000,
    };
  }

  /** Sends what the impairment still holds, waits briefly for sends in flight, closes the socket. */
  close(): Promise<void> {
    return this.#peer.close();
  }
}
