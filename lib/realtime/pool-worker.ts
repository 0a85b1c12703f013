/**
 * A FaxPool worker thread: one SessionGroup on one 20 ms clock, carrying every call the pool places
 * here. Each call's lines (sockets) are opened here, so no packet crosses threads; only events,
 * outcomes and statistics go back to the pool.
 */
import { parentPort, workerData } from 'node:worker_threads';
import * as v8 from 'node:v8';
import { FaxlineError } from '../base/errors';
import { ResultCode } from '../base/result-codes';
import type { FaxEvent } from '../engine/events';
import type { ReceiveOptions, SendOptions } from '../engine/options';
import { checkTiffForSending } from '../engine/page';
import type { FaxSession } from '../engine/session';
import { directLinePair } from '../transports/impaired-line';
import type { AudioLine, DatagramLine } from '../transports/line';
import { RtpLine } from '../transports/rtp/rtp-line';
import { simulatedDatagramPair } from '../transports/t38/datagram-pair';
import { UdptlLine } from '../transports/t38/udptl-line';
import { SessionGroup } from './group';
import { LineMedia } from './line-media';
import type { FromWorker, PoolCallOptions, PoolLoopbackOptions, PoolWorkerData, ToWorker } from './pool-protocol';

const port = parentPort!;
const data = workerData as PoolWorkerData;
const group = new SessionGroup({ paced: data.paced, capacity: data.capacity });
/** The session of each call in flight, for the pool's hang-ups and T.38 answers. */
const sessions = new Map<number, FaxSession>();
/** Calls that were hung up before their session existed (still opening their lines). */
const hungUp = new Map<number, string>();
/** Calls waiting for their turn to start (see admitted). */
const waiting: (() => void)[] = [];
/**
 * Calls started per turn of the event loop: making a call's lines and session takes a fraction of a
 * millisecond, so a few per turn keep the clock's ticks, which run between turns, on time.
 */
const STARTS_PER_TURN = 4;
let admitting = false;

/**
 * Resolves when the call may start: a few calls a turn, so that a burst of new calls never holds up
 * the tick of the calls already running. (Each caller's start runs right after its turn, as a
 * continuation; the next turn waits for the event loop.)
 */
function admitted(): Promise<void> {
  return new Promise((resolve) => {
    waiting.push(resolve);
    if (admitting) return;
    admitting = true;
    const turn = (): void => {
      for (let i = 0; i < STARTS_PER_TURN && waiting.length > 0; i++) waiting.shift()!();
      if (waiting.length > 0) setImmediate(turn);
      else admitting = false;
    };
    setImmediate(turn);
  });
}

/**
 * A sender's options with its pages checked off this thread first (decoding a page takes a few
 * milliseconds, which the tick cannot spare); a document that fails the check is left to the session,
 * which fails at once with the check's code and detail.
 */
async function checked(options: SendOptions): Promise<SendOptions> {
  if (options.pagesChecked) return options;
  const check = await checkTiffForSending(options.document, options.pages);
  return check.code === ResultCode.OK ? { ...options, pagesChecked: true } : options;
}

function post(message: FromWorker): void {
  port.postMessage(message);
}

function lineMedia(id: number, call: PoolCallOptions): LineMedia {
  const lines: { audio?: AudioLine; t38?: DatagramLine } = {};
  if (call.lines.rtp) lines.audio = new RtpLine(call.lines.rtp);
  if (call.lines.udptl) lines.t38 = new UdptlLine(call.lines.udptl);
  return new LineMedia(lines, {
    group,
    t38: call.t38,
    t38Switch: call.t38Switch,
    timeLimitMs: call.timeLimitMs,
    readyTimeoutMs: call.readyTimeoutMs,
    onSession: (session) => {
      sessions.set(id, session);
      const early = hungUp.get(id);
      if (early !== undefined) session.hangUp(early);
      session.on('t38-request', (offer) => post({ op: 't38-request', id, offer }));
      session.on('t38-switched', (settings) => post({ op: 't38-switched', id, settings }));
      session.on('t38-refused', (r) => post({ op: 't38-refused', id, reason: r.reason, detail: r.detail }));
    },
  });
}

function failed(id: number, error: unknown): void {
  const e = error instanceof Error ? error : new Error(String(error));
  post({ op: 'failed', id, name: e.name, code: e instanceof FaxlineError ? e.code : undefined, message: e.message });
}

async function runCall(message: Extract<ToWorker, { op: 'send' | 'receive' }>): Promise<void> {
  const { id } = message;
  try {
    const options = message.op === 'send' ? await checked(message.options) : message.options;
    await admitted();
    const media = lineMedia(id, message.call);
    try {
      const onEvent = (event: FaxEvent): void => post({ op: 'event', id, event });
      const outcome =
        message.op === 'send'
          ? await media.send(options as SendOptions, { onEvent })
          : await media.receive(options as ReceiveOptions, { onEvent });
      post({ op: 'done', id, outcome });
    } finally {
      media.end();
    }
  } catch (error) {
    failed(id, error);
  } finally {
    sessions.delete(id);
    hungUp.delete(id);
  }
}

/** Both ends of a fax in this worker, over an in-memory line (a direct wire for audio, or UDPTL). */
async function runLoopback(id: number, o: PoolLoopbackOptions): Promise<void> {
  try {
    const sender = await checked(o.sender);
    await admitted();
    const [a, b] = o.t38 ? simulatedDatagramPair() : directLinePair();
    const ends = [
      new LineMedia(a, { group, timeLimitMs: o.timeLimitMs, onSession: (s) => sessions.set(id, s) }),
      new LineMedia(b, { group, timeLimitMs: o.timeLimitMs }),
    ];
    const onEvent = (): void => undefined;
    const [sent, received] = await Promise.all([
      ends[0]!.send(sender, { onEvent }),
      ends[1]!.receive(o.receiver, { onEvent }),
    ]);
    for (const end of ends) end.end();
    post({ op: 'loopback-done', id, sender: sent.result, receiver: received.result, durationMs: sent.durationMs });
  } catch (error) {
    failed(id, error);
  } finally {
    sessions.delete(id);
  }
}

port.on('message', (message: ToWorker) => {
  switch (message.op) {
    case 'send':
    case 'receive':
      void runCall(message);
      break;
    case 'loopback':
      void runLoopback(message.id, message.loopback);
      break;
    case 'hangUp': {
      const session = sessions.get(message.id);
      if (session) session.hangUp(message.detail);
      else hungUp.set(message.id, message.detail);
      break;
    }
    case 'switchToT38':
      sessions.get(message.id)?.switchToT38(message.settings);
      break;
    case 't38Refused':
      sessions.get(message.id)?.t38Refused(message.detail);
      break;
    case 'close':
      group.close();
      clearInterval(statsTimer);
      port.close();
      break;
  }
});

const statsTimer = setInterval(() => {
  post({ op: 'stats', stats: group.stats(), heapBytes: v8.getHeapStatistics().used_heap_size });
}, data.statsIntervalMs);
