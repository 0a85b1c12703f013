/**
 * The media a fax runs over, as one small interface: the built-in loopback here, PCM frames
 * from a media server in pcm.ts, RTP/G.711 and T.38 later. sendFax prepares the document and
 * hands the medium a sending terminal's options; the medium runs the call and reports events.
 */
import * as path from 'node:path';
import { InvalidOptionError } from '../engine/errors';
import type { FaxEvent } from '../engine/events';
import { readReceived, runLoopback, type LoopbackCall, type LoopbackOptions } from '../engine/loopback';
import type { ReceiveOptions, SendOptions } from '../engine/options';
import type { FaxResult } from '../engine/result';
import { FaxSession } from '../engine/session';
import { withTempDir } from '../engine/temp-dir';
import { connectSessions } from './line-pair';
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

/** Options of the loopback medium: the built-in receiver and the line. */
export interface LoopbackMediaOptions {
  /** The receiving terminal (default: identity "", ECM on, every modem and compression). */
  receiver?: LoopbackOptions['receiver'];
  /** Both sides hang up at this point of the call (ms of line time): "the call ended". */
  hangUpAtMs?: number;
  /** Upper bound on line time (default one hour). */
  timeLimitMs?: number;
  /** Keep the line audio of both directions (unpaced only). */
  recordAudio?: boolean;
  /**
   * Run at real time, one frame per 20 ms, with events as they happen (two FaxSessions on
   * this thread). Default false: the whole call runs on a worker thread as fast as the CPU allows
   * and its events are replayed, in order, when it is over.
   */
  paced?: boolean;
}

/** A plain description of the loopback medium, as `call.media` accepts it. */
export type LoopbackMediaSpec = { kind: 'loopback' } & LoopbackMediaOptions;

/**
 * The built-in receiver on a loopback line. After `send`, `call` holds what the receiver got
 * (its result, the decoded pages, its TIFF-F file, the line audio when recorded).
 */
export class LoopbackMedia implements FaxMedia {
  readonly kind = 'loopback';
  readonly options: LoopbackMediaOptions;
  /** The whole call, once `send` has resolved. */
  call: LoopbackCall | null = null;
  #used = false;

  constructor(options: LoopbackMediaOptions = {}) {
    if (typeof options !== 'object' || options === null)
      throw new InvalidOptionError('Expected an object for loopback options');
    // The paced line is two FaxSessions on this thread: nothing there records the audio, hangs
    // up at a set time or keeps the receiver from answering.
    if (
      options.paced &&
      (options.recordAudio || options.hangUpAtMs !== undefined || options.receiver?.answers === false)
    ) {
      throw new InvalidOptionError(
        'A paced loopback supports none of recordAudio, hangUpAtMs, receiver.answers: false',
      );
    }
    this.options = options;
  }

  async send(options: SendOptions, control: MediaControl): Promise<MediaOutcome> {
    if (this.#used) throw new InvalidOptionError('A LoopbackMedia carries one fax; make one per sendFax');
    this.#used = true;
    const call = this.options.paced ? await this.#paced(options, control) : await this.#unpaced(options, control);
    this.call = call;
    return { result: call.sender, durationMs: call.durationMs };
  }

  async receive(_options: ReceiveOptions, _control: MediaControl): Promise<MediaOutcome> {
    // The built-in sender comes with receive_fax (issue 10); until then a loopback only sends.
    throw new InvalidOptionError('A LoopbackMedia cannot receive yet');
  }

  end(): void {}

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

  async #paced(options: SendOptions, control: MediaControl): Promise<LoopbackCall> {
    return withTempDir('paced', async (dir) => {
      const rxFile = path.join(dir, 'received.tif');
      const senderEvents: FaxEvent[] = [];
      const receiverEvents: FaxEvent[] = [];
      let sender: FaxSession | null = null;
      let receiver: FaxSession | null = null;
      try {
        sender = new FaxSession({ direction: 'send', ...options });
        receiver = new FaxSession({ direction: 'receive', ...this.options.receiver, receivedFile: rxFile });
        sender.on('event', (e) => {
          senderEvents.push(e);
          control.onEvent(e);
        });
        receiver.on('event', (e) => receiverEvents.push(e));
        const durationMs = await connectSessions(sender, receiver, {
          paced: true,
          timeLimitMs: this.options.timeLimitMs,
          signal: control.signal,
        });
        const senderResult = await sender.done;
        const receiverResult = await receiver.done;
        receiver.close();
        return {
          sender: senderResult,
          receiver: receiverResult,
          senderEvents,
          receiverEvents,
          ...(await readReceived(rxFile, receiverResult.pages)),
          durationMs,
        };
      } finally {
        sender?.close();
        receiver?.close();
      }
    });
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
      hangUpAtMs: spec.hangUpAtMs,
      timeLimitMs: spec.timeLimitMs,
      recordAudio: spec.recordAudio,
      paced: spec.paced,
    });
  }
  throw new InvalidOptionError(
    `call.media must be a FaxMedia (e.g. a PcmMedia) or { kind: 'loopback' }; got kind ${JSON.stringify(m.kind)}`,
  );
}
