/**
 * Wrap-safe serial number arithmetic (RFC 1982 style) for the 16-bit sequence numbers and 32-bit
 * timestamps of RTP (RFC 3550), reused by UDPTL's 16-bit sequence numbers. A counter that wraps
 * cannot be compared with `<`: two values are ordered by the shorter way round the circle.
 */

const SEQ16_MOD = 0x1_0000;
const SEQ16_HALF = 0x8000;
const TS32_MOD = 0x1_0000_0000;
const TS32_HALF = 0x8000_0000;

/**
 * The signed distance a − b between two 16-bit sequence numbers, in (−32768, 32768]: positive
 * when a comes after b. Exactly half the circle apart is read as "after" (RFC 1982 leaves it
 * undefined; one fixed answer keeps ordering deterministic).
 */
export function seq16Diff(a: number, b: number): number {
  const d = (a - b) & 0xffff;
  return d > SEQ16_HALF ? d - SEQ16_MOD : d;
}

/** True when the 16-bit sequence number a comes strictly after b (wrap-safe). */
export function seq16Newer(a: number, b: number): boolean {
  return seq16Diff(a, b) > 0;
}

/** The signed distance a − b between two 32-bit timestamps, in (−2^31, 2^31]. */
export function ts32Diff(a: number, b: number): number {
  const d = (a - b) >>> 0;
  return d > TS32_HALF ? d - TS32_MOD : d;
}

/** True when the 32-bit timestamp a comes strictly after b (wrap-safe). */
export function ts32Newer(a: number, b: number): boolean {
  return ts32Diff(a, b) > 0;
}

/**
 * Turns 16-bit sequence numbers into an extended count, cycles × 65536 + seq, in the spirit of
 * RFC 3550 A.1: each number is placed at the shortest distance from the highest one seen so
 * far, so reordering around a wrap (65535, 1, 0, 2) still gives 65535, 65537, 65536, 65538.
 * The first number seen is in cycle 0; a number that comes before it across the wrap lands in
 * cycle −1 (a negative count), which keeps the arithmetic exact instead of guessing.
 */
export class ExtendedSequence {
  #highest = 0;
  #started = false;

  /** The highest extended count seen, or null before the first number. */
  get highest(): number | null {
    return this.#started ? this.#highest : null;
  }

  /** The extended count `seq` would get, without recording it (for packets that may be rejected). */
  peek(seq: number): number {
    if (!this.#started) return seq & 0xffff;
    return this.#highest + seq16Diff(seq, this.#highest & 0xffff);
  }

  /** Records `seq` and returns its extended count. */
  extend(seq: number): number {
    const ext = this.peek(seq);
    if (!this.#started || ext > this.#highest) this.#highest = ext;
    this.#started = true;
    return ext;
  }

  /** Forgets everything: the next number starts cycle 0 again (a stream that restarted). */
  reset(): void {
    this.#highest = 0;
    this.#started = false;
  }
}
