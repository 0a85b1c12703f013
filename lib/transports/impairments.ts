/**
 * The line simulator: a bad telephone line, deterministic by seed. It decides per 20 ms packet
 * whether it is lost (random or Gilbert–Elliott burst loss), when it arrives (uniform jitter,
 * which reorders packets) and whether it arrives twice; and it changes the audio itself (gain,
 * additive white Gaussian noise from SpanDSP). The loss model is shared bit for bit with the
 * raw SpanDSP baseline in bench/rtp_baseline.c, so both see the same packets lost for a seed.
 */
import { InvalidOptionError } from '../base/errors';
import { LineNoise } from './noise';

/** How packets get lost in one direction: not at all, independently, or in bursts (Gilbert–Elliott). */
export type LossModel =
  | { kind: 'none' }
  | { kind: 'random'; p: number }
  | { kind: 'burst'; p: number; r: number; lossG?: number; lossB?: number };

/** A whole simulated line, as `--line 'loss=1%,jitter=40ms,seed=7'` describes it. */
export interface LineSpec {
  /** The loss model; probabilities are fractions (1 % is 0.01). */
  loss: LossModel;
  /** Each delivered packet is delayed uniformly in [0, jitterMs) ms. */
  jitterMs: number;
  /** Probability (a fraction) that a delivered packet arrives a second time. */
  duplicate: number;
  /** Additive white Gaussian noise level in dBm0, or null for none. */
  noiseDbm0: number | null;
  /** Gain applied to the audio, in dB (0 = unchanged). */
  gainDb: number;
  /** The seed (uint32) every random stream of the line derives from. */
  seed: number;
}

/**
 * What a medium's sending side calls per 20 ms frame to impair it. `deliveries` writes the
 * line times (ms, each ≥ nowMs) at which copies of the packet sent at `nowMs` arrive into `out`
 * and returns how many: 0 means lost.
 */
export interface PacketImpairment {
  /** Changes one frame of audio in place before it is encoded. */
  processAudio(frame: Int16Array): void;
  /** Arrival times of the packet sent at `nowMs`, written to `out`; returns their count. */
  deliveries(nowMs: number, out: number[]): number;
  /** Releases what the impairment holds (e.g. the noise generator). */
  close?(): void;
}

/** Counters of a LineImpairment so far. */
export interface LineImpairmentStats {
  /** Packets offered to the line. */
  packets: number;
  /** Packets the loss model dropped. */
  lost: number;
  /** Extra copies delivered. */
  duplicated: number;
  /** The longest delay given to any delivered copy, in ms. */
  delayedMaxMs: number;
}

const UINT32 = 0x1_0000_0000;
/** The golden-ratio constant that separates direction 1's streams from direction 0's. */
const DIRECTION_STEP = 0x9e3779b9;
const JITTER_STREAM = 1;
const DUPLICATE_STREAM = 2;
const NOISE_STREAM = 3;

// Limits that keep a line spec physically meaningful; past them the simulation says nothing useful.
const MAX_JITTER_MS = 5000;
const MIN_GAIN_DB = -60;
const MAX_GAIN_DB = 40;
const MIN_NOISE_DBM0 = -90;
// G.711's largest sine is +3.14 dBm0; noise louder than that is just clipping.
const MAX_NOISE_DBM0 = 3;

/**
 * The mulberry32 generator: a uint32 state advanced by a Weyl step and mixed; returns doubles
 * in [0, 1). Chosen because it is tiny and identical in C and JavaScript (all arithmetic mod 2^32).
 */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    // `^` takes its operands mod 2^32, so the unbounded sum is reduced exactly as in C.
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / UINT32;
  };
}

/** The seed of the loss stream of one call direction (0 = sender→receiver, 1 = back). */
export function lossStreamSeed(seed: number, direction: 0 | 1): number {
  return ((seed >>> 0) + direction * DIRECTION_STEP) % UINT32;
}

/** A loss model's per-packet decisions, with the Gilbert–Elliott state it carries. */
class LossProcess {
  readonly #next: () => number;
  readonly #model: LossModel;
  #bad = false;

  constructor(seed: number, model: LossModel) {
    this.#next = mulberry32(seed);
    this.#model = model;
  }

  /** Decides the next packet: true if it is lost. */
  lost(): boolean {
    const model = this.#model;
    if (model.kind === 'none') return false;
    if (model.kind === 'random') return this.#next() < model.p;
    // Always two draws, loss first, so the C baseline's stream stays in step whatever the state.
    const u1 = this.#next();
    const u2 = this.#next();
    const lost = u1 < (this.#bad ? (model.lossB ?? 1) : (model.lossG ?? 0));
    if (!this.#bad && u2 < model.p) this.#bad = true;
    else if (this.#bad && u2 < model.r) this.#bad = false;
    return lost;
  }
}

function checkProbability(value: unknown, what: string): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > 1) {
    throw new InvalidOptionError(`Expected a probability in 0..1 for ${what} but got ${String(value)}`);
  }
}

function checkLossModel(model: LossModel): void {
  switch (model?.kind) {
    case 'none':
      return;
    case 'random':
      checkProbability(model.p, 'the loss probability p');
      return;
    case 'burst':
      checkProbability(model.p, 'the burst model p (good to bad)');
      checkProbability(model.r, 'the burst model r (bad to good)');
      if (model.lossG !== undefined) checkProbability(model.lossG, 'the burst model lossG');
      if (model.lossB !== undefined) checkProbability(model.lossB, 'the burst model lossB');
      return;
    default:
      throw new InvalidOptionError(
        `Expected a loss model of kind none, random or burst but got ${JSON.stringify(model)}`,
      );
  }
}

/**
 * Which of the first `packets` packets of one direction the model loses (1 = lost), packet 0
 * being frame 0. The same seed, model and direction always give the same pattern, here and in
 * bench/rtp_baseline.c's `--pattern` mode.
 */
export function lossPattern(seed: number, model: LossModel, direction: 0 | 1, packets: number): Uint8Array {
  checkLossModel(model);
  if (!Number.isSafeInteger(packets) || packets < 0) {
    throw new InvalidOptionError(`Expected a packet count ≥ 0 for lossPattern but got ${packets}`);
  }
  if (direction !== 0 && direction !== 1) {
    throw new InvalidOptionError(`Expected direction 0 or 1 but got ${String(direction)}`);
  }
  const process = new LossProcess(lossStreamSeed(seed, direction), model);
  const pattern = new Uint8Array(packets);
  for (let i = 0; i < packets; i++) pattern[i] = process.lost() ? 1 : 0;
  return pattern;
}

/** A line with no impairment at all (seed 1). */
export function defaultLineSpec(): LineSpec {
  return { loss: { kind: 'none' }, jitterMs: 0, duplicate: 0, noiseDbm0: null, gainDb: 0, seed: 1 };
}

const NUMBER = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)$/;

/** A decimal number followed by `unit` (case-insensitive), or null. */
function parseWithUnit(text: string, unit: string): number | null {
  if (!text.toLowerCase().endsWith(unit.toLowerCase())) return null;
  const digits = text.slice(0, text.length - unit.length).trim();
  return NUMBER.test(digits) ? Number(digits) : null;
}

function parsePercent(text: string, part: string): number {
  const value = parseWithUnit(text, '%');
  if (value === null) throw new InvalidOptionError(`Bad line option '${part}': expected a percentage such as 1%`);
  if (value < 0 || value > 100) {
    throw new InvalidOptionError(`Bad line option '${part}': ${text} is outside 0..100%`);
  }
  return value / 100;
}

function parseRanged(text: string, unit: string, min: number, max: number, part: string): number {
  const value = parseWithUnit(text, unit);
  if (value === null) throw new InvalidOptionError(`Bad line option '${part}': expected a number in ${unit}`);
  if (value < min || value > max) {
    throw new InvalidOptionError(`Bad line option '${part}': ${text} is outside ${min}..${max} ${unit}`);
  }
  // -0 would print back as 0 yet compare unequal in tests; normalise it.
  return value === 0 ? 0 : value;
}

function parseSeed(text: string, part: string): number {
  const value = /^\d+$/.test(text) ? Number(text) : /^0x[0-9a-f]+$/i.test(text) ? Number.parseInt(text, 16) : NaN;
  if (!Number.isSafeInteger(value) || value > 0xffffffff) {
    throw new InvalidOptionError(`Bad line option '${part}': the seed must be an integer in 0..4294967295`);
  }
  return value;
}

function parseBurst(text: string, part: string): LossModel {
  const pieces = text.split('/');
  if (pieces.length !== 2 && pieces.length !== 4) {
    throw new InvalidOptionError(`Bad line option '${part}': expected burst=P%/R% (or P%/R%/lossG%/lossB%)`);
  }
  const [p, r, lossG, lossB] = pieces.map((piece) => parsePercent(piece.trim(), part));
  const model: LossModel = { kind: 'burst', p: p!, r: r! };
  if (lossG !== undefined) model.lossG = lossG;
  if (lossB !== undefined) model.lossB = lossB;
  return model;
}

/**
 * Parses a line description: comma-separated `key=value` with `loss=P%` (random loss),
 * `burst=P%/R%` (Gilbert–Elliott: P(good→bad), P(bad→good); optionally `/lossG%/lossB%`),
 * `jitter=Nms`, `dup=P%`, `noise=LdBm0`, `gain=GdB`, `seed=N` (uint32, default 1). An empty
 * string is a perfect line. Throws InvalidOptionError naming the bad part.
 *
 * @example parseLineSpec('burst=0.5%/30%,jitter=40ms,seed=7')
 */
export function parseLineSpec(spec: string): LineSpec {
  if (typeof spec !== 'string') {
    throw new InvalidOptionError(`Expected a string for the line spec but got ${typeof spec}`);
  }
  const result = defaultLineSpec();
  if (spec.trim() === '') return result;
  const seen = new Set<string>();
  for (const rawPart of spec.split(',')) {
    const part = rawPart.trim();
    const eq = part.indexOf('=');
    if (eq <= 0) throw new InvalidOptionError(`Bad line option '${part}': expected key=value`);
    const key = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (seen.has(key)) throw new InvalidOptionError(`Bad line option '${part}': '${key}' is given twice`);
    seen.add(key);
    switch (key) {
      case 'loss':
        result.loss = { kind: 'random', p: parsePercent(value, part) };
        break;
      case 'burst':
        result.loss = parseBurst(value, part);
        break;
      case 'jitter':
        result.jitterMs = parseRanged(value, 'ms', 0, MAX_JITTER_MS, part);
        break;
      case 'dup':
        result.duplicate = parsePercent(value, part);
        break;
      case 'noise':
        result.noiseDbm0 = parseRanged(value, 'dBm0', MIN_NOISE_DBM0, MAX_NOISE_DBM0, part);
        break;
      case 'gain':
        result.gainDb = parseRanged(value, 'dB', MIN_GAIN_DB, MAX_GAIN_DB, part);
        break;
      case 'seed':
        result.seed = parseSeed(value, part);
        break;
      default:
        throw new InvalidOptionError(
          `Bad line option '${part}': unknown key '${key}' (known: loss, burst, jitter, dup, noise, gain, seed)`,
        );
    }
  }
  if (seen.has('loss') && seen.has('burst')) {
    throw new InvalidOptionError("Bad line spec: 'loss' and 'burst' cannot be combined (one loss model per line)");
  }
  return result;
}

/** A fraction as the percentage it was written as (0.07 → "7", not "7.000000000000001"). */
function percent(fraction: number): string {
  return `${Number((fraction * 100).toPrecision(12))}%`;
}

/**
 * Prints a line spec back in canonical form: only what differs from a perfect line, in the
 * order loss|burst, jitter, dup, noise, gain, then always the seed. parseLineSpec reads it back.
 */
export function formatLineSpec(spec: LineSpec): string {
  const parts: string[] = [];
  const loss = spec.loss;
  if (loss.kind === 'random') parts.push(`loss=${percent(loss.p)}`);
  if (loss.kind === 'burst') {
    let burst = `burst=${percent(loss.p)}/${percent(loss.r)}`;
    if (loss.lossG !== undefined || loss.lossB !== undefined) {
      burst += `/${percent(loss.lossG ?? 0)}/${percent(loss.lossB ?? 1)}`;
    }
    parts.push(burst);
  }
  if (spec.jitterMs !== 0) parts.push(`jitter=${spec.jitterMs}ms`);
  if (spec.duplicate !== 0) parts.push(`dup=${percent(spec.duplicate)}`);
  if (spec.noiseDbm0 !== null) parts.push(`noise=${spec.noiseDbm0}dBm0`);
  if (spec.gainDb !== 0) parts.push(`gain=${spec.gainDb}dB`);
  parts.push(`seed=${spec.seed >>> 0}`);
  return parts.join(',');
}

function checkLineSpec(spec: LineSpec): void {
  checkLossModel(spec.loss);
  const { jitterMs, duplicate, noiseDbm0, gainDb, seed } = spec;
  if (!Number.isFinite(jitterMs) || jitterMs < 0 || jitterMs > MAX_JITTER_MS) {
    throw new InvalidOptionError(`Expected jitterMs in 0..${MAX_JITTER_MS} but got ${jitterMs}`);
  }
  checkProbability(duplicate, 'the duplication probability');
  if (noiseDbm0 !== null && !(noiseDbm0 >= MIN_NOISE_DBM0 && noiseDbm0 <= MAX_NOISE_DBM0)) {
    throw new InvalidOptionError(`Expected noiseDbm0 in ${MIN_NOISE_DBM0}..${MAX_NOISE_DBM0} but got ${noiseDbm0}`);
  }
  if (!(gainDb >= MIN_GAIN_DB && gainDb <= MAX_GAIN_DB)) {
    throw new InvalidOptionError(`Expected gainDb in ${MIN_GAIN_DB}..${MAX_GAIN_DB} but got ${gainDb}`);
  }
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
    throw new InvalidOptionError(`Expected a uint32 seed but got ${seed}`);
  }
}

/**
 * One direction of a simulated line. Per packet sent at `nowMs`, `deliveries` draws from
 * separate seeded streams: the loss decision (loss stream), then for a delivered packet its
 * delay (jitter stream, uniform in [0, jitterMs)) and whether it is duplicated (dup stream);
 * a duplicate gets its own delay from the same send time. Separate streams mean turning jitter,
 * duplication or noise on never changes which packets are lost.
 *
 * @example
 * const line = new LineImpairment(parseLineSpec('loss=1%,jitter=40ms'), 0);
 * const times = [0, 0];
 * line.processAudio(frame);
 * const n = line.deliveries(nowMs, times); // 0: lost; else send a copy at each times[i]
 */
export class LineImpairment implements PacketImpairment {
  readonly #loss: LossProcess;
  readonly #jitter: () => number;
  readonly #duplicate: () => number;
  readonly #jitterMs: number;
  readonly #duplicateP: number;
  readonly #gain: number;
  #noise: LineNoise | null;
  #packets = 0;
  #lost = 0;
  #duplicated = 0;
  #delayedMaxMs = 0;

  /** `direction`: 0 = sender→receiver, 1 = receiver→sender (each has its own streams). */
  constructor(spec: LineSpec, direction: 0 | 1) {
    checkLineSpec(spec);
    if (direction !== 0 && direction !== 1) {
      throw new InvalidOptionError(`Expected direction 0 or 1 but got ${String(direction)}`);
    }
    const base = lossStreamSeed(spec.seed, direction);
    this.#loss = new LossProcess(base, spec.loss);
    this.#jitter = mulberry32((base + JITTER_STREAM) % UINT32);
    this.#duplicate = mulberry32((base + DUPLICATE_STREAM) % UINT32);
    this.#jitterMs = spec.jitterMs;
    this.#duplicateP = spec.duplicate;
    this.#gain = spec.gainDb === 0 ? 1 : 10 ** (spec.gainDb / 20);
    this.#noise = spec.noiseDbm0 === null ? null : new LineNoise((base + NOISE_STREAM) % UINT32, spec.noiseDbm0);
  }

  /** Applies gain (saturating to int16, rounding half away from zero), then adds the noise. */
  processAudio(frame: Int16Array): void {
    const gain = this.#gain;
    if (gain !== 1) {
      for (let i = 0; i < frame.length; i++) {
        const scaled = frame[i]! * gain;
        const rounded = scaled < 0 ? -Math.round(-scaled) : Math.round(scaled);
        frame[i] = rounded > 32767 ? 32767 : rounded < -32768 ? -32768 : rounded;
      }
    }
    this.#noise?.add(frame);
  }

  /**
   * Writes the arrival times (ms, ≥ nowMs) of the packet sent at `nowMs` into `out`, which
   * must have room for 2, and returns their count: 0 lost, 1 delivered, 2 duplicated.
   */
  deliveries(nowMs: number, out: number[]): number {
    this.#packets++;
    if (this.#loss.lost()) {
      this.#lost++;
      return 0;
    }
    out[0] = this.#arrival(nowMs);
    if (this.#duplicate() < this.#duplicateP) {
      this.#duplicated++;
      out[1] = this.#arrival(nowMs);
      return 2;
    }
    return 1;
  }

  /** Counters so far. */
  stats(): LineImpairmentStats {
    return {
      packets: this.#packets,
      lost: this.#lost,
      duplicated: this.#duplicated,
      delayedMaxMs: this.#delayedMaxMs,
    };
  }

  /** Releases the noise generator; processAudio then applies gain only. Idempotent. */
  close(): void {
    this.#noise?.close();
    this.#noise = null;
  }

  #arrival(nowMs: number): number {
    const delay = this.#jitter() * this.#jitterMs;
    if (delay > this.#delayedMaxMs) this.#delayedMaxMs = delay;
    return nowMs + delay;
  }
}
