/**
 * The receiving side's jitter buffer: RTP packets in, one frame per 20 ms tick out, in sequence
 * order. It is clock-agnostic (every call takes the time in ms), so tests and unpaced calls
 * drive it with made-up time. It never stretches time: each pop plays exactly one sequence
 * number, and a frame that is not there is reported missing so the terminal runs SpanDSP's
 * fill-in for it.
 *
 * Rules:
 * - Playout starts `playoutDelayMs` after the first accepted packet arrived; from then each pop
 *   plays the next sequence number. Packets that arrive before their turn wait in a slot.
 * - A packet whose sequence number was already played or skipped is late (dropped, counted).
 *   A second copy of a waiting packet is a duplicate.
 * - Re-anchoring: a packet more than `capacityFrames` ahead of the next frame to play, or more
 *   than `capacityFrames` behind it, cannot belong to the stream as it was: the far end
 *   restarted or jumped. The buffer empties and starts again on that packet, with a fresh
 *   playout delay (counted in `resets`), instead of dropping the whole new stream as late or
 *   too early.
 * - RFC 2198 RED: the primary fills its own slot; a redundant block whose timestamp offset is a
 *   whole number of frames fills the slot that many frames back, if that slot is empty and not
 *   yet played. Such a frame, once played, counts as `recovered`.
 */
import { checkInteger } from '../../base/checks';
import { InvalidOptionError } from '../../base/errors';
import { parseRtp } from './packet';
import { parseRed } from './red';
import { ExtendedSequence, ts32Diff } from './serial';

/** Default playout delay, ms: absorbs ordinary network jitter. */
export const DEFAULT_PLAYOUT_DELAY_MS = 60;

/**
 * The playout delay that lets RFC 2198 redundancy of `depth` earlier frames recover a lost
 * packet: its copy travels in the `depth` packets after it, so playing must wait that long,
 * on top of `jitterMs` (what the network adds). Without redundancy or jitter nothing needs
 * waiting for.
 */
export function playoutDelayFor(depth: number, jitterMs: number, frameMs = 20): number {
  return depth * frameMs + jitterMs;
}

/** Options of a JitterBuffer. */
export interface JitterBufferOptions {
  /** The audio payload type to play (0 PCMU, 8 PCMA). */
  payloadType: number;
  /** The RFC 2198 RED payload type the far end may send, if any. */
  redPayloadType?: number;
  /** Delay between the first packet's arrival and the first frame played, ms (default 60). */
  playoutDelayMs?: number;
  /** Frames the buffer holds ahead of playout (default 50, one second of 20 ms frames). */
  capacityFrames?: number;
  /** Timestamp units per frame (default 160: 20 ms at 8000 Hz). */
  samplesPerFrame?: number;
  /** Bytes of one frame's payload; every payload must be exactly this long (default 160, G.711). */
  maxPayloadBytes?: number;
  /** RTP clock rate, Hz, for the jitter in ms (default 8000). */
  clockRate?: number;
}

/** What push did with a packet. */
export type PushResult = 'accepted' | 'duplicate' | 'late' | 'foreign' | 'malformed';

/** Counters of a JitterBuffer. */
export interface JitterBufferStats {
  /** Packets of our stream that arrived: accepted, duplicate or late. */
  received: number;
  /** Frames played as missing after playout started (recovered ones excluded). */
  lost: number;
  /** Packets that came after their frame was played or skipped. */
  late: number;
  /** Second copies of a waiting frame. */
  duplicate: number;
  /** Packets of another payload type (telephone-event, comfort noise, …) or another SSRC. */
  foreign: number;
  /** Packets that are not RTP, a RED payload that does not parse, or a payload of the wrong size. */
  malformed: number;
  /** Frames played from RFC 2198 redundancy because their own packet never came. */
  recovered: number;
  /** Times the buffer re-anchored on a stream that jumped. */
  resets: number;
  /** RFC 3550 §6.4.1 interarrival jitter, ms. */
  jitterMs: number;
}

/** Orders RTP packets by sequence number and plays one frame per tick. */
export class JitterBuffer {
  readonly #payloadType: number;
  readonly #redPayloadType: number | null;
  readonly #delayMs: number;
  readonly #capacity: number;
  readonly #samplesPerFrame: number;
  readonly #frameBytes: number;
  readonly #clockRate: number;
  // Slot storage, preallocated: slot i holds extended sequence #slotSeq[i] when #slotState[i] ≠ EMPTY.
  readonly #storage: Uint8Array;
  readonly #slotSeq: Float64Array;
  readonly #slotState: Uint8Array;
  readonly #out: Uint8Array;
  readonly #seq = new ExtendedSequence();
  #ssrc: number | null = null;
  #started = false;
  // Set by the first pop that played (or skipped) a sequence number since the last anchor.
  #popped = false;
  #playoutAtMs = 0;
  #next = 0;
  // RFC 3550 A.8 state: the previous accepted packet's arrival and timestamp.
  #haveLast = false;
  #lastArrivalMs = 0;
  #lastTimestamp = 0;
  #jitter = 0;
  #stats: JitterBufferStats = {
    received: 0,
    lost: 0,
    late: 0,
    duplicate: 0,
    foreign: 0,
    malformed: 0,
    recovered: 0,
    resets: 0,
    jitterMs: 0,
  };

  constructor(options: JitterBufferOptions) {
    this.#payloadType = checkInteger(options.payloadType, 'payloadType', 0, 127);
    this.#redPayloadType =
      options.redPayloadType === undefined ? null : checkInteger(options.redPayloadType, 'redPayloadType', 0, 127);
    if (this.#redPayloadType === this.#payloadType)
      throw new InvalidOptionError('redPayloadType must differ from payloadType');
    const delay = options.playoutDelayMs ?? DEFAULT_PLAYOUT_DELAY_MS;
    if (typeof delay !== 'number' || !Number.isFinite(delay) || delay < 0 || delay > 10_000)
      throw new InvalidOptionError(`Expected a number of ms in [0, 10000] for playoutDelayMs but got ${String(delay)}`);
    this.#delayMs = delay;
    this.#capacity = checkInteger(options.capacityFrames ?? 50, 'capacityFrames', 2, 1000);
    this.#samplesPerFrame = checkInteger(options.samplesPerFrame ?? 160, 'samplesPerFrame', 1, 0xffff);
    this.#frameBytes = checkInteger(options.maxPayloadBytes ?? 160, 'maxPayloadBytes', 1, 8000);
    this.#clockRate = checkInteger(options.clockRate ?? 8000, 'clockRate', 1, 1_000_000);
    this.#storage = new Uint8Array(this.#capacity * this.#frameBytes);
    this.#slotSeq = new Float64Array(this.#capacity);
    this.#slotState = new Uint8Array(this.#capacity);
    this.#out = new Uint8Array(this.#frameBytes);
  }

  /** True once a packet was accepted, so playout is scheduled. */
  get anchored(): boolean {
    return this.#started;
  }

  /** Offers one received datagram, which arrived at `arrivalMs`. Never throws. */
  push(packet: Uint8Array, arrivalMs: number): PushResult {
    const rtp = parseRtp(packet);
    if (!rtp) return this.#count('malformed');
    let primary: Uint8Array;
    let redundant: { payloadType: number; timestampOffset: number; data: Uint8Array }[] | null = null;
    if (rtp.payloadType === this.#payloadType) {
      primary = rtp.payload;
    } else if (rtp.payloadType === this.#redPayloadType) {
      const blocks = parseRed(rtp.payload);
      if (!blocks) return this.#count('malformed');
      const last = blocks[blocks.length - 1];
      // RED around another encoding (e.g. telephone-event) is not our audio.
      if (last.payloadType !== this.#payloadType) return this.#count('foreign');
      primary = last.data;
      redundant = blocks;
    } else {
      return this.#count('foreign');
    }
    if (primary.length !== this.#frameBytes) return this.#count('malformed');
    if (this.#ssrc !== null && rtp.ssrc !== this.#ssrc) return this.#count('foreign');

    let ext = this.#seq.peek(rtp.sequence);
    if (this.#ssrc === null) {
      this.#ssrc = rtp.ssrc;
      this.#anchor(arrivalMs);
      ext = this.#seq.extend(rtp.sequence);
      this.#next = ext;
    } else {
      const ahead = ext - this.#next;
      if (ahead >= this.#capacity || ahead < -this.#capacity) {
        this.#stats.resets++;
        this.#seq.reset();
        this.#anchor(arrivalMs);
        ext = this.#seq.extend(rtp.sequence);
        this.#next = ext;
        this.#slotState.fill(EMPTY);
      } else if (ahead < 0) {
        // Before playout, a packet that belongs before the first one is still in time, if the
        // window [ext, ext + capacity) still holds everything stored.
        const highest = this.#seq.highest ?? ext;
        if (this.#popped || highest - ext >= this.#capacity) return this.#count('late', true);
        this.#next = ext;
        this.#seq.extend(rtp.sequence);
      } else {
        this.#seq.extend(rtp.sequence);
      }
    }

    this.#stats.received++;
    let result: PushResult = 'accepted';
    const slot = this.#slot(ext);
    if (this.#slotState[slot] === PRIMARY && this.#slotSeq[slot] === ext) {
      this.#stats.duplicate++;
      result = 'duplicate';
    } else {
      this.#store(slot, ext, primary, PRIMARY);
      this.#updateJitter(arrivalMs, rtp.timestamp);
    }
    if (redundant) {
      for (let i = 0; i < redundant.length - 1; i++) {
        const block = redundant[i];
        const offset = block.timestampOffset;
        if (block.payloadType !== this.#payloadType || block.data.length !== this.#frameBytes) continue;
        if (offset === 0 || offset % this.#samplesPerFrame !== 0) continue;
        const target = ext - offset / this.#samplesPerFrame;
        if (target < this.#next || ext - target >= this.#capacity) continue;
        const s = this.#slot(target);
        if (this.#slotState[s] !== EMPTY && this.#slotSeq[s] === target) continue;
        this.#store(s, target, block.data, REDUNDANT);
      }
    }
    return result;
  }

  /**
   * The frame due at `nowMs` (call once per 20 ms tick): its payload, valid until the next pop,
   * or null when it is missing. Before playout starts, returns null and plays nothing.
   */
  pop(nowMs: number): Uint8Array | null {
    if (!this.#started || nowMs < this.#playoutAtMs) return null;
    const ext = this.#next;
    this.#next++;
    this.#popped = true;
    const slot = this.#slot(ext);
    const state = this.#slotState[slot];
    if (state === EMPTY || this.#slotSeq[slot] !== ext) {
      this.#stats.lost++;
      return null;
    }
    this.#slotState[slot] = EMPTY;
    if (state === REDUNDANT) this.#stats.recovered++;
    // Copied out: the slot may be refilled by a push before the caller is done with the frame.
    const start = slot * this.#frameBytes;
    this.#out.set(this.#storage.subarray(start, start + this.#frameBytes));
    return this.#out;
  }

  /** Counters so far. */
  stats(): JitterBufferStats {
    return { ...this.#stats, jitterMs: this.#jitter / (this.#clockRate / 1000) };
  }

  #count(kind: 'malformed' | 'foreign' | 'late', ours = false): PushResult {
    this.#stats[kind]++;
    if (ours) this.#stats.received++;
    return kind;
  }

  #anchor(arrivalMs: number): void {
    this.#started = true;
    this.#playoutAtMs = arrivalMs + this.#delayMs;
    this.#popped = false;
    this.#haveLast = false;
  }

  #slot(ext: number): number {
    const m = ext % this.#capacity;
    return m < 0 ? m + this.#capacity : m;
  }

  #store(slot: number, ext: number, data: Uint8Array, state: number): void {
    this.#storage.set(data, slot * this.#frameBytes);
    this.#slotSeq[slot] = ext;
    this.#slotState[slot] = state;
  }

  /** RFC 3550 A.8: J += (|D| − J) / 16, D the change in transit time between consecutive packets. */
  #updateJitter(arrivalMs: number, timestamp: number): void {
    const unitsPerMs = this.#clockRate / 1000;
    if (this.#haveLast) {
      // Transit differences computed from deltas, so the 32-bit timestamp may wrap.
      const d = (arrivalMs - this.#lastArrivalMs) * unitsPerMs - ts32Diff(timestamp, this.#lastTimestamp);
      this.#jitter += (Math.abs(d) - this.#jitter) / 16;
    }
    this.#haveLast = true;
    this.#lastArrivalMs = arrivalMs;
    this.#lastTimestamp = timestamp;
  }
}

const EMPTY = 0;
const PRIMARY = 1;
const REDUNDANT = 2;
