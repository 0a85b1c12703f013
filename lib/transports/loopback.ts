/**
 * The built-in loopback: a sending and a receiving terminal wired back to back inside the
 * addon, run on a worker thread as fast as the CPU allows.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { native, type NativeEvent, type NativeResult } from '../native';
import { checkTimeLimit, timeLimitDetail } from './call-limit';
import { InvalidOptionError, rethrowNative } from './errors';
import { toFaxEvent, type FaxEvent } from './events';
import { toNativeReceive, toNativeSend, type SendOptions, type T30Options } from './options';
import { readTiffPages, type FaxPage } from './page';
import { toResult, type FaxResult } from './result';
import { withTempDir } from './temp-dir';
import type { LineAudio } from './wav';

/** Options of a loopback call: the sender's options plus the receiver's and the line's. */
export interface LoopbackOptions extends SendOptions {
  /** The receiving terminal (default: identity "", ECM on, every modem and compression). */
  receiver?: T30Options & {
    /** false: nobody answers and the sender's T.30 timers end the call. Default true. */
    answers?: boolean;
  };
  /** Both sides hang up at this point of the call (milliseconds of line time). */
  hangUpAtMs?: number;
  /**
   * Upper bound on line time, after which both sides hang up, saying so in `detail` (default four
   * hours: far beyond any real fax, so a long document is never cut).
   */
  timeLimitMs?: number;
  /** Keep the line audio of both directions (see lineAudioToWav). */
  recordAudio?: boolean;
  /** Aborting hangs up both sides. */
  signal?: AbortSignal;
}

/** What a loopback call produced. */
export interface LoopbackCall {
  sender: FaxResult;
  /** null when the receiver did not answer. */
  receiver: FaxResult | null;
  senderEvents: FaxEvent[];
  receiverEvents: FaxEvent[];
  /** The pages the receiver got, decoded. */
  receivedPages: FaxPage[];
  /** The receiver's TIFF-F file as bytes (null when it received nothing). */
  receivedTiff: Buffer | null;
  /** Line time of the call in milliseconds. */
  durationMs: number;
  /** Line audio of both directions, when recordAudio was set. */
  audio?: LineAudio;
}

/**
 * What a receiving terminal left in its file: the decoded pages and the file's bytes, or
 * nothing when it got no page (`pages`, from its result) or wrote no file.
 */
export async function readReceived(
  file: string,
  pages: number,
): Promise<Pick<LoopbackCall, 'receivedPages' | 'receivedTiff'>> {
  if (pages <= 0 || !fs.existsSync(file)) return { receivedPages: [], receivedTiff: null };
  return { receivedPages: readTiffPages(file), receivedTiff: await fs.promises.readFile(file) };
}

/** A call-dropped result with no cause of its own gets the one that stopped the call. */
function withStopDetail(result: NativeResult, detail: string): NativeResult {
  return result.code === native.constants.T30_ERR_CALLDROPPED && !result.detail && detail
    ? { ...result, detail }
    : result;
}

function convertEvents(events: NativeEvent[], detail: string): FaxEvent[] {
  return events.map((e) => toFaxEvent(e, detail));
}

/** Runs a whole fax call between a built-in sender and receiver. Never rejects for a failed fax. */
export async function runLoopback(options: LoopbackOptions): Promise<LoopbackCall> {
  if (typeof options !== 'object' || options === null) throw new InvalidOptionError('Expected an object for options');
  const sender = toNativeSend(options);
  const answers = options.receiver?.answers ?? true;
  const { hangUpAtMs } = options;
  if (hangUpAtMs !== undefined && (typeof hangUpAtMs !== 'number' || !Number.isFinite(hangUpAtMs) || hangUpAtMs < 0)) {
    throw new InvalidOptionError('hangUpAtMs must be a number of milliseconds from 0');
  }
  const limitMs = checkTimeLimit(options.timeLimitMs);

  return withTempDir('loopback', async (dir) => {
    const rxFile = path.join(dir, 'received.tif');
    const receiver = answers ? toNativeReceive({ ...options.receiver, receivedFile: rxFile }) : undefined;
    let handle;
    try {
      handle = native.startLoopback({
        sender,
        receiver,
        receiverAnswers: answers,
        hangUpAtMs: options.hangUpAtMs,
        maxMs: limitMs,
        recordAudio: options.recordAudio ?? false,
      });
    } catch (error) {
      rethrowNative(error);
    }
    // An abort, even one before the call started, is a hang-up: the fax ends with the
    // call-dropped code like any other, never with an exception.
    const onAbort = (): void => handle.cancel();
    if (options.signal?.aborted) onAbort();
    options.signal?.addEventListener('abort', onAbort, { once: true });
    let outcome;
    try {
      outcome = await handle.promise;
    } finally {
      options.signal?.removeEventListener('abort', onAbort);
    }
    // What stopped the call, for a hang-up SpanDSP reports without a cause of its own.
    const stoppedBy = outcome.hitTimeLimit
      ? timeLimitDetail(limitMs)
      : outcome.cancelled
        ? 'the call was cancelled'
        : hangUpAtMs !== undefined && outcome.durationMs >= hangUpAtMs
          ? `both ends hung up at ${hangUpAtMs / 1000} s of line time (hangUpAtMs)`
          : '';
    const senderResult = withStopDetail(outcome.sender, stoppedBy);
    const receiverResult = outcome.receiver ? withStopDetail(outcome.receiver, stoppedBy) : null;
    const call: LoopbackCall = {
      sender: toResult(senderResult),
      receiver: receiverResult ? toResult(receiverResult) : null,
      senderEvents: convertEvents(outcome.senderEvents, senderResult.detail),
      receiverEvents: convertEvents(outcome.receiverEvents, receiverResult?.detail ?? ''),
      ...(await readReceived(rxFile, outcome.receiver?.pages ?? 0)),
      durationMs: outcome.durationMs,
    };
    if (outcome.senderAudio && outcome.receiverAudio) {
      call.audio = { sent: outcome.senderAudio, received: outcome.receiverAudio };
    }
    return call;
  });
}
