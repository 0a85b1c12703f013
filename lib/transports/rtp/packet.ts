/**
 * RTP packets (RFC 3550 §5.1) for G.711 audio (RFC 3551: PT 0 PCMU, PT 8 PCMA, 8000 Hz, one
 * byte per sample): a parser that never throws and a packetizer that reuses one buffer.
 *
 * Fixed header, 12 bytes, big-endian:
 *   V=2 (2 bits) | P (1) | X (1) | CC (4) | M (1) | PT (7) | sequence (16) | timestamp (32) | SSRC (32)
 * then CC × 4 bytes of CSRC, then (X) a 4-byte extension header with its length in 32-bit words
 * and the extension, then the payload, then (P) padding whose last byte counts the padding.
 */
import { randomBytes } from 'node:crypto';
import { checkInteger } from '../../base/checks';
import { InvalidOptionError } from '../../base/errors';
import { RED_BLOCK_HEADER_BYTES, redBlockExpressible, writeRedBlockHeader, writeRedPrimaryHeader } from './red';

/** Bytes of the fixed RTP header. */
export const RTP_HEADER_BYTES = 12;
/** The only RTP version there is (RFC 3550 §5.1). */
export const RTP_VERSION = 2;

/** A parsed RTP packet. `payload` is a view into the parsed buffer (no copy). */
export interface RtpPacket {
  /** The P bit: the packet carried padding (already removed from `payload`). */
  padding: boolean;
  /** The X bit: the packet carried a header extension (skipped). */
  extension: boolean;
  /** The M bit; for audio, the first packet of a talkspurt (RFC 3551 §4.1). */
  marker: boolean;
  /** 7-bit payload type. */
  payloadType: number;
  /** 16-bit sequence number. */
  sequence: number;
  /** 32-bit RTP timestamp, unsigned. */
  timestamp: number;
  /** 32-bit synchronisation source, unsigned. */
  ssrc: number;
  /** Contributing sources, unsigned (usually none). */
  csrc: number[];
  /** The payload without header, extension or padding. */
  payload: Uint8Array;
}

/** Reads a big-endian unsigned 32-bit value (the caller has checked the bounds). */
function u32(buf: Uint8Array, p: number): number {
  return ((buf[p] << 24) | (buf[p + 1] << 16) | (buf[p + 2] << 8) | buf[p + 3]) >>> 0;
}

/**
 * Parses an RTP packet, or returns null when it is malformed: shorter than the fixed header,
 * version other than 2, a CSRC list or header extension past the end, or a padding count that
 * is zero or larger than what follows the header. Never throws.
 */
export function parseRtp(buf: Uint8Array): RtpPacket | null {
  if (!(buf instanceof Uint8Array) || buf.length < RTP_HEADER_BYTES) return null;
  const b0 = buf[0];
  if (b0 >> 6 !== RTP_VERSION) return null;
  const padding = (b0 & 0x20) !== 0;
  const extension = (b0 & 0x10) !== 0;
  const csrcCount = b0 & 0x0f;
  let p = RTP_HEADER_BYTES;
  if (p + csrcCount * 4 > buf.length) return null;
  const csrc: number[] = [];
  for (let i = 0; i < csrcCount; i++, p += 4) csrc.push(u32(buf, p));
  if (extension) {
    // RFC 3550 §5.3.1: 16-bit profile-defined value, 16-bit length in 32-bit words (header excluded).
    if (p + 4 > buf.length) return null;
    const words = (buf[p + 2] << 8) | buf[p + 3];
    p += 4 + words * 4;
    if (p > buf.length) return null;
  }
  let end = buf.length;
  if (padding) {
    // The last byte counts the padding, itself included, so it is at least 1.
    const pad = buf[buf.length - 1];
    if (pad < 1 || pad > buf.length - p) return null;
    end -= pad;
  }
  return {
    padding,
    extension,
    marker: (buf[1] & 0x80) !== 0,
    payloadType: buf[1] & 0x7f,
    sequence: (buf[2] << 8) | buf[3],
    timestamp: u32(buf, 4),
    ssrc: u32(buf, 8),
    csrc,
    payload: buf.subarray(p, end),
  };
}

/** Options of RtpPacketizer. */
export interface RtpPacketizerOptions {
  /** The payload type of the audio (0 PCMU, 8 PCMA). */
  payloadType: number;
  /** Our SSRC (default: random, RFC 3550 §8). */
  ssrc?: number;
  /** The first sequence number (default: random, RFC 3550 §5.1). */
  sequence?: number;
  /** The first timestamp (default: random, RFC 3550 §5.1). */
  timestamp?: number;
  /** Timestamp units per packet (default 160: 20 ms at 8000 Hz). */
  samplesPerFrame?: number;
  /** Send RFC 2198 redundant audio with this RED payload type and this many earlier payloads. */
  redundancy?: { payloadType: number; depth: number };
  /** The largest payload expected (default 160); a larger one grows the buffers once. */
  maxPayloadBytes?: number;
}

/** The largest redundancy depth accepted: more copies than this only add delay and bandwidth. */
export const MAX_REDUNDANCY_DEPTH = 8;

/**
 * Builds the RTP packets of one outgoing stream: sequence +1 and timestamp +samplesPerFrame per
 * packet (both wrapping), the marker bit on the first packet only (the start of the stream,
 * RFC 3551 §4.1). One buffer is reused for every packet: what `packetize` returns is valid until
 * the next call.
 */
export class RtpPacketizer {
  /** Our SSRC. */
  readonly ssrc: number;
  /** The audio payload type. */
  readonly payloadType: number;
  readonly #samplesPerFrame: number;
  readonly #red: { payloadType: number; depth: number } | null;
  #sequence: number;
  #timestamp: number;
  #first = true;
  #buffer: Buffer;
  #maxPayload: number;
  // RED history: the last `depth` payloads (copies) with their timestamps, in a ring.
  #history: Uint8Array[] = [];
  #historyLength: number[] = [];
  #historyTs: number[] = [];
  #historyCount = 0;
  #historyNext = 0;

  constructor(options: RtpPacketizerOptions) {
    this.payloadType = checkInteger(options.payloadType, 'payloadType', 0, 127);
    const random = randomBytes(10);
    this.ssrc = options.ssrc === undefined ? random.readUInt32BE(0) : checkInteger(options.ssrc, 'ssrc', 0, 0xffffffff);
    this.#sequence =
      options.sequence === undefined ? random.readUInt16BE(4) : checkInteger(options.sequence, 'sequence', 0, 0xffff);
    this.#timestamp =
      options.timestamp === undefined
        ? random.readUInt32BE(6)
        : checkInteger(options.timestamp, 'timestamp', 0, 0xffffffff);
    this.#samplesPerFrame = checkInteger(options.samplesPerFrame ?? 160, 'samplesPerFrame', 1, 0xffff);
    this.#maxPayload = checkInteger(options.maxPayloadBytes ?? 160, 'maxPayloadBytes', 1, 65_000);
    if (options.redundancy) {
      const payloadType = checkInteger(options.redundancy.payloadType, 'redundancy.payloadType', 0, 127);
      const depth = checkInteger(options.redundancy.depth, 'redundancy.depth', 0, MAX_REDUNDANCY_DEPTH);
      if (payloadType === this.payloadType)
        throw new InvalidOptionError('redundancy.payloadType must differ from the audio payload type');
      this.#red = { payloadType, depth };
    } else {
      this.#red = null;
    }
    this.#buffer = Buffer.alloc(this.#capacity());
    this.#allocateHistory();
  }

  /** The sequence number the next packet will carry. */
  get sequence(): number {
    return this.#sequence;
  }

  /** The RTP timestamp the next packet will carry. */
  get timestamp(): number {
    return this.#timestamp;
  }

  /**
   * Builds the next packet around `payload` and returns a view of the reused buffer. With
   * redundancy, the packet is RFC 2198 RED carrying up to `depth` earlier payloads (oldest
   * first; one whose offset or length RED cannot express is left out).
   */
  packetize(payload: Uint8Array): Buffer {
    if (payload.length > this.#maxPayload) this.#grow(payload.length);
    const buf = this.#buffer;
    const red = this.#red;
    buf[0] = RTP_VERSION << 6;
    buf[1] = (this.#first ? 0x80 : 0) | (red ? red.payloadType : this.payloadType);
    buf.writeUInt16BE(this.#sequence, 2);
    buf.writeUInt32BE(this.#timestamp, 4);
    buf.writeUInt32BE(this.ssrc, 8);
    let p = RTP_HEADER_BYTES;
    if (red) {
      const depth = red.depth;
      const oldest = (this.#historyNext - this.#historyCount + depth) % Math.max(depth, 1);
      // Headers first, oldest block first, then the data blocks in the same order, primary last.
      for (let i = 0; i < this.#historyCount; i++) {
        const slot = (oldest + i) % depth;
        const offset = (this.#timestamp - this.#historyTs[slot]) >>> 0;
        if (redBlockExpressible(offset, this.#historyLength[slot]))
          p = writeRedBlockHeader(buf, p, this.payloadType, offset, this.#historyLength[slot]);
      }
      p = writeRedPrimaryHeader(buf, p, this.payloadType);
      for (let i = 0; i < this.#historyCount; i++) {
        const slot = (oldest + i) % depth;
        const offset = (this.#timestamp - this.#historyTs[slot]) >>> 0;
        const length = this.#historyLength[slot];
        if (!redBlockExpressible(offset, length)) continue;
        buf.set(this.#history[slot].subarray(0, length), p);
        p += length;
      }
      if (depth > 0) {
        const slot = this.#historyNext;
        this.#history[slot].set(payload);
        this.#historyLength[slot] = payload.length;
        this.#historyTs[slot] = this.#timestamp;
        this.#historyNext = (slot + 1) % depth;
        if (this.#historyCount < depth) this.#historyCount++;
      }
    }
    buf.set(payload, p);
    p += payload.length;
    this.#first = false;
    this.#sequence = (this.#sequence + 1) & 0xffff;
    this.#timestamp = (this.#timestamp + this.#samplesPerFrame) >>> 0;
    return buf.subarray(0, p);
  }

  #capacity(): number {
    const depth = this.#red?.depth ?? 0;
    const redBytes = this.#red ? 1 + depth * (RED_BLOCK_HEADER_BYTES + this.#maxPayload) : 0;
    return RTP_HEADER_BYTES + redBytes + this.#maxPayload;
  }

  #allocateHistory(): void {
    const depth = this.#red?.depth ?? 0;
    const old = this.#history;
    this.#history = [];
    for (let i = 0; i < depth; i++) {
      const slot = new Uint8Array(this.#maxPayload);
      if (old[i]) slot.set(old[i]);
      this.#history.push(slot);
    }
  }

  #grow(size: number): void {
    this.#maxPayload = size;
    this.#buffer = Buffer.alloc(this.#capacity());
    this.#allocateHistory();
  }
}
