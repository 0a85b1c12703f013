/**
 * The built-in loopback: a sending and a receiving terminal wired back to back inside the
 * addon, run on a worker thread as fast as the CPU allows.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { native, type NativeEvent } from '../native';
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
  /** Upper bound on line time, after which both sides hang up (default one hour). */
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

function convertEvents(events: NativeEvent[], detail: string): FaxEvent[] {
  return events.map((e) => toFaxEvent(e, detail));
}

/** Runs a whole fax call between a built-in sender and receiver. Never rejects for a failed fax. */
export async function runLoopback(options: LoopbackOptions): Promise<LoopbackCall> {
  if (typeof options !== 'object' || options === null) throw new InvalidOptionError('Expected an object for options');
  const sender = toNativeSend(options);
  const answers = options.receiver?.answers ?? true;
  for (const [key, value] of [
    ['hangUpAtMs', options.hangUpAtMs],
    ['timeLimitMs', options.timeLimitMs],
  ] as const) {
    if (value !== undefined && (typeof value !== 'number' || !Number.isFinite(value) || value < 0)) {
      throw new InvalidOptionError(`${key} must be a number of milliseconds from 0`);
    }
  }

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
        maxMs: options.timeLimitMs,
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
    const call: LoopbackCall = {
      sender: toResult(outcome.sender),
      receiver: outcome.receiver ? toResult(outcome.receiver) : null,
      senderEvents: convertEvents(outcome.senderEvents, outcome.sender.detail),
      receiverEvents: convertEvents(outcome.receiverEvents, outcome.receiver?.detail ?? ''),
      ...(await readReceived(rxFile, outcome.receiver?.pages ?? 0)),
      durationMs: outcome.durationMs,
    };
    if (outcome.senderAudio && outcome.receiverAudio) {
      call.audio = { sent: outcome.senderAudio, received: outcome.receiverAudio };
    }
    return call;
  });
}
