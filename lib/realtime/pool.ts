/**
 * FaxPool: fax calls placed on worker threads, each worker driving all of its calls from one
 * drift-free 20 ms tick (a SessionGroup). From the host's side a pooled call looks like a session:
 * the same events, `done`, `hangUp()`, an AbortSignal, the T.38 switch. A pool that is full, or whose
 * workers fall behind their tick, refuses new calls with a CapacityError rather than making every
 * call late; `drain()` takes no new calls and resolves when the last one ends.
 */
import { EventEmitter } from 'node:events';
import * as os from 'node:os';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { checkBoolean, checkInteger, checkNumber, checkObject, checkString } from '../base/checks';
import { CapacityError, FaxlineError, InvalidOptionError } from '../base/errors';
import type { FaxEvent } from '../engine/events';
import {
  checkT38Options,
  toNativeReceive,
  toNativeSend,
  type ReceiveOptions,
  type SendOptions,
  type T38Options,
} from '../engine/options';
import { failedBeforeStart, type FaxResult } from '../engine/result';
import { ResultCode } from '../base/result-codes';
import type { FaxSessionEvents } from '../engine/session';
import type { UdpEndpoint } from '../transports/udp-peer';
import type { FaxMedia, MediaControl, MediaOutcome } from '../transports/media';
import type { GroupStats } from './group';
import { PoolMetrics } from './metrics';
import type {
  FromWorker,
  PoolCallOptions,
  PoolLines,
  PoolLoopbackOptions,
  PoolOutcome,
  PoolStats,
  PoolWorkerData,
  ToWorker,
} from './pool-protocol';

export type { PoolCallOptions, PoolLines, PoolLoopbackOptions, PoolOutcome, PoolStats } from './pool-protocol';

/** Options of a FaxPool. */
export interface FaxPoolOptions {
  /** Worker threads (default: one per CPU core). */
  workers?: number;
  /** The most calls a worker carries; more are refused (default 2048). */
  maxCallsPerWorker?: number;
  /**
   * A worker whose share of late frames over the last statistics interval exceeds this is "behind"
   * and takes no new calls until it catches up (default 0.001: 0.1 % of frames).
   */
  maxLateFrameRatio?: number;
  /** Local UDP ports for lines that name none: an even port per line from this range (default 16384–32767). */
  ports?: { min: number; max: number };
  /** Where lines bind when they name no address (default 0.0.0.0). */
  bindHost?: string;
  /** How often workers report their statistics, ms (default 1000). */
  statsIntervalMs?: number;
  /** Real time (default true). False runs every call as fast as the CPU allows: for tests of the plumbing. */
  paced?: boolean;
}

const DEFAULT_MAX_CALLS = 2048;
const DEFAULT_PORTS = { min: 16384, max: 32767 };
/** Slots a worker's group has beyond its call limit: a loopback call takes two. */
const SLOTS_PER_CALL = 2;

/** A call placed on the pool: the session's events, its result, and the host's controls. */
export class PooledFax extends EventEmitter<FaxSessionEvents> {
  /** Resolves with the fax result (never rejects; a call that could not start fails with code 49). */
  readonly done: Promise<FaxResult>;
  /** Resolves with the result, the line time and the line's statistics. */
  readonly outcome: Promise<PoolOutcome>;
  /** The local address of each line, as the pool chose it (for SDP). */
  readonly local: { rtp?: UdpEndpoint; udptl?: UdpEndpoint };
  readonly #post: (message: ToWorker) => void;
  readonly #id: number;

  /** @internal Made by FaxPool. */
  constructor(id: number, local: PooledFax['local'], post: (message: ToWorker) => void, outcome: Promise<PoolOutcome>) {
    super();
    this.#id = id;
    this.local = local;
    this.#post = post;
    this.outcome = outcome;
    this.done = outcome.then((o) => o.result);
  }

  /** Hangs the call up (SpanDSP's call-dropped code unless the fax is over), `detail` saying why. */
  hangUp(detail = 'the call was hung up'): void {
    this.#post({ op: 'hangUp', id: this.#id, detail });
  }

  /** The far end accepted T.38 (or offered it): the call moves to its UDPTL line. */
  switchToT38(settings: T38Options = {}): void {
    this.#post({ op: 'switchToT38', id: this.#id, settings });
  }

  /** The far end refused our T.38 request: the call stays in audio. */
  t38Refused(detail = 'the far end refused T.38'): void {
    this.#post({ op: 't38Refused', id: this.#id, detail });
  }
}

/** One worker thread and what the pool knows of it. */
interface PoolWorker {
  index: number;
  worker: Worker;
  calls: number;
  behind: boolean;
  stats: GroupStats | null;
  heapBytes: number;
  /** The counters at the previous report, for the ratio over the last interval. */
  lastFrames: number;
  lastLateFrames: number;
}

/** A call in flight, as the pool tracks it. */
interface Pending {
  worker: PoolWorker;
  fax: PooledFax | null;
  ports: number[];
  direction: 'send' | 'receive' | 'loopback';
  resolve: (outcome: PoolOutcome) => void;
  resolveLoopback?: (result: { sender: FaxResult; receiver: FaxResult; durationMs: number }) => void;
  reject?: (error: Error) => void;
}

/** Fax calls on worker threads: see the file's comment. */
export class FaxPool {
  /** Prometheus metrics of the pool (a prom-client Registry the host can mount). */
  readonly metrics: PoolMetrics;
  readonly #workers: PoolWorker[] = [];
  readonly #calls = new Map<number, Pending>();
  readonly #maxCalls: number;
  readonly #maxLateRatio: number;
  readonly #ports: { min: number; max: number };
  readonly #bindHost: string;
  readonly #portsInUse = new Set<number>();
  #nextPort: number;
  #nextId = 1;
  #draining = false;
  #drained: (() => void) | null = null;
  #closed = false;

  constructor(options: FaxPoolOptions = {}) {
    checkObject(options, 'the pool options');
    const workers = checkInteger(options.workers ?? os.availableParallelism(), 'workers', 1, 256);
    this.#maxCalls = checkInteger(options.maxCallsPerWorker ?? DEFAULT_MAX_CALLS, 'maxCallsPerWorker', 1, 8192);
    this.#maxLateRatio = checkNumber(options.maxLateFrameRatio ?? 0.001, 'maxLateFrameRatio', 0, 1);
    const ports = checkObject<{ min: unknown; max: unknown }>(options.ports ?? DEFAULT_PORTS, 'ports');
    const min = checkInteger(ports.min, 'ports.min', 1024, 65534);
    const max = checkInteger(ports.max, 'ports.max', min + 1, 65535);
    this.#ports = { min, max };
    this.#nextPort = min + (min % 2);
    this.#bindHost = checkString(options.bindHost ?? '0.0.0.0', 'bindHost');
    const data: PoolWorkerData = {
      capacity: this.#maxCalls * SLOTS_PER_CALL,
      statsIntervalMs: checkInteger(options.statsIntervalMs ?? 1000, 'statsIntervalMs', 10, 60_000),
      paced: checkBoolean(options.paced ?? true, 'paced'),
    };
    this.metrics = new PoolMetrics(() => this.stats());
    for (let index = 0; index < workers; index++) this.#startWorker(index, data);
  }

  /** Calls in flight. */
  get active(): number {
    return this.#calls.size;
  }

  /** Whether the pool takes no new calls (see drain). */
  get draining(): boolean {
    return this.#draining;
  }

  /** Sends a fax (a TIFF-F `document`, as SendOptions) on the call's lines. Throws CapacityError when refused. */
  send(options: SendOptions & PoolCallOptions & { signal?: AbortSignal }): PooledFax {
    return this.#place('send', options);
  }

  /** Receives a fax into `receivedFile` on the call's lines. Throws CapacityError when refused. */
  receive(options: ReceiveOptions & PoolCallOptions & { signal?: AbortSignal }): PooledFax {
    return this.#place('receive', options);
  }

  /**
   * Both ends of a fax on one worker over an in-memory line (two channels): what the scale benchmark
   * runs, and a quick end-to-end check of a pool.
   */
  loopback(options: PoolLoopbackOptions): Promise<{ sender: FaxResult; receiver: FaxResult; durationMs: number }> {
    const worker = this.#pick(2);
    const id = this.#nextId++;
    return new Promise((resolveLoopback, reject) => {
      this.#calls.set(id, {
        worker,
        fax: null,
        ports: [],
        direction: 'loopback',
        resolve: () => undefined,
        resolveLoopback,
        reject,
      });
      this.#busy(worker, 2);
      this.metrics.started('send');
      this.metrics.started('receive');
      worker.worker.postMessage({ op: 'loopback', id, loopback: options } satisfies ToWorker);
    });
  }

  /** A FaxMedia for sendFax/receiveFax (SWML) whose call runs on this pool. */
  media(call: PoolCallOptions): FaxMedia {
    return new PoolMedia(this, call);
  }

  /** Takes no new calls from now on; resolves when the last call in flight has ended. */
  drain(): Promise<void> {
    this.#draining = true;
    this.metrics.setDraining(true);
    if (this.#calls.size === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const previous = this.#drained;
      this.#drained = () => {
        previous?.();
        resolve();
      };
    });
  }

  /** The pool's figures now (what the metrics report). */
  stats(): PoolStats {
    return {
      draining: this.#draining,
      active: this.#calls.size,
      workers: this.#workers.map((w) => ({
        ...(w.stats ?? emptyStats()),
        worker: w.index,
        calls: w.calls,
        behind: w.behind,
        heapBytes: w.heapBytes,
      })),
    };
  }

  /** Stops the workers; calls still in flight are cut (drain first to let them finish). Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#draining = true;
    await Promise.all(
      this.#workers.map(async (w) => {
        w.worker.postMessage({ op: 'close' } satisfies ToWorker);
        await w.worker.terminate();
      }),
    );
    for (const [id, pending] of this.#calls) this.#fail(id, pending, 'the fax pool was closed');
  }

  #startWorker(index: number, data: PoolWorkerData): void {
    const entry = workerEntry();
    const worker = new Worker(entry.filename, { workerData: data, execArgv: entry.execArgv, env: entry.env });
    const w: PoolWorker = {
      index,
      worker,
      calls: 0,
      behind: false,
      stats: null,
      heapBytes: 0,
      lastFrames: 0,
      lastLateFrames: 0,
    };
    worker.on('message', (message: FromWorker) => this.#onMessage(w, message));
    worker.on('error', (error) => {
      for (const [id, pending] of this.#calls) {
        if (pending.worker === w) this.#fail(id, pending, `the pool's worker ${index} failed: ${error.message}`);
      }
    });
    worker.unref();
    this.#workers.push(w);
  }

  #place(
    direction: 'send' | 'receive',
    options: (SendOptions | ReceiveOptions) & PoolCallOptions & { signal?: AbortSignal },
  ): PooledFax {
    checkObject(options, 'options');
    const { lines, t38, t38Switch, timeLimitMs, readyTimeoutMs, signal, ...terminal } = options;
    if (typeof lines !== 'object' || lines === null || (!lines.rtp && !lines.udptl))
      throw new InvalidOptionError('Expected lines with rtp, udptl or both for a pooled call');
    // Checked here, as a FaxSession's constructor checks them: a bad option throws at the caller.
    if (direction === 'send') toNativeSend(terminal as SendOptions);
    else toNativeReceive(terminal as ReceiveOptions);
    if (t38 !== undefined) checkT38Options(t38);
    const worker = this.#pick(1);
    const id = this.#nextId++;
    const ports: number[] = [];
    const withPorts: PoolLines = {};
    if (lines.rtp) withPorts.rtp = { ...lines.rtp, local: this.#local(lines.rtp.local, ports) };
    if (lines.udptl) withPorts.udptl = { ...lines.udptl, local: this.#local(lines.udptl.local, ports) };
    const call: PoolCallOptions = { lines: withPorts, t38, t38Switch, timeLimitMs, readyTimeoutMs };
    const post = (message: ToWorker): void => {
      if (this.#calls.has(id)) worker.worker.postMessage(message);
    };
    let resolve!: (o: PoolOutcome) => void;
    const outcome = new Promise<PoolOutcome>((r) => (resolve = r));
    const fax = new PooledFax(id, { rtp: withPorts.rtp?.local, udptl: withPorts.udptl?.local }, post, outcome);
    this.#calls.set(id, { worker, fax, ports, direction, resolve });
    this.#busy(worker, 1);
    this.metrics.started(direction);
    worker.worker.postMessage({ op: direction, id, options: terminal as never, call } satisfies ToWorker);
    if (signal) {
      const onAbort = (): void => fax.hangUp('the call was cancelled');
      if (signal.aborted) onAbort();
      else {
        signal.addEventListener('abort', onAbort, { once: true });
        void outcome.then(() => signal.removeEventListener('abort', onAbort));
      }
    }
    return fax;
  }

  /** The least loaded worker that can take `channels` more, or a CapacityError saying why none can. */
  #pick(channels: number): PoolWorker {
    if (this.#closed || this.#draining) {
      this.metrics.refused('draining');
      throw new CapacityError('draining', 'The fax pool is draining: it takes no new calls');
    }
    let best: PoolWorker | null = null;
    let anyRoom = false;
    for (const w of this.#workers) {
      if (w.calls + channels > this.#maxCalls * SLOTS_PER_CALL || w.calls >= this.#maxCalls) continue;
      anyRoom = true;
      if (w.behind) continue;
      if (!best || w.calls < best.calls) best = w;
    }
    if (best) return best;
    const reason = anyRoom ? 'behind' : 'full';
    this.metrics.refused(reason);
    throw new CapacityError(
      reason,
      reason === 'full'
        ? `The fax pool is full (${this.#maxCalls} calls on each of ${this.#workers.length} workers)`
        : 'Every worker of the fax pool is behind its 20 ms tick: it takes no new calls until one catches up',
    );
  }

  /** `local` as given, or the bind host with the next free even port of the range. */
  #local(local: UdpEndpoint | undefined, ports: number[]): UdpEndpoint {
    if (local && local.port !== 0) return local;
    const { min, max } = this.#ports;
    const span = Math.floor((max - min) / 2) + 1;
    for (let tries = 0; tries < span; tries++) {
      const port = this.#nextPort;
      this.#nextPort += 2;
      if (this.#nextPort > max) this.#nextPort = min + (min % 2);
      if (this.#portsInUse.has(port)) continue;
      this.#portsInUse.add(port);
      ports.push(port);
      return { host: local?.host ?? this.#bindHost, port };
    }
    this.metrics.refused('full');
    throw new CapacityError('full', `No free port in the pool's range ${min}-${max}`);
  }

  #onMessage(w: PoolWorker, message: FromWorker): void {
    if (message.op === 'stats') {
      this.#onStats(w, message.stats, message.heapBytes);
      return;
    }
    const pending = this.#calls.get(message.id);
    if (!pending) return;
    const fax = pending.fax;
    switch (message.op) {
      case 'event':
        this.#emit(fax, message.event);
        break;
      case 't38-request':
        fax?.emit('t38-request', message.offer);
        break;
      case 't38-switched':
        fax?.emit('t38-switched', message.settings);
        break;
      case 't38-refused':
        fax?.emit('t38-refused', { reason: message.reason, detail: message.detail });
        break;
      case 'done':
        this.#end(message.id, pending);
        this.metrics.finished(pending.direction as 'send' | 'receive', message.outcome.result);
        pending.resolve(message.outcome);
        break;
      case 'loopback-done':
        this.#end(message.id, pending);
        this.metrics.finished('send', message.sender);
        this.metrics.finished('receive', message.receiver);
        pending.resolveLoopback?.({
          sender: message.sender,
          receiver: message.receiver,
          durationMs: message.durationMs,
        });
        break;
      case 'failed':
        this.#fail(message.id, pending, message.message, message.name, message.code);
        break;
    }
  }

  #emit(fax: PooledFax | null, event: FaxEvent): void {
    if (!fax) return;
    fax.emit(event.type, event as never);
    fax.emit('event', event);
  }

  #onStats(w: PoolWorker, stats: GroupStats, heapBytes: number): void {
    const frames = stats.frames - w.lastFrames;
    const late = stats.lateFrames - w.lastLateFrames;
    w.lastFrames = stats.frames;
    w.lastLateFrames = stats.lateFrames;
    w.behind = frames > 0 && late / frames > this.#maxLateRatio;
    this.metrics.observe(w.index, late, frames);
    w.stats = stats;
    w.heapBytes = heapBytes;
  }

  /**
   * Counts `channels` more on a worker. A worker with calls keeps the process alive, as a socket
   * does; an idle one does not, so a pool never holds a finished program open.
   */
  #busy(w: PoolWorker, channels: number): void {
    if (w.calls === 0) w.worker.ref();
    w.calls += channels;
  }

  /** Forgets a call that ended: its worker's count, its ports, and the drain it may complete. */
  #end(id: number, pending: Pending): void {
    this.#calls.delete(id);
    const w = pending.worker;
    w.calls -= pending.direction === 'loopback' ? 2 : 1;
    if (w.calls === 0) w.worker.unref();
    for (const port of pending.ports) this.#portsInUse.delete(port);
    if (this.#draining && this.#calls.size === 0) {
      const drained = this.#drained;
      this.#drained = null;
      drained?.();
    }
  }

  /** A call that could not run (its lines failed to open, the worker died): it fails as a dropped call. */
  #fail(id: number, pending: Pending, message: string, name = 'Error', code?: string): void {
    this.#end(id, pending);
    if (pending.reject) {
      const error = code ? new FaxlineError(code, message) : new Error(message);
      error.name = name;
      pending.reject(error);
      return;
    }
    const result = failedBeforeStart(ResultCode.CALL_DROPPED, message);
    this.metrics.finished(pending.direction as 'send' | 'receive', result);
    this.#emit(pending.fax, { type: 'finished', timeMs: 0, result });
    pending.resolve({ result, durationMs: 0 });
  }
}

/** A SWML medium whose call runs on a FaxPool (see FaxPool.media). */
class PoolMedia implements FaxMedia {
  readonly kind = 'pool';
  readonly #pool: FaxPool;
  readonly #call: PoolCallOptions;
  #fax: PooledFax | null = null;

  constructor(pool: FaxPool, call: PoolCallOptions) {
    this.#pool = pool;
    this.#call = call;
  }

  send(options: SendOptions, control: MediaControl): Promise<MediaOutcome> {
    return this.#run(this.#pool.send({ ...options, ...this.#call, signal: control.signal }), control);
  }

  receive(options: ReceiveOptions, control: MediaControl): Promise<MediaOutcome> {
    return this.#run(this.#pool.receive({ ...options, ...this.#call, signal: control.signal }), control);
  }

  end(): void {
    this.#fax?.hangUp('the fax operation ended');
  }

  async #run(fax: PooledFax, control: MediaControl): Promise<MediaOutcome> {
    this.#fax = fax;
    fax.on('event', control.onEvent);
    return fax.outcome;
  }
}

function emptyStats(): GroupStats {
  return {
    active: 0,
    ticks: 0,
    lateTicks: 0,
    lateFrames: 0,
    frames: 0,
    lastLatenessMs: 0,
    busyMs: 0,
    droppedDatagrams: 0,
  };
}

/** Where the worker's code is: compiled, or the TypeScript source under ts-node (tests, the bench). */
function workerEntry(): { filename: string; execArgv?: string[]; env?: NodeJS.ProcessEnv } {
  if (path.extname(__filename) !== '.ts') return { filename: path.join(__dirname, 'pool-worker.js') };
  return {
    filename: path.join(__dirname, 'pool-worker.ts'),
    execArgv: ['--require', require.resolve('ts-node/register/transpile-only')],
    env: { ...process.env, TS_NODE_PROJECT: path.resolve(__dirname, '..', '..', 'tsconfig.json') },
  };
}
