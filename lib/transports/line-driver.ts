/**
 * Runs a fax terminal on an AudioLine: per 20 ms tick, the frame heard (or SpanDSP's fill-in for
 * a missing one) in and the frame to send out. Paced by a drift-free clock on the monotonic time
 * base for a live line; unpaced (line time advances by frames) for simulations and tests.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { InvalidOptionError } from '../engine/errors';
import type { FaxResult } from '../engine/result';
import { SAMPLES_PER_FRAME, type FaxSession } from '../engine/session';
import type { AudioLine } from './line';

/** Milliseconds of line time per frame. */
export const FRAME_MS = 20;
/** Default bound on a call's line time: far beyond a long fax, it only stops a stuck one. */
export const DEFAULT_CALL_LIMIT_MS = 4 * 3_600_000;
/** Line time the line keeps running after the fax ends, so the last frames (DCN) reach the far end. */
const TAIL_MS = 400;
/** Frames run between yields to the event loop when unpaced. */
const FRAMES_PER_SLICE = 250;

/**
 * A drift-free 20 ms clock: tick n is due at start + n × 20 ms on performance.now(), so a late
 * wake-up shortens the next wait instead of shifting every later frame.
 */
export class FrameClock {
  readonly #start = performance.now();
  #ticks = 0;
  /** Ticks that ran more than one frame behind their due time. */
  lateTicks = 0;

  /** Milliseconds since the clock started. */
  now(): number {
    return performance.now() - this.#start;
  }

  /** Waits until the next tick is due. */
  async next(): Promise<void> {
    this.#ticks++;
    const wait = this.#ticks * FRAME_MS - this.now();
    if (wait > 1) await sleep(wait);
    else if (wait < -FRAME_MS) this.lateTicks++;
  }
}

/** Options of driveOnLine. */
export interface DriveOptions {
  /** Real time (default true): one frame per 20 ms. False: as fast as the CPU allows. */
  paced?: boolean;
  /** Upper bound on line time; the call is hung up past it, saying so in `detail`. */
  timeLimitMs?: number;
  /** Aborting hangs up. */
  signal?: AbortSignal;
}

/** What driveOnLine hands back. */
export interface DriveOutcome {
  result: FaxResult;
  /** Line time of the fax, ms. */
  durationMs: number;
  /** Paced only: ticks that ran more than a frame late. */
  lateTicks: number;
}

/** Checks a time limit option; returns it or the default. */
export function checkTimeLimit(limitMs: unknown): number {
  if (limitMs === undefined) return DEFAULT_CALL_LIMIT_MS;
  if (typeof limitMs !== 'number' || !(limitMs > 0))
    throw new InvalidOptionError('timeLimitMs must be a positive number');
  return limitMs;
}

/**
 * Runs `session` on `line` until the fax is over (and a short tail after it). A line that ends
 * on its own side (hang-up, silence, socket error) hangs the session up with the line's reason
 * as the result's detail. The session is not closed; the line is not closed.
 */
export async function driveOnLine(
  session: FaxSession,
  line: AudioLine,
  options: DriveOptions = {},
): Promise<DriveOutcome> {
  const paced = options.paced ?? true;
  const limitMs = checkTimeLimit(options.timeLimitMs);
  const heard = new Int16Array(SAMPLES_PER_FRAME);
  const sent = new Int16Array(SAMPLES_PER_FRAME);
  const clock = paced ? new FrameClock() : null;
  const onAbort = (): void => session.hangUp('the call was cancelled');
  options.signal?.addEventListener('abort', onAbort, { once: true });
  let frames = 0;
  let tailFrames = 0;
  let durationMs = 0;
  try {
    if (options.signal?.aborted) onAbort();
    while (tailFrames < TAIL_MS / FRAME_MS) {
      const nowMs = frames * FRAME_MS;
      if (!session.finished) {
        if (line.ended) session.hangUp(line.ended.detail);
        else if (nowMs >= limitMs)
          session.hangUp(`the call reached its time limit of ${limitMs / 1000} s of line time`);
      }
      if (session.finished) {
        if (durationMs === 0) durationMs = nowMs;
        if (line.ended) break;
        tailFrames++;
      }
      // After the fax only what we send matters (the last frames, DCN); reading on would count
      // the far end's silence once it has hung up as lost packets.
      const got = !session.finished && line.read(heard, nowMs);
      if (session.closed) break;
      session.process(got ? heard : null, sent);
      line.write(sent, nowMs);
      frames++;
      if (clock) await clock.next();
      else if (frames % FRAMES_PER_SLICE === 0) await new Promise((resolve) => setImmediate(resolve));
    }
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
  }
  return { result: await session.done, durationMs: durationMs || frames * FRAME_MS, lateTicks: clock?.lateTicks ?? 0 };
}
