/**
 * A FaxMedia over lines (RTP, AudioSocket, UDPTL, the impaired in-process line): the terminal runs
 * on the line's audio or datagrams, on a 20 ms clock of its own or a SessionGroup's.
 */
import { checkObject } from '../base/checks';
import { InvalidOptionError } from '../base/errors';
import type { ReceiveOptions, SendOptions, T38Options } from '../engine/options';
import { FaxSession, type FaxSessionOptions, type T38SwitchOptions } from '../engine/session';
import {
  callLines,
  withUdptlStats,
  type AudioLine,
  type CallLines,
  type DatagramLine,
  type LineStats,
} from '../transports/line';
import type { FaxMedia, MediaControl, MediaOutcome } from '../transports/media';
import { driveOnLine, type SessionGroup } from './group';

/** Options of LineMedia. */
export interface LineMediaOptions {
  /** Real time (default true). False runs as fast as the CPU allows (simulated lines only). */
  paced?: boolean;
  /**
   * Bound on line time without a page getting through, from the start and then from each page
   * (default four hours); the fax ends with code 49 and says so.
   */
  timeLimitMs?: number;
  /** How long to wait for the line to be ready (peer connected, first packet), ms. Default 60 000. */
  readyTimeoutMs?: number;
  /** Close the line when the fax operation ends (default true). */
  closeLine?: boolean;
  /** On a T.38 line (and no audio line): the T.38 settings the far end accepted (default T38_DEFAULTS). */
  t38?: T38Options;
  /** With both lines: the call starts in audio and may switch (see FaxSession's t38Switch). */
  t38Switch?: T38SwitchOptions;
  /** Called with the session once it exists, before the call runs: the host's hook for T.38 signalling. */
  onSession?: (session: FaxSession) => void;
  /** Run the call in this group, on its clock (a pool worker's); default: a clock of its own. */
  group?: SessionGroup;
}

/** Default wait for a line to become ready. */
export const DEFAULT_READY_TIMEOUT_MS = 60_000;

/** Waits for `line.ready()` at most `timeoutMs`; resolves with a message naming the wait, or null when ready. */
async function lineReady(
  line: AudioLine | DatagramLine,
  timeoutMs: number,
  signal: AbortSignal | undefined,
): Promise<string | null> {
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  try {
    return await Promise.race([
      line.ready().then(() => null),
      new Promise<string>((resolve) => {
        timer = setTimeout(
          () => resolve(`the ${line.kind} line was not ready within ${timeoutMs / 1000} s`),
          timeoutMs,
        );
      }),
      new Promise<string>((resolve) => {
        onAbort = () => resolve('the call was cancelled before the line was ready');
        if (signal?.aborted) onAbort();
        else signal?.addEventListener('abort', onAbort, { once: true });
      }),
    ]);
  } catch (error) {
    return `the ${line.kind} line failed: ${error instanceof Error ? error.message : String(error)}`;
  } finally {
    clearTimeout(timer);
    if (onAbort) signal?.removeEventListener('abort', onAbort);
  }
}

/** One fax operation on an AudioLine, a DatagramLine (T.38), or both (audio that may switch to T.38). */
export class LineMedia implements FaxMedia {
  readonly kind: string;
  readonly lines: CallLines;
  readonly options: LineMediaOptions;
  #used = false;

  constructor(line: AudioLine | DatagramLine | CallLines, options: LineMediaOptions = {}) {
    checkObject(options, 'options');
    this.lines = callLines(line);
    if (!this.lines.audio && !this.lines.t38)
      throw new InvalidOptionError('LineMedia needs an audio line, a T.38 line or both');
    this.kind = (this.lines.audio ?? this.lines.t38)!.kind;
    this.options = options;
  }

  /** The line the call starts on: audio when there is one, else T.38. */
  get line(): AudioLine | DatagramLine {
    return (this.lines.audio ?? this.lines.t38)!;
  }

  send(options: SendOptions, control: MediaControl): Promise<MediaOutcome> {
    return this.#run({ direction: 'send', ...options }, control);
  }

  receive(options: ReceiveOptions, control: MediaControl): Promise<MediaOutcome> {
    return this.#run({ direction: 'receive', ...options }, control);
  }

  end(): void {
    if (this.options.closeLine ?? true) {
      void this.lines.audio?.close();
      void this.lines.t38?.close();
    }
  }

  async #run(options: FaxSessionOptions, control: MediaControl): Promise<MediaOutcome> {
    if (this.#used) throw new InvalidOptionError('A LineMedia carries one fax operation; make one per fax');
    this.#used = true;
    const startsInT38 = !this.lines.audio;
    const session = new FaxSession({
      ...options,
      ...(startsInT38 ? { t38: this.options.t38 ?? {} } : {}),
      ...(!startsInT38 && this.lines.t38 ? { t38Switch: this.options.t38Switch ?? {} } : {}),
    });
    session.on('event', control.onEvent);
    this.options.onSession?.(session);
    try {
      const notReady = await lineReady(
        this.line,
        this.options.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS,
        control.signal,
      );
      if (notReady !== null) {
        session.hangUp(notReady);
        return { result: await session.done, durationMs: 0, line: this.#stats(session) };
      }
      const drive = { paced: this.options.paced, timeLimitMs: this.options.timeLimitMs, signal: control.signal };
      const { result, durationMs } = this.options.group
        ? await this.options.group.run(session, this.lines, drive)
        : await driveOnLine(session, this.lines, drive);
      return { result, durationMs, line: this.#stats(session) };
    } finally {
      session.close();
    }
  }

  /** The statistics of the line the call ended on, with UDPTL's when it ran T.38. */
  #stats(session: FaxSession): LineStats {
    const line = session.medium === 't38' ? this.lines.t38 : this.lines.audio;
    return withUdptlStats((line ?? this.line).stats(), session.udptlStats());
  }
}
