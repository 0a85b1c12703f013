/** The 20 ms clock every real-time line runs on. */
import { setTimeout as sleep } from 'node:timers/promises';

/** Milliseconds of line time per frame (tick). */
export const FRAME_MS = 20;

/**
 * A drift-free 20 ms clock: tick n is due at start + n × 20 ms on performance.now(), so a late
 * wake-up shortens the next wait instead of shifting every later tick.
 */
export class FrameClock {
  readonly #start = performance.now();
  #ticks = 0;
  /** Ticks that started more than one frame behind their due time. */
  lateTicks = 0;
  /** How far behind its due time the last tick started, ms (0 when on time). */
  lastLatenessMs = 0;

  /** Milliseconds since the clock started. */
  now(): number {
    return performance.now() - this.#start;
  }

  /** Waits until the next tick is due. */
  async next(): Promise<void> {
    this.#ticks++;
    const wait = this.#ticks * FRAME_MS - this.now();
    this.lastLatenessMs = wait < 0 ? -wait : 0;
    if (wait > 1) {
      await sleep(wait);
      return;
    }
    if (wait < -FRAME_MS) this.lateTicks++;
    // Behind: catch up at once, but through the event loop, so sockets, messages and timers still run.
    await new Promise((resolve) => setImmediate(resolve));
  }
}
