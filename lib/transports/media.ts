/**
 * The media a fax runs over, as one small interface: the built-in loopback here, PCM frames
 * from a media server in pcm.ts, and the lines of line-media.ts (RTP/G.711, AudioSocket, T.38
 * over UDPTL). sendFax prepares the document and hands the medium a sending terminal's
 * options; the medium runs the call and reports events.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { InvalidOptionError } from '../engine/errors';
import type { FaxEvent } from '../engine/events';
import { readReceived, runLoopback, type LoopbackCall, type LoopbackOptions } from '../engine/loopback';
import { toNativeReceive, type ReceiveOptions, type SendOptions, type T38Options } from '../engine/options';
import type { FaxResult } from '../engine/result';
import { withTempDir } from '../engine/temp-dir';
import { runSimulatedCall, type SimulatedT38Switch } from './impaired-line';
import type { G711Law } from './g711';
import { defaultLineSpec, type LineSpec } from './impairments';
import type { LineStats } from './line';

/** What a medium hands back when the call is over. */
export interface MediaOutcome {
  /** Our terminal's result (the sending one for send, the receiving one for receive). */
  result: FaxResult;
  /** Line time of the call, ms. */
  durationMs: number;
  /** The line's own statistics (RTP packets, jitter, …), when the medium has a line. */
  line?: LineStats;
}

/** How sendFax drives a medium. */
export interface MediaControl {
  /** Aborting hangs up: the fax ends with SpanDSP's call-dropped code. */
  signal?: AbortSignal;
  /** Every event of our terminal, in order (live, or replayed before `send`/`receive` resolves). */
  onEvent(event: FaxEvent): void;
}

/**
 * A medium carries one fax operation: `send` once (when the document is ready) or `receive`
 * once, then `end` once, also when the fax failed before `send` (a bad document), so the
 * medium can release its line.
 */
export interface FaxMedia {
  /** A short name: 'loopback', 'pcm', … */
  readonly kind: string;
  /** Aborted when the call ends on the medium's side (the far end hung up). */
  readonly signal?: AbortSignal;
  /** Runs a sending terminal until the call is over. Never rejects for a failed fax. */
  send(options: SendOptions, control: MediaControl): Promise<MediaOutcome>;
  /**
   * Runs a receiving terminal until the call is over, its pages written to
   * `options.receivedFile`. Never rejects for a failed fax.
   */
  receive(options: ReceiveOptions, control: MediaControl): Promise<MediaOutcome>;
  /** The fax operation is over; release the line. Idempotent. */
  end(): void;
}

/** Options of the loopback medium: the built-in receiver (for send), the built-in sender (for receive), and the line. */
export interface LoopbackMediaOptions {
  /** The receiving terminal for `send` (default: identity "", ECM on, every modem and compression). */
  receiver?: LoopbackOptions['receiver'];
  /**
   * The sending terminal for `receive`: the TIFF-F file it sends and its T.30 settings. A
   * loopback without it cannot receive.
   */
  sender?: SendOptions;
  /** Both sides hang up at this point of the call (ms of line time): "the call ended". */
  hangUpAtMs?: number;
  /** Upper bound on line time (default four hours); a fax it ends says so in `detail`. */
  timeLimitMs?: number;
  /** Keep the line audio of both directions (unpaced only). */
  recordAudio?: boolean;
  /**
   * Run at real time, one frame per 20 ms, with events as they happen (two FaxSessions on
   * this thread, over the simulated RTP line). Default false: as fast as the CPU allows.
   */
  paced?: boolean;
  /**
   * A bad line between the two ends (loss, jitter, noise, …; lib/transports/impairments.ts):
   * the call then runs on this thread through the real RTP path (G.711, packetiser, jitter
   * buffer with SpanDSP's fill-in) with the simulator on each sending side.
   */
  line?: LineSpec;
  /** The simulated line's G.711 law (paced or `line` only; default 'pcmu'). */
  codec?: G711Law;
  /** RFC 2198 redundant copies per packet on the simulated line (paced or `line` only; default 0). */
  redundancy?: number;
  /**
   * Both ends run T.38 over simulated UDPTL (with `line`'s loss, jitter, … on the datagrams), on
   * this thread.
   */
  t38?: T38Options;
  /** Both ends start in audio and one asks to switch to T.38; the simulated signalling answers. */
  t38Switch?: SimulatedT38Switch;
}

/** A plain description of the loopback medium, as `call.media` accepts it. */
export type LoopbackMediaSpec = { kind: 'loopback' } & LoopbackMediaOptions;

/**
 * The built-in far end on a loopback line: a receiver for `send`, or the sender given as
 * `sender` for `receive`. After either, `call` holds the whole call (both results and event
 * lists, the pages the receiver got, its TIFF-F file, the line audio when recorded).
 */
export class LoopbackMedia implements FaxMedia {
  readonly kind = 'loopback';
  readonly options: LoopbackMediaOptions;
  /** The whole call, once `send` has resolved. */
  call: LoopbackCall | null = null;
  #used = false;
  /** Each end's line statistics, after a call through the simulated line. */
  #lines: Record<'send' | 'receive', LineStats> | null = null;

  constructor(options: LoopbackMediaOptions = {}) {
    if (typeof options !== 'object' || options === null)
      throw new InvalidOptionError('Expected an object for loopback options');
    // The paced or simulated line is two FaxSessions on this thread: nothing there records the
    // audio, hangs up at a set time or keeps the receiver from answering.
    if (
      (options.paced || options.line || options.t38 || options.t38Switch) &&
      (options.recordAudio || options.hangUpAtMs !== undefined || options.receiver?.answers === false)
    ) {
      throw new InvalidOptionError(
        'A paced loopback, or one with a line or T.38, supports none of recordAudio, hangUpAtMs, receiver.answers: false',
      );
    }
    this.options = options;
  }

  async send(options: SendOptions, control: MediaControl): Promise<MediaOutcome> {
    this.#use();
    const call = this.#onThisThread
      ? await withTempDir('paced', (dir) =>
          this.#simulated(
            options,
            { ...this.options.receiver, receivedFile: path.join(dir, 'received.tif') },
            control,
            'send',
          ),
        )
      : await this.#unpaced(options, control);
    this.call = call;
    return { result: call.sender, durationMs: call.durationMs, ...this.#lineOf('send') };
  }

  /**
   * Runs our receiving terminal (`options`) against the built-in sender (`sender`), its pages
   * written to `options.receivedFile`. `receiver` is not used: we are the receiver.
   */
  async receive(options: ReceiveOptions, control: MediaControl): Promise<MediaOutcome> {
    const sender = this.options.sender;
    if (typeof sender !== 'object' || sender === null || typeof sender.document !== 'string' || !sender.document) {
      throw new InvalidOptionError('A loopback receive needs sender.document');
    }
    this.#use();
    const call = this.#onThisThread
      ? await this.#simulated(sender, options, control, 'receive')
      : await this.#unpacedReceive(sender, options, control);
    this.call = call;
    // The receiver always answers here, so it always has a result.
    return { result: call.receiver!, durationMs: call.durationMs, ...this.#lineOf('receive') };
  }

  end(): void {}

  /** Our end's line statistics for MediaOutcome, when the call went through the simulated line. */
  #lineOf(ours: 'send' | 'receive'): { line?: LineStats } {
    return this.#lines ? { line: this.#lines[ours] } : {};
  }

  /** Whether the call runs on this thread through the simulated line (else natively, unpaced). */
  get #onThisThread(): boolean {
    const o = this.options;
    return o.paced === true || o.line !== undefined || o.t38 !== undefined || o.t38Switch !== undefined;
  }

  #use(): void {
    if (this.#used) throw new InvalidOptionError('A LoopbackMedia carries one fax; make one per fax operation');
    this.#used = true;
  }

  async #unpaced(options: SendOptions, control: MediaControl): Promise<LoopbackCall> {
    const o = this.options;
    const call = await runLoopback({
      ...options,
      receiver: o.receiver,
      hangUpAtMs: o.hangUpAtMs,
      timeLimitMs: o.timeLimitMs,
      recordAudio: o.recordAudio,
      signal: control.signal,
    });
    for (const event of call.senderEvents) control.onEvent(event);
    return call;
  }

  async #unpacedReceive(sender: SendOptions, options: ReceiveOptions, control: MediaControl): Promise<LoopbackCall> {
    const o = this.options;
    const { receivedFile, ...receiver } = options;
    toNativeReceive(options); // our options are checked before the line starts, like a session's
    const call = await runLoopback({
      ...sender,
      receiver: { ...receiver, answers: true },
      hangUpAtMs: o.hangUpAtMs,
      timeLimitMs: o.timeLimitMs,
      recordAudio: o.recordAudio,
      signal: control.signal,
    });
    // runLoopback's receiver wrote into its own temp folder, gone by now: its bytes go where
    // our caller asked (only when a page arrived, as with any receiving terminal).
    if (call.receivedTiff) await fs.promises.writeFile(receivedFile, call.receivedTiff);
    for (const event of call.receiverEvents) control.onEvent(event);
    return call;
  }

  /**
   * The call through the simulated RTP line or UDPTL path (lib/transports/impaired-line.ts): paced,
   * or with a line simulator, or T.38. `ours` says whose events go to `control`.
   */
  async #simulated(
    sending: SendOptions,
    receiving: ReceiveOptions,
    control: MediaControl,
    ours: 'send' | 'receive',
  ): Promise<LoopbackCall> {
    const call = await runSimulatedCall({
      line: this.options.line ?? defaultLineSpec(),
      codec: this.options.codec,
      redundancy: this.options.redundancy,
      t38: this.options.t38,
      t38Switch: this.options.t38Switch,
      paced: this.options.paced,
      sender: sending,
      receiver: receiving,
      timeLimitMs: this.options.timeLimitMs,
      signal: control.signal,
      onEvent: (side, event) => {
        if (side === ours) control.onEvent(event);
      },
    });
    this.#lines = { send: call.senderLine, receive: call.receiverLine };
    return {
      sender: call.sender,
      receiver: call.receiver,
      senderEvents: call.senderEvents,
      receiverEvents: call.receiverEvents,
      ...(await readReceived(receiving.receivedFile, call.receiver.pages)),
      durationMs: call.durationMs,
    };
  }
}

/** Turns `call.media` (a FaxMedia or a plain `{ kind: 'loopback', … }`) into a FaxMedia. */
export function toFaxMedia(media: unknown): FaxMedia {
  if (typeof media !== 'object' || media === null) {
    throw new InvalidOptionError(`Expected an object for call.media but got ${media === null ? 'null' : typeof media}`);
  }
  const m = media as Partial<FaxMedia> & { kind?: unknown };
  if (typeof m.send === 'function' && typeof m.end === 'function') return m as FaxMedia;
  if (m.kind === 'loopback') {
    const spec = m as LoopbackMediaSpec;
    return new LoopbackMedia({
      receiver: spec.receiver,
      sender: spec.sender,
      hangUpAtMs: spec.hangUpAtMs,
      timeLimitMs: spec.timeLimitMs,
      recordAudio: spec.recordAudio,
      paced: spec.paced,
      line: spec.line,
      codec: spec.codec,
      redundancy: spec.redundancy,
      t38: spec.t38,
      t38Switch: spec.t38Switch,
    });
  }
  throw new InvalidOptionError(
    `call.media must be a FaxMedia (e.g. a PcmMedia) or { kind: 'loopback' }; got kind ${JSON.stringify(m.kind)}`,
  );
}
