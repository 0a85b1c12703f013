/**
 * Runs a fax terminal on an AudioLine: per 20 ms tick, the frame heard (or SpanDSP's fill-in for
 * a missing one) in and the frame to send out. Paced by a drift-free clock on the monotonic time
 * base for a live line; unpaced (line time advances by frames) for simulations and tests.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { checkTimeLimit, timeLimitDetail } from '../engine/call-limit';
import type { FaxResult } from '../engine/result';
import { SAMPLES_PER_FRAME, type FaxSession } from '../engine/session';
import type { AudioLine, DatagramLine, LineStats } from './line';
import type { UdptlStats } from '../engine/session';

/**
 * The lines of one call: audio (RTP, AudioSocket, …) and T.38 (UDPTL). A call that starts in audio
 * and may switch to T.38 has both; the session's medium says which one carries each tick.
 */
export interface CallLines {
  audio?: AudioLine;
  t38?: DatagramLine;
}

/** Whether `line` is a T.38 line (it polls datagrams) rather than an audio one. */
export function isDatagramLine(line: AudioLine | DatagramLine): line is DatagramLine {
  return typeof (line as DatagramLine).poll === 'function';
}

/**
 * A line's statistics with the session's UDPTL figures beside them, prefixed (`udptlSent`,
 * `udptlRecoveredByRedundancy`, …): the line counts datagrams on the wire, UDPTL counts IFPs.
 */
export function withUdptlStats(line: LineStats, udptl: UdptlStats | null): LineStats {
  if (!udptl) return line;
  const out: LineStats = { ...line };
  for (const [key, value] of Object.entries(udptl)) out[`udptl${key[0]!.toUpperCase()}${key.slice(1)}`] = value;
  return out;
}

/** A single line, or both, as CallLines. */
export function callLines(lines: AudioLine | DatagramLine | CallLines): CallLines {
  if ('kind' in lines) return isDatagramLine(lines) ? { t38: lines } : { audio: lines };
  return lines;
}

/** Milliseconds of line time per frame. */
export const FRAME_MS = 20;
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

/**
 * Runs `session` on its line until the fax is over (and a short tail after it): audio frames on an
 * AudioLine, UDPTL datagrams on a DatagramLine; with both, whichever the session's medium is at each
 * tick (it may switch from audio to T.38). A line that ends on its own side (hang-up, silence,
 * socket error) hangs the session up with the line's reason as the result's detail. The session is
 * not closed; the lines are not closed.
 */
export async function driveOnLine(
  session: FaxSession,
  lineOrLines: AudioLine | DatagramLine | CallLines,
  options: DriveOptions = {},
): Promise<DriveOutcome> {
  const lines = callLines(lineOrLines);
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
      const t38 = session.medium === 't38';
      const line = t38 ? lines.t38 : lines.audio;
      if (!line) {
        session.hangUp(`the call is in ${t38 ? 'T.38' : 'audio'} but has no ${t38 ? 'T.38' : 'audio'} line`);
        break;
      }
      if (!session.finished) {
        if (line.ended) session.hangUp(line.ended.detail);
        else if (nowMs >= limitMs) session.hangUp(timeLimitDetail(limitMs));
      }
      if (session.finished) {
        if (durationMs === 0) durationMs = nowMs;
        if (line.ended) break;
        tailFrames++;
      }
      // After the fax only what we send matters (the last frames, DCN); reading on would count
      // the far end's silence once it has hung up as lost packets.
      if (session.closed) break;
      if (isDatagramLine(line)) {
        if (!session.finished) line.poll((datagram) => session.receiveDatagram(datagram), nowMs);
        if (session.closed) break;
        session.tick((datagram) => line.send(datagram, nowMs));
      } else {
        const got = !session.finished && line.read(heard, nowMs);
        if (session.closed) break;
        session.process(got ? heard : null, sent);
        line.write(sent, nowMs);
      }
      frames++;
      if (clock) await clock.next();
      else if (frames % FRAMES_PER_SLICE === 0) await new Promise((resolve) => setImmediate(resolve));
    }
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
  }
  return { result: await session.done, durationMs: durationMs || frames * FRAME_MS, lateTicks: clock?.lateTicks ?? 0 };
}
