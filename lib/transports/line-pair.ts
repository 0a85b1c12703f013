/**
 * Two FaxSessions wired back to back in JavaScript, frame by frame: the same per-frame path
 * a media server drives, either as fast as possible or paced at one frame per 20 ms.
 */
import { CallTimeLimit } from '../engine/call-limit';
import { SAMPLES_PER_FRAME, type FaxSession } from '../engine/session';
import { FRAME_MS, FrameClock } from './clock';

/** Options of connectSessions. */
export interface LinePairOptions {
  /** Pace frames at real time (20 ms each) instead of as fast as possible. */
  paced?: boolean;
  /**
   * Bound on line time without a page getting through (from the start, then from each page);
   * both sides hang up past it, saying so in `detail` (default four hours).
   */
  timeLimitMs?: number;
  /** Aborting hangs up both sides. */
  signal?: AbortSignal;
}

/** Frames run between yields to the event loop when unpaced, so timers and I/O still run. */
const FRAMES_PER_SLICE = 250;

/**
 * Runs a call between a and b until both have finished. Resolves with the line time in ms.
 * The sessions are not closed: their results stay readable.
 */
export async function connectSessions(a: FaxSession, b: FaxSession, options: LinePairOptions = {}): Promise<number> {
  const limit = new CallTimeLimit(options.timeLimitMs);
  const aToB = new Int16Array(SAMPLES_PER_FRAME);
  const bToA = new Int16Array(SAMPLES_PER_FRAME);
  const clock = options.paced ? new FrameClock() : null;
  let frames = 0;
  const now = (): number => frames * FRAME_MS;
  limit.watch(a, now).watch(b, now);
  const hangUpBoth = (detail: string): void => {
    a.hangUp(detail);
    b.hangUp(detail);
  };
  const onAbort = (): void => hangUpBoth('the call was cancelled');
  options.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    if (options.signal?.aborted) onAbort();
    while (!(a.finished && b.finished)) {
      if (limit.reached(now())) {
        hangUpBoth(limit.detail);
        break;
      }
      a.process(bToA, aToB);
      b.process(aToB, bToA);
      frames++;
      if (clock) {
        await clock.next();
      } else if (frames % FRAMES_PER_SLICE === 0) {
        await new Promise((resolve) => setImmediate(resolve));
      }
    }
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
  }
  return frames * FRAME_MS;
}
