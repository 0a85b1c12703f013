/**
 * An audio line: what every real medium (RTP/G.711, AudioSocket, the impaired in-process line)
 * looks like to a fax terminal. Per 20 ms tick the terminal reads the frame heard from the
 * line (or learns it was lost, which SpanDSP fills in) and writes the frame it sends. The line
 * owns its transport, its receive buffer and its statistics; the driver (line-driver.ts) owns
 * the clock.
 */
import type { UdptlStats } from '../engine/session';

/** Why a line ended on its own side, as the fax result's `detail` says it. */
export interface LineEnd {
  /** 'hangup': the far end ended the call; 'silence': nothing heard for too long; 'error': the transport failed. */
  reason: 'hangup' | 'silence' | 'error';
  /** The cause in words, for `detail` (e.g. "no RTP from 127.0.0.1:4000 for 10 s"). */
  detail: string;
}

/** Per-call statistics of a line, as `--json` prints them under `stats.line`. */
export type LineStats = Record<string, number | string | boolean | null>;

/**
 * One call's audio in both directions, 8 kHz signed 16-bit, in 160-sample (20 ms) frames.
 * Methods are called from one thread, once per tick each, read before write.
 */
export interface AudioLine {
  /** A short name for logs and `stats.line.kind`: 'rtp', 'audiosocket', 'impaired'. */
  readonly kind: string;
  /**
   * The next frame heard, for the tick at line time `nowMs` (ms since the line started).
   * Fills `heard` (160 samples) and returns true, or returns false when the frame is missing
   * (lost, late, not yet arrived): the terminal then runs SpanDSP's fill-in, never silence.
   */
  read(heard: Int16Array, nowMs: number): boolean;
  /** Sends one frame (160 samples) at line time `nowMs`. The line copies what it keeps. */
  write(frame: Int16Array, nowMs: number): void;
  /** Set once the line ended on its own side (peer hung up, went silent, socket failed). */
  readonly ended: LineEnd | null;
  /** Resolves when the line is ready to carry audio (socket bound, peer connected). */
  ready(): Promise<void>;
  /** Statistics so far. */
  stats(): LineStats;
  /** Releases the transport. Idempotent. */
  close(): Promise<void>;
}

/**
 * One call's T.38 in both directions: UDPTL datagrams (lib/transports/t38). Per 20 ms tick the
 * terminal takes every datagram that arrived since the last tick, then sends what it has.
 * Methods are called from one thread.
 */
export interface DatagramLine {
  /** A short name for logs and `stats.line.kind`: 'udptl', 'simulated-udptl'. */
  readonly kind: string;
  /**
   * Hands each datagram received since the last call to `deliver`, oldest first, at line time
   * `nowMs`. A datagram is valid only during its `deliver` call.
   */
  poll(deliver: (datagram: Uint8Array) => void, nowMs: number): void;
  /** Sends one datagram at line time `nowMs`. The line copies what it keeps. */
  send(datagram: Uint8Array, nowMs: number): void;
  /** Set once the line ended on its own side (peer hung up, went silent, socket failed). */
  readonly ended: LineEnd | null;
  /** Resolves when the line can carry datagrams (socket bound; the far end known or latched). */
  ready(): Promise<void>;
  /** Statistics so far (the socket's; UDPTL recovery figures come from the session). */
  stats(): LineStats;
  /** Releases the transport. Idempotent. */
  close(): Promise<void>;
}

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
