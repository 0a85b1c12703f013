/**
 * The media a fax runs over, as one small interface: the built-in loopback here, PCM frames
 * from a media server in pcm.ts, and the lines of line-media.ts (RTP/G.711, AudioSocket, T.38
 * over UDPTL). sendFax prepares the document and hands the medium a sending terminal's
 * options; the medium runs the call and reports events.
 */
import * as path from 'node:path';
import { InvalidOptionError } from '../base/errors';
import type { FaxEvent } from '../engine/events';
import { ranOnDirectWire, toLoopbackCall, type LoopbackCall, type LoopbackOptions } from './loopback';
import type { ReceiveOptions, SendOptions, T38Options } from '../engine/options';
import type { FaxResult } from '../engine/result';
import { withTempDir } from '../engine/temp-dir';
import { checkHangUpAt, runSimulatedCall, type SimulatedT38Switch } from './impaired-line';
import type { G711Law } from './g711';
import type { LineSpec } from './impairments';
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
  /**
   * Bound on line time without a page getting through, from the start and then from each page
   * (default four hours); a fax it ends says so in `detail`.
   */
  timeLimitMs?: number;
  /** Keep what each side put on the line (silence while a side runs T.38). */
  recordAudio?: boolean;
  /** Run at real time, one frame per 20 ms. Default false: as fast as the CPU allows. */
  paced?: boolean;
  /**
   * A bad line between the two ends (loss, jitter, noise, …; lib/transports/impairments.ts):
   * the call then runs through the real RTP path (G.711, packetiser, jitter buffer with
   * SpanDSP's fill-in) with the simulator on each sending side. Without it, and without `codec`
   * and `redundancy`, the two ends are wired directly.
   */
  line?: LineSpec;
  /** The simulated line's G.711 law (default 'pcmu'; given alone, a perfect RTP line). */
  codec?: G711Law;
  /** RFC 2198 redundant copies per packet on the simulated line (default 0; given alone, a perfect RTP line). */
  redundancy?: number;
  /** Both ends run T.38 over simulated UDPTL (with `line`'s loss, jitter, … on the datagrams). */
  t38?: T38Options;
  /** Both ends start in audio and one asks to switch to T.38; the simulated signalling answers. */
  t38Switch?: SimulatedT38Switch;
}

/** A plain description of the loopback medium, as `call.media` accepts it. */
export type LoopbackMediaSpec = { kind: 'loopback' } & LoopbackMediaOptions;

/**
 * The built-in far end on a loopback line: a receiver for `send`, or the sender given as
 * `sender` for `receive`. After either, `call` holds the whole call (both results and event
 * lists, the pages the receiver got, its TIFF-F file, the line audio when recorded). Every
 * loopback runs as one runSimulatedCall on this thread, with events as they happen.
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
    // Checked here, so that a bad medium is refused before a document is fetched.
    const answers: unknown = options.receiver?.answers;
    if (answers !== undefined && typeof answers !== 'boolean')
      throw new InvalidOptionError(`Expected a boolean for receiver.answers but got ${typeof answers}`);
    checkHangUpAt(options.hangUpAtMs);
    this.options = options;
  }

  async send(options: SendOptions, control: MediaControl): Promise<MediaOutcome> {
    this.#use();
    const { answers = true, ...receiver } = this.options.receiver ?? {};
    return withTempDir('loopback', (dir) =>
      this.#run(
        options,
        answers ? { ...receiver, receivedFile: path.join(dir, 'received.tif') } : null,
        control,
        'send',
      ),
    );
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
    return this.#run(sender, options, control, 'receive');
  }

  end(): void {}

  #use(): void {
    if (this.#used) throw new InvalidOptionError('A LoopbackMedia carries one fax; make one per fax operation');
    this.#used = true;
  }

  /** The call (lib/transports/impaired-line.ts); `ours` says whose events and result are ours. */
  async #run(
    sending: SendOptions,
    receiving: ReceiveOptions | null,
    control: MediaControl,
    ours: 'send' | 'receive',
  ): Promise<MediaOutcome> {
    const o = this.options;
    const call = await runSimulatedCall({
      line: o.line,
      codec: o.codec,
      redundancy: o.redundancy,
      t38: o.t38,
      t38Switch: o.t38Switch,
      paced: o.paced,
      hangUpAtMs: o.hangUpAtMs,
      recordAudio: o.recordAudio,
      sender: sending,
      receiver: receiving,
      timeLimitMs: o.timeLimitMs,
      signal: control.signal,
      onEvent: (side, event) => {
        if (side === ours) control.onEvent(event);
      },
    });
    this.call = await toLoopbackCall(call, receiving?.receivedFile ?? '');
    // The receiver always answers a receive, so ours always has a result.
    const result = ours === 'send' ? call.sender : call.receiver!;
    const line = ours === 'send' ? call.senderLine : call.receiverLine;
    return { result, durationMs: call.durationMs, ...(ranOnDirectWire(call) ? {} : { line }) };
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
