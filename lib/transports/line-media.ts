/**
 * A FaxMedia over an AudioLine (RTP, AudioSocket, the impaired in-process line): the terminal
 * runs on the line's audio, paced by the line driver's clock.
 */
import { InvalidOptionError } from '../engine/errors';
import type { ReceiveOptions, SendOptions } from '../engine/options';
import { FaxSession, type FaxSessionOptions } from '../engine/session';
import type { AudioLine } from './line';
import { driveOnLine } from './line-driver';
import type { FaxMedia, MediaControl, MediaOutcome } from './media';

/** Options of LineMedia. */
export interface LineMediaOptions {
  /** Real time (default true). False runs as fast as the CPU allows (simulated lines only). */
  paced?: boolean;
  /** Upper bound on line time (default four hours); the fax ends with code 49 and says so. */
  timeLimitMs?: number;
  /** How long to wait for the line to be ready (peer connected, first packet), ms. Default 60 000. */
  readyTimeoutMs?: number;
  /** Close the line when the fax operation ends (default true). */
  closeLine?: boolean;
}

/** Default wait for a line to become ready. */
export const DEFAULT_READY_TIMEOUT_MS = 60_000;

/** Waits for `line.ready()` at most `timeoutMs`; rejects with a message naming the wait. */
async function lineReady(line: AudioLine, timeoutMs: number, signal: AbortSignal | undefined): Promise<string | null> {
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

/** One fax operation on an AudioLine. */
export class LineMedia implements FaxMedia {
  readonly kind: string;
  readonly line: AudioLine;
  readonly options: LineMediaOptions;
  #used = false;

  constructor(line: AudioLine, options: LineMediaOptions = {}) {
    if (typeof options !== 'object' || options === null) throw new InvalidOptionError('Expected an object for options');
    this.line = line;
    this.kind = line.kind;
    this.options = options;
  }

  send(options: SendOptions, control: MediaControl): Promise<MediaOutcome> {
    return this.#run({ direction: 'send', ...options }, control);
  }

  receive(options: ReceiveOptions, control: MediaControl): Promise<MediaOutcome> {
    return this.#run({ direction: 'receive', ...options }, control);
  }

  end(): void {
    if (this.options.closeLine ?? true) void this.line.close();
  }

  async #run(options: FaxSessionOptions, control: MediaControl): Promise<MediaOutcome> {
    if (this.#used) throw new InvalidOptionError('A LineMedia carries one fax operation; make one per fax');
    this.#used = true;
    const session = new FaxSession(options);
    session.on('event', control.onEvent);
    try {
      const notReady = await lineReady(
        this.line,
        this.options.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS,
        control.signal,
      );
      if (notReady !== null) {
        session.hangUp(notReady);
        return { result: await session.done, durationMs: 0, line: this.line.stats() };
      }
      const { result, durationMs } = await driveOnLine(session, this.line, {
        paced: this.options.paced,
        timeLimitMs: this.options.timeLimitMs,
        signal: control.signal,
      });
      return { result, durationMs, line: this.line.stats() };
    } finally {
      session.close();
    }
  }
}
