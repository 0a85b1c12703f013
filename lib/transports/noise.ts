/**
 * Additive white Gaussian noise for the line simulator, from SpanDSP's AWGN generator: a
 * seeded, reproducible hiss at a power given in dBm0 (ITU-T G.711's scale, where a 0 dBm0
 * sine peaks 3.14 dB (A-law) / 3.17 dB (µ-law) below the largest code).
 */
import { FaxlineError, InvalidOptionError, rethrowNative } from '../base/errors';
import { native, type NativeNoiseGenerator } from '../native';

/** The quietest and loudest levels the generator takes, in dBm0. */
export const NOISE_LEVEL_RANGE_DBM0: Readonly<{ min: number; max: number }> = Object.freeze({ min: -100, max: 10 });

/** A method was called on a LineNoise after close(). */
export class NoiseClosedError extends FaxlineError {
  constructor() {
    super('ERR_FAXLINE_NOISE_CLOSED', 'The line noise generator is closed');
  }
}

/**
 * A noise source added to frames in place. The same seed and level always give the same
 * noise, sample for sample (seeds that are equal modulo 2^30 give the same noise). Holds a
 * native generator: call close() when done (garbage collection frees it otherwise).
 */
export class LineNoise {
  #generator: NativeNoiseGenerator | null;

  /**
   * @param seed an integer from 0 to 2^32 - 1.
   * @param levelDbm0 the noise power in dBm0, from -100 to +10.
   * @throws InvalidOptionError for a seed or level out of range.
   */
  constructor(seed: number, levelDbm0: number) {
    if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
      throw new InvalidOptionError(`Expected an integer from 0 to 4294967295 for seed but got ${String(seed)}`);
    }
    const { min, max } = NOISE_LEVEL_RANGE_DBM0;
    if (typeof levelDbm0 !== 'number' || !(levelDbm0 >= min && levelDbm0 <= max)) {
      throw new InvalidOptionError(
        `Expected a number from ${min} to ${max} for levelDbm0 but got ${String(levelDbm0)}`,
      );
    }
    try {
      this.#generator = new native.NoiseGenerator(seed, levelDbm0);
    } catch (error) {
      rethrowNative(error);
    }
  }

  /**
   * Adds the next `frame.length` noise samples to `frame` in place, saturating at -32768 and
   * 32767 rather than wrapping. Allocates nothing.
   *
   * @throws NoiseClosedError after close(); InvalidOptionError if `frame` is not an Int16Array.
   */
  add(frame: Int16Array): void {
    const generator = this.#generator;
    if (generator === null) throw new NoiseClosedError();
    try {
      generator.add(frame);
    } catch (error) {
      rethrowNative(error);
    }
  }

  /** Frees the generator. Idempotent. */
  close(): void {
    this.#generator?.close();
    this.#generator = null;
  }

  /** Whether close() has been called. */
  get closed(): boolean {
    return this.#generator === null;
  }
}
