/**
 * The built-in loopback: a sending and a receiving terminal wired back to back, run as fast as
 * the CPU allows. A thin wrapper over runSimulatedCall (lib/transports/impaired-line.ts) on a
 * direct wire, the one in-process call faxline has, that keeps the receiver's file for the caller.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { InvalidOptionError } from '../base/errors';
import { DIRECT_LINE_KIND, runSimulatedCall, type SimulatedCall } from './impaired-line';
import type { FaxEvent } from '../engine/events';
import type { SendOptions, T30Options } from '../engine/options';
import { readTiffPages, type FaxPage } from '../engine/page';
import type { FaxResult } from '../engine/result';
import { withTempDir } from '../engine/temp-dir';
import type { LineAudio } from '../engine/wav';

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
   * Bound on line time without a page getting through, from the start and then from each page;
   * past it both sides hang up, saying so in `detail` (default four hours: a long document is
   * never cut, however many pages it has).
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

/** A simulated call as a LoopbackCall, with what the receiver wrote to `receivedFile`. */
export async function toLoopbackCall(
  call: SimulatedCall<FaxResult | null>,
  receivedFile: string,
): Promise<LoopbackCall> {
  const loopback: LoopbackCall = {
    sender: call.sender,
    receiver: call.receiver,
    senderEvents: call.senderEvents,
    receiverEvents: call.receiverEvents,
    ...(await readReceived(receivedFile, call.receiver?.pages ?? 0)),
    durationMs: call.durationMs,
  };
  if (call.audio) loopback.audio = call.audio;
  return loopback;
}

/** Whether a simulated call ran on a direct wire, where there is no line to report on. */
export function ranOnDirectWire(call: SimulatedCall<FaxResult | null>): boolean {
  return call.senderLine.kind === DIRECT_LINE_KIND;
}

/** Runs a whole fax call between a built-in sender and receiver. Never rejects for a failed fax. */
export async function runLoopback(options: LoopbackOptions): Promise<LoopbackCall> {
  if (typeof options !== 'object' || options === null) throw new InvalidOptionError('Expected an object for options');
  const { receiver, hangUpAtMs, timeLimitMs, recordAudio, signal, ...sender } = options;
  const { answers = true, ...receiving } = receiver ?? {};
  if (typeof answers !== 'boolean')
    throw new InvalidOptionError(`Expected a boolean for receiver.answers but got ${typeof answers}`);
  return withTempDir('loopback', async (dir) => {
    const receivedFile = path.join(dir, 'received.tif');
    const call = await runSimulatedCall({
      sender,
      receiver: answers ? { ...receiving, receivedFile } : null,
      hangUpAtMs,
      timeLimitMs,
      recordAudio,
      signal,
    });
    return toLoopbackCall(call, receivedFile);
  });
}
