/**
 * FaxSession: one end of a fax call, driven by its host's audio frames. Time advances only by
 * the samples fed in, so the same session runs paced by a live 20 ms line or as fast as the
 * CPU allows.
 */
import { EventEmitter } from 'node:events';
import {
  native,
  type NativeDatagramPort,
  type NativeFaxSession,
  type NativeFrameLine,
  type NativeUdptlStats,
} from '../native';
import { checkBoolean, checkObject, checkPositive, describeType, invalidOption } from '../base/checks';
import { InvalidOptionError, SessionClosedError, rethrowNative } from '../base/errors';
import {
  toFaxEvent,
  type FaxEvent,
  type FinishedEvent,
  type FrameEvent,
  type NegotiatedEvent,
  type PageEvent,
} from './events';
import {
  checkT38Options,
  toNativeReceive,
  toNativeSend,
  toNativeT38,
  type ReceiveOptions,
  type SendOptions,
  type T38Options,
} from './options';
import { DOCUMENT_COMPLETE_DETAIL, EndOfDocumentWatch } from './end-of-document';
import { ResultCode, resultText } from '../base/result-codes';
import { toResult, type FaxResult } from './result';

/** Audio format of every session: 8 kHz signed 16-bit linear PCM. */
export const SAMPLE_RATE = native.constants.SAMPLE_RATE;
/** Samples in one 20 ms frame. */
export const SAMPLES_PER_FRAME = native.constants.SAMPLES_PER_FRAME;
/** Line time a terminal has to finish after it sent DCN (the frame itself takes about 1.5 s). */
const AFTER_DCN_MS = 5_000;
/** Line time a receiver has to finish after the last frame of a complete document (T.30's T2 is 6 s). */
const AFTER_DOCUMENT_MS = 15_000;

/** Line time the host has by default to report the far end's answer to a T.38 request. */
export const T38_ANSWER_TIMEOUT_MS = 10_000;
/** The largest UDPTL datagram a session sends or takes, bytes. */
const MAX_DATAGRAM = native.constants.UDPTL_MAX_DATAGRAM;

/** UDPTL statistics of a T.38 session: datagrams sent and received, IFPs recovered and lost. */
export type UdptlStats = NativeUdptlStats;

/**
 * How an audio session moves to T.38 (a re-INVITE in SIP). The session says when to ask
 * (`t38-request`); the host tells it what the far end did (`switchToT38`, `t38Refused`).
 */
export interface T38SwitchOptions {
  /**
   * Ask for T.38 at the start of the call (a sender as it sends CNG, a receiver as it sends CED):
   * the session emits `t38-request` on its first frame. Default false: only the far end's offer
   * (`switchToT38`) switches.
   */
  request?: boolean;
  /** What we offer (default: T38_DEFAULTS). */
  offer?: T38Options;
  /** Line time the host has to report the answer before the call stays in audio (default 10 s). */
  answerTimeoutMs?: number;
}

/**
 * What a SessionGroup (lib/realtime) needs of a session it drives: the native terminal to put in
 * a slot, and the step after each group tick. Not part of the public API.
 */
export interface GroupSide {
  readonly native: NativeFaxSession;
  /** The group advanced the session by one 20 ms frame; `events`: it has events waiting. */
  afterTick(events: boolean): void;
}

/** The key of FaxSession's GroupSide (a symbol, so it stays off the public surface). */
export const groupSide: unique symbol = Symbol('faxline.groupSide');

/** Options of a FaxSession: a sending or a receiving terminal. */
export type FaxSessionOptions = (
  ({ direction: 'send' } & SendOptions) | ({ direction: 'receive' } & ReceiveOptions)
) & {
  /** Aborting hangs up: the fax ends with SpanDSP's call-dropped code. */
  signal?: AbortSignal;
  /** A T.38 terminal from the start (UDPTL datagrams instead of audio frames). */
  t38?: T38Options;
  /** An audio terminal that may move to T.38 during the call. */
  t38Switch?: T38SwitchOptions;
};

/** Why an audio session stayed in audio after asking for T.38. */
export interface T38Refusal {
  /** 'refused': the far end said no (488, 415, …); 'timeout': no answer in time. */
  reason: 'refused' | 'timeout';
  detail: string;
}

/** The events a FaxSession emits, with their listener signatures. */
export interface FaxSessionEvents {
  negotiated: [NegotiatedEvent];
  page: [PageEvent];
  frame: [FrameEvent];
  finished: [FinishedEvent];
  /** Every event above, in order. */
  event: [FaxEvent];
  /** Ask the far end for T.38 now with this offer, then call switchToT38 or t38Refused. */
  't38-request': [Required<T38Options>];
  /** The session now runs T.38 with these settings: carry UDPTL datagrams from the next tick. */
  't38-switched': [Required<T38Options>];
  /** The session stays in audio: the far end refused or did not answer in time. */
  't38-refused': [T38Refusal];
}

/**
 * A fax terminal over audio. Per 20 ms frame, call `process(received, transmit)`: it feeds the
 * frame heard from the line and fills `transmit` with the frame to send. Events are emitted
 * synchronously from those calls, after the native work of the call, in order: a listener that
 * calls back into the session (`hangUp()`, `switchToT38()`) has its own events delivered after
 * the ones already being delivered. In a SessionGroup the group ticks the session, and its
 * events come after the group's tick. Close it when done (idempotent).
 *
 * @example
 * const session = new FaxSession({ direction: 'send', document: 'fax.tif' });
 * const out = new Int16Array(SAMPLES_PER_FRAME);
 * onLineFrame((heard) => { session.process(heard, out); line.write(out); });
 * const result = await session.done;
 */
export class FaxSession extends EventEmitter<FaxSessionEvents> {
  /** Resolves with the result when the call is over (never rejects). */
  readonly done: Promise<FaxResult>;
  readonly direction: 'send' | 'receive';

  #native: NativeFaxSession | null;
  #frames: NativeFrameLine | null = null;
  #port: NativeDatagramPort | null = null;
  /** Views of the outbox's datagrams, kept between ticks (see tick). */
  #outboxViews: Uint8Array[] = [];
  /** The T.38 settings in force, or null while in audio. */
  #t38: Required<T38Options> | null = null;
  /** Received datagrams longer than any UDPTL datagram, dropped before the addon. */
  #oversized = 0;
  /** An audio session's T.38 switch: what it offers, and where the request stands. */
  #switch: SwitchState | null = null;
  #result: FaxResult | null = null;
  #resolveDone!: (result: FaxResult) => void;
  #signal: AbortSignal | undefined;
  #onAbort = (): void => this.hangUp();
  #iterators = new Set<(event: FaxEvent | null) => void>();
  /** Why the host hung up, for the result's detail when the hang-up is what ended the fax. */
  #hangUpDetail = '';
  /** Receiving only: SpanDSP 0.0.6's end-of-document quirks (see end-of-document.ts). */
  #endOfDocument: EndOfDocumentWatch | null = null;
  /** Line time fed so far, in samples (kept here so the per-frame check needs no native call). */
  #samples = 0;
  /** When T.30 is over but SpanDSP has not finished, the sample by which it is hung up; else -1. */
  #overBySample = -1;
  /** Whether events are being delivered now (a listener calling back in must not overtake them). */
  #draining = false;
  /** Events arrived while delivering: deliver them after the current ones. */
  #drainAgain = false;

  constructor(options: FaxSessionOptions) {
    super();
    checkObject(options, 'options');
    this.direction = options.direction;
    if (options.direction === 'receive') this.#endOfDocument = new EndOfDocumentWatch();
    let nativeOptions;
    if (options.direction === 'send') nativeOptions = toNativeSend(options);
    else if (options.direction === 'receive') nativeOptions = toNativeReceive(options);
    else
      throw new InvalidOptionError(
        `direction must be 'send' or 'receive'; got ${JSON.stringify((options as { direction: unknown }).direction)}`,
      );
    if (options.t38 !== undefined) {
      if (options.t38Switch !== undefined)
        throw new InvalidOptionError(
          't38 (a T.38 session) and t38Switch (an audio one that may switch) exclude each other',
        );
      this.#t38 = checkT38Options(options.t38);
      nativeOptions.t38 = toNativeT38(this.#t38);
    }
    if (options.t38Switch !== undefined) this.#switch = checkSwitch(options.t38Switch);
    try {
      this.#native = new native.FaxSession(nativeOptions);
    } catch (error) {
      rethrowNative(error);
    }
    this.done = new Promise((resolve) => (this.#resolveDone = resolve));
    this.#signal = options.signal;
    if (this.#signal) {
      if (this.#signal.aborted) queueMicrotask(this.#onAbort);
      else this.#signal.addEventListener('abort', this.#onAbort, { once: true });
    }
    // A document that cannot be sent finishes the session at once; report it on the next tick
    // so listeners attached after construction still hear it.
    if (this.#native.finished()) queueMicrotask(() => this.#drain());
  }

  /** 'audio', or 't38' for a T.38 session and an audio one after its switch. */
  get medium(): 'audio' | 't38' {
    return this.#t38 ? 't38' : 'audio';
  }

  /** The T.38 settings in force, or null in audio. */
  get t38(): Required<T38Options> | null {
    return this.#t38;
  }

  /**
   * T.38: advances `samples` of line time (default one 20 ms frame) and hands each UDPTL
   * datagram to send to `send`. A datagram is valid only during its `send` call.
   */
  tick(send: (datagram: Uint8Array) => void, samples: number = SAMPLES_PER_FRAME): void {
    const port = this.#datagramPort();
    const ticked = port.tick(samples);
    const count = ticked & 0xffff;
    const { lengths } = port;
    const views = this.#outboxViews;
    for (let i = 0; i < count; i++) {
      // A view per outbox slot, made again only when the slot's length changes (rarely: IFPs of
      // one kind are one size), so a tick allocates nothing.
      let view = views[i];
      if (view === undefined || view.length !== lengths[i]) {
        view = port.outbox.subarray(i * MAX_DATAGRAM, i * MAX_DATAGRAM + lengths[i]!);
        views[i] = view;
      }
      send(view);
    }
    if (ticked > 0xffff) this.#drain();
    this.#advance(samples);
  }

  /** T.38: one UDPTL datagram received from the far end. Malformed ones are counted, never thrown. */
  receiveDatagram(datagram: Uint8Array): void {
    const port = this.#datagramPort();
    // As strict as a native call: set() would convert an array of numbers, not refuse it.
    if (!(datagram instanceof Uint8Array)) throw invalidOption('a Uint8Array', 'the datagram', describeType(datagram));
    if (datagram.length > port.inbound.length) {
      this.#oversized++;
      return;
    }
    port.inbound.set(datagram);
    if (port.receive(datagram.length) > 0) this.#drain();
  }

  /** UDPTL statistics (null in audio). */
  udptlStats(): UdptlStats | null {
    const stats = this.#open().udptlStats();
    return stats && { ...stats, malformed: stats.malformed + this.#oversized };
  }

  /**
   * Moves an audio session to T.38 with the settings the far end accepted (it answered our
   * request, or offered T.38 itself): T.30 restarts in T.38 mode. Returns false, changing nothing,
   * when the session already runs T.38 (a repeated offer, e.g. a session refresh, keeps the
   * UDPTL sequence and the fax) or the fax is over.
   */
  switchToT38(settings: T38Options = {}): boolean {
    const session = this.#open();
    const checked = checkT38Options({ ...(this.#switch?.offer ?? {}), ...settings });
    if (this.#t38 || this.#result) return false;
    try {
      session.switchToT38(toNativeT38(checked));
    } catch (error) {
      rethrowNative(error);
    }
    this.#t38 = checked;
    this.#frames = null;
    this.#port = null;
    this.#outboxViews = [];
    if (this.#switch) this.#switch.state = 'idle';
    this.emit('t38-switched', checked);
    this.#drain();
    return true;
  }

  /** The far end refused our T.38 request: the call stays in audio. */
  t38Refused(detail = 'the far end refused T.38'): void {
    if (this.#switch?.state !== 'requested' || this.#t38) return;
    this.#refuse({ reason: 'refused', detail });
  }

  #refuse(refusal: T38Refusal): void {
    this.#switch!.state = 'refused';
    this.emit('t38-refused', refusal);
  }

  /** Feeds one batch of received audio (or `null` for a lost batch) and fills `transmit`. */
  process(received: Int16Array | null, transmit: Int16Array): void {
    const session = this.#open();
    // As strict as the native call: set() would convert a Float32Array, not refuse it.
    if (!(transmit instanceof Int16Array)) throw notInt16('transmit', transmit);
    if (received !== null && !(received instanceof Int16Array)) throw notInt16('received', received);
    let pending: number;
    // A single 20 ms frame, the real-time case, goes through buffers shared with the addon:
    // copying 320 bytes each way costs less than N-API checking two typed arrays.
    if (transmit.length === SAMPLES_PER_FRAME && (received === null || received.length === SAMPLES_PER_FRAME)) {
      const line = (this.#frames ??= session.frameBuffers());
      if (received === null) {
        pending = line.processLost();
      } else {
        line.received.set(received);
        pending = line.process();
      }
      transmit.set(line.transmit);
    } else {
      try {
        pending = session.process(received, transmit);
      } catch (error) {
        rethrowNative(error);
      }
    }
    this.#afterFrame(pending > 0, transmit.length);
  }

  /** What follows every audio frame, fed by the host or by a group: events, the clock, a T.38 request. */
  #afterFrame(events: boolean, samples: number): void {
    if (events) this.#drain();
    this.#advance(samples);
    // After the frame: a host that switches from inside its listener does so between frames.
    if (this.#switch?.request && !this.#t38 && !this.#result) this.#requestT38();
  }

  /** The SessionGroup's hold on this session (see GroupSide). */
  [groupSide](): GroupSide {
    const native = this.#open();
    return {
      native,
      afterTick: (events) => {
        if (this.#native) this.#afterFrame(events, SAMPLES_PER_FRAME);
      },
    };
  }

  /** Feeds received line audio. */
  receive(samples: Int16Array): void {
    if (this.#open().receive(samples) > 0) this.#drain();
    this.#advance(samples.length);
  }

  /** Tells the modems `count` samples were lost (e.g. a missing RTP packet). */
  receiveMissing(count: number): void {
    if (this.#open().receiveMissing(count) > 0) this.#drain();
    this.#advance(count);
  }

  /** Fills `out` with line audio to send. */
  transmit(out: Int16Array): void {
    if (this.#open().transmit(out) > 0) this.#drain();
  }

  /**
   * Ends the call as a hang-up would (SpanDSP's call-dropped code unless the fax already ended).
   * `detail` says why, in the result, when this hang-up is what ended the fax. Safe to call at
   * any time before close, also from an event listener.
   */
  hangUp(detail = ''): void {
    if (!this.#native) return;
    if (!this.#result && !this.#hangUpDetail) this.#hangUpDetail = detail;
    this.#native.hangUp();
    this.#drain();
  }

  /** Releases the terminal. Idempotent; a call still running is hung up first. */
  close(): void {
    if (!this.#native) return;
    this.hangUp();
    this.#native.close();
    this.#native = null;
    this.#frames = null;
    this.#port = null;
    this.#signal?.removeEventListener('abort', this.#onAbort);
    for (const wake of this.#iterators) wake(null);
  }

  /** Whether close() was called. */
  get closed(): boolean {
    return this.#native === null;
  }

  /** Whether the call is over. */
  get finished(): boolean {
    return this.#result !== null;
  }

  /** The result once finished, else null. */
  get result(): FaxResult | null {
    return this.#result;
  }

  /** Line time fed so far, in milliseconds. */
  get elapsedMs(): number {
    return this.#open().elapsedMs();
  }

  /** Iterates over the session's events until it finishes or closes. */
  async *events(): AsyncGenerator<FaxEvent> {
    const queue: FaxEvent[] = [];
    let wake: ((e: FaxEvent | null) => void) | null = null;
    let ended = this.closed || this.finished;
    const push = (e: FaxEvent | null): void => {
      if (e === null || e.type === 'finished') ended = true;
      if (e) queue.push(e);
      wake?.(e);
    };
    this.#iterators.add(push);
    try {
      for (;;) {
        while (queue.length > 0) yield queue.shift()!;
        if (ended) return;
        await new Promise<FaxEvent | null>((resolve) => (wake = resolve));
        wake = null;
      }
    } finally {
      this.#iterators.delete(push);
    }
  }

  #open(): NativeFaxSession {
    if (!this.#native) throw new SessionClosedError();
    return this.#native;
  }

  #datagramPort(): NativeDatagramPort {
    const session = this.#open();
    if (!this.#t38) throw new InvalidOptionError('This fax session runs on audio; T.38 datagrams need a T.38 session');
    return (this.#port ??= session.datagramBuffers());
  }

  #requestT38(): void {
    const sw = this.#switch!;
    sw.state = 'requested';
    sw.request = false;
    sw.requestedAtSample = this.#samples;
    this.emit('t38-request', sw.offer);
  }

  /**
   * Counts line time, and hangs up a terminal whose T.30 call is over but which SpanDSP 0.0.6
   * does not finish: after our DCN on a line of noise it waits for the carrier to drop; after a
   * complete document whose DCN was lost it waits for ever. Its own code stands.
   */
  #advance(samples: number): void {
    this.#samples += samples;
    const sw = this.#switch;
    if (sw?.state === 'requested' && !this.#t38 && this.#samples - sw.requestedAtSample >= sw.timeoutSamples) {
      this.#refuse({
        reason: 'timeout',
        detail: `the far end did not answer the T.38 request within ${sw.timeoutSamples / SAMPLE_RATE} s`,
      });
    }
    if (this.#overBySample >= 0 && this.#samples >= this.#overBySample && !this.#result) {
      this.hangUp('the T.30 call was over but the terminal did not finish');
    }
  }

  /** Notes a frame that ends the T.30 call (our DCN, or the confirmed end of a received document). */
  #noteCallOver(frame: FrameEvent): void {
    const atSample = Math.round((frame.timeMs * SAMPLE_RATE) / 1000);
    if (frame.direction === 'sent' && frame.name === 'DCN') {
      this.#overBySample = atSample + AFTER_DCN_MS * (SAMPLE_RATE / 1000);
    } else if (this.#endOfDocument?.complete) {
      // The sender's DCN should follow at once; a lost MCF costs it up to three EOPs first.
      this.#overBySample = atSample + AFTER_DOCUMENT_MS * (SAMPLE_RATE / 1000);
    }
  }

  #drain(): void {
    if (!this.#native) return;
    if (this.#draining) {
      this.#drainAgain = true;
      return;
    }
    this.#draining = true;
    try {
      do {
        this.#drainAgain = false;
        this.#deliverPending();
      } while (this.#drainAgain && this.#native);
    } finally {
      this.#draining = false;
    }
  }

  /** Delivers the events waiting in the addon, in order; see #drain for listeners that call back in. */
  #deliverPending(): void {
    if (!this.#native) return;
    let restartedAfterDocument = false;
    for (const raw of this.#native.takeEvents()) {
      let event: FaxEvent;
      if (raw.type === 'finished') {
        const result = this.#finalResult(toResult(this.#native.result()!));
        this.#result = result;
        event = { type: 'finished', timeMs: raw.timeMs, result };
      } else {
        event = toFaxEvent(raw);
        if (event.type === 'frame') {
          if (this.#endOfDocument?.onFrame(event) === 'hang-up') restartedAfterDocument = true;
          this.#noteCallOver(event);
        }
      }
      for (const push of this.#iterators) push(event);
      this.emit(event.type, event as never);
      this.emit('event', event);
      if (event.type === 'finished') this.#resolveDone(event.result);
    }
    // Not from inside the loop: the hang-up's finished event must come last.
    if (restartedAfterDocument && !this.#result) {
      this.#native.hangUp();
      this.#drainAgain = true;
    }
  }

  /** The result as SpanDSP gave it, with what the host or the end-of-document watch know besides. */
  #finalResult(result: FaxResult): FaxResult {
    if (!result.success && this.#endOfDocument?.complete) {
      return {
        ...result,
        code: ResultCode.OK,
        text: resultText(ResultCode.OK),
        success: true,
        detail: DOCUMENT_COMPLETE_DETAIL,
      };
    }
    if (result.code === ResultCode.CALL_DROPPED && !result.detail && this.#hangUpDetail) {
      return { ...result, detail: this.#hangUpDetail };
    }
    return result;
  }
}

/** The error for a frame buffer that is not an Int16Array. */
function notInt16(what: string, got: unknown): InvalidOptionError {
  return invalidOption('an Int16Array', what, describeType(got));
}

/** Where an audio session's T.38 switch stands. */
interface SwitchState {
  offer: Required<T38Options>;
  /** Whether to ask on the first frame (cleared once asked). */
  request: boolean;
  timeoutSamples: number;
  state: 'idle' | 'requested' | 'refused';
  requestedAtSample: number;
}

function checkSwitch(o: T38SwitchOptions): SwitchState {
  checkObject(o, 't38Switch');
  if (o.request !== undefined) checkBoolean(o.request, 't38Switch.request');
  const timeoutMs = checkPositive(o.answerTimeoutMs ?? T38_ANSWER_TIMEOUT_MS, 't38Switch.answerTimeoutMs');
  return {
    offer: checkT38Options(o.offer ?? {}),
    request: o.request ?? false,
    timeoutSamples: Math.round((timeoutMs * SAMPLE_RATE) / 1000),
    state: 'idle',
    requestedAtSample: 0,
  };
}
