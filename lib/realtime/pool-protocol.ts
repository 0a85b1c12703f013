/**
 * What a FaxPool and its workers say to each other. Everything here crosses postMessage, so it is
 * plain data: lines are described, not made (each worker makes its own sockets).
 */
import type { FaxEvent } from '../engine/events';
import type { ReceiveOptions, SendOptions, T38Options } from '../engine/options';
import type { FaxResult } from '../engine/result';
import type { T38SwitchOptions } from '../engine/session';
import type { G711Law } from '../transports/g711';
import type { LineStats } from '../transports/line';
import type { UdpEndpoint } from '../transports/udp-peer';
import type { GroupStats } from './group';

/** An RTP/G.711 line a worker opens (see RtpLineOptions). */
export interface PoolRtpLine {
  /** Where to bind; the pool picks a port from its range when the port is 0 or this is omitted. */
  local?: UdpEndpoint;
  /** Where to send; omitted: latch onto the first valid packet's source. */
  remote?: UdpEndpoint;
  codec?: G711Law;
  symmetric?: boolean;
  redundancy?: { payloadType: number; depth: number };
  playoutDelayMs?: number;
  silenceTimeoutMs?: number;
}

/** A UDPTL (T.38) line a worker opens (see UdptlLineOptions). */
export interface PoolUdptlLine {
  local?: UdpEndpoint;
  remote?: UdpEndpoint;
  symmetric?: boolean;
  silenceTimeoutMs?: number;
  maxDatagramBytes?: number;
}

/** The lines of one pooled call: audio, T.38, or both (audio that may switch to T.38). */
export interface PoolLines {
  rtp?: PoolRtpLine;
  udptl?: PoolUdptlLine;
}

/** How a pooled call runs, beside its terminal's options. */
export interface PoolCallOptions {
  lines: PoolLines;
  /** On a UDPTL line alone: the T.38 settings the far end accepted. */
  t38?: T38Options;
  /** With both lines: how the call may move to T.38 (the host answers `t38-request`). */
  t38Switch?: T38SwitchOptions;
  /** Bound on line time without a page getting through, from the start and then from each page (default four hours). */
  timeLimitMs?: number;
  /** How long to wait for the lines to be ready, ms (default 60 000). */
  readyTimeoutMs?: number;
}

/** Two ends of a fax in one worker over an in-memory line (a direct wire, or UDPTL): the benchmark's unit (two channels). */
export interface PoolLoopbackOptions {
  sender: SendOptions;
  receiver: ReceiveOptions;
  /** Run it over T.38 (in-memory UDPTL) instead of audio. */
  t38?: boolean;
  timeLimitMs?: number;
}

/** What a pooled call hands back, as MediaOutcome does. */
export interface PoolOutcome {
  result: FaxResult;
  durationMs: number;
  line?: LineStats;
}

export type ToWorker =
  | { op: 'send'; id: number; options: SendOptions; call: PoolCallOptions }
  | { op: 'receive'; id: number; options: ReceiveOptions; call: PoolCallOptions }
  | { op: 'loopback'; id: number; loopback: PoolLoopbackOptions }
  | { op: 'hangUp'; id: number; detail: string }
  | { op: 'switchToT38'; id: number; settings: T38Options }
  | { op: 't38Refused'; id: number; detail: string }
  | { op: 'close' };

export type FromWorker =
  | { op: 'event'; id: number; event: FaxEvent }
  | { op: 't38-request'; id: number; offer: Required<T38Options> }
  | { op: 't38-switched'; id: number; settings: Required<T38Options> }
  | { op: 't38-refused'; id: number; reason: 'refused' | 'timeout'; detail: string }
  | { op: 'done'; id: number; outcome: PoolOutcome }
  | { op: 'loopback-done'; id: number; sender: FaxResult; receiver: FaxResult; durationMs: number }
  | { op: 'failed'; id: number; name: string; code?: string; message: string }
  | { op: 'stats'; stats: GroupStats; heapBytes: number };

/** What a worker is started with. */
export interface PoolWorkerData {
  /** Slots of the worker's group. */
  capacity: number;
  /** How often the worker reports its statistics, ms. */
  statsIntervalMs: number;
  /** Real time (true) or as fast as the CPU allows (tests of the pool's plumbing only). */
  paced: boolean;
}

/** The pool's figures now: per worker, and the whole. */
export interface PoolStats {
  draining: boolean;
  active: number;
  workers: (GroupStats & { worker: number; calls: number; behind: boolean; heapBytes: number })[];
}
