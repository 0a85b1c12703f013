/**
 * A call in one process, the one loopback faxline has: two fax terminals, each on its own
 * AudioLine, joined directly (each frame copied to the other end, the cheapest call) or through
 * the real RTP path (G.711 encoder, packetiser with optional RFC 2198 redundancy, jitter buffer,
 * decoder) with the line simulator on each sending side, or over T.38. Time is line time:
 * unpaced, a whole call runs as fast as the CPU allows, deterministic for a seed.
 */
import { CallTimeLimit } from '../engine/call-limit';
import { InvalidOptionError } from '../base/errors';
import type { FaxEvent } from '../engine/events';
import type { ReceiveOptions, SendOptions, T38Options } from '../engine/options';
import type { FaxResult } from '../engine/result';
import { FaxSession, SAMPLE_RATE, SAMPLES_PER_FRAME } from '../engine/session';
import type { LineAudio } from '../engine/wav';
import { G711_PAYLOAD_TYPE, g711Decode, g711Encode, type G711Law } from './g711';
import { defaultLineSpec, LineImpairment, type LineImpairmentStats, type LineSpec } from './impairments';
import type { AudioLine, DatagramLine, LineEnd, LineStats } from './line';
import { simulatedDatagramPair } from './t38/datagram-pair';
import { FrameClock, FRAME_MS } from './clock';
import { withUdptlStats } from './line';
import { JitterBuffer, playoutDelayFor, type JitterBufferStats } from './rtp/jitter-buffer';
import { RtpPacketizer } from './rtp/packet';

/** The RTP side of a simulated line: codec and RFC 2198 redundancy. */
export interface SimulatedRtpOptions {
  /** G.711 law on the wire (default 'pcmu'). */
  codec?: G711Law;
  /** Redundant copies per packet (RFC 2198), 0 for none (default 0). */
  redundancy?: number;
  /** The jitter buffer's playout delay, ms (default: what the line's jitter and the redundancy need). */
  playoutDelayMs?: number;
}

/** Default line time between one end finishing and its hang-up reaching the other. */
const FAR_END_HANG_UP_MS = 2000;

/** The dynamic payload type the simulated line uses for RFC 2198 redundancy. */
const RED_PAYLOAD_TYPE = 96;

/** Packets on their way: a copy and the line time it arrives. */
interface InFlight {
  packet: Uint8Array;
  atMs: number;
}

/** One end of a simulated line: what it writes goes, impaired, to its peer's jitter buffer. */
class SimulatedLine implements AudioLine {
  readonly kind = 'simulated';
  readonly ended: LineEnd | null = null;
  peer: SimulatedLine | null = null;
  readonly #law: G711Law;
  readonly #impairment: LineImpairment;
  readonly #packetizer: RtpPacketizer;
  readonly #jitter: JitterBuffer;
  readonly #payload = new Uint8Array(SAMPLES_PER_FRAME);
  readonly #frame = new Int16Array(SAMPLES_PER_FRAME);
  readonly #times: number[] = [];
  /** Arrivals for this end, kept in arrival order. */
  readonly #inbox: InFlight[] = [];
  #sent = 0;

  constructor(spec: LineSpec, direction: 0 | 1, options: SimulatedRtpOptions) {
    this.#law = options.codec ?? 'pcmu';
    const payloadType = G711_PAYLOAD_TYPE[this.#law];
    const depth = options.redundancy ?? 0;
    this.#impairment = new LineImpairment(spec, direction);
    this.#packetizer = new RtpPacketizer({
      payloadType,
      redundancy: depth > 0 ? { payloadType: RED_PAYLOAD_TYPE, depth } : undefined,
    });
    this.#jitter = new JitterBuffer({
      payloadType,
      redPayloadType: RED_PAYLOAD_TYPE,
      // Only as long as the simulated jitter and the redundancy need: a perfect line then has no
      // delay of its own, as in the benchmark's raw SpanDSP baseline.
      playoutDelayMs: options.playoutDelayMs ?? playoutDelayFor(depth, spec.jitterMs),
    });
  }

  ready(): Promise<void> {
    return Promise.resolve();
  }

  read(heard: Int16Array, nowMs: number): boolean {
    const inbox = this.#inbox;
    let taken = 0;
    while (taken < inbox.length && inbox[taken]!.atMs <= nowMs) {
      this.#jitter.push(inbox[taken]!.packet, inbox[taken]!.atMs);
      taken++;
    }
    if (taken > 0) inbox.splice(0, taken);
    const payload = this.#jitter.pop(nowMs);
    if (payload === null) return false;
    g711Decode(this.#law, payload, heard);
    return true;
  }

  write(frame: Int16Array, nowMs: number): void {
    this.#frame.set(frame);
    this.#impairment.processAudio(this.#frame);
    g711Encode(this.#law, this.#frame, this.#payload);
    const packet = this.#packetizer.packetize(this.#payload);
    this.#sent++;
    const copies = this.#impairment.deliveries(nowMs, this.#times);
    for (let i = 0; i < copies; i++) this.peer!.#deliver(Uint8Array.from(packet), this.#times[i]!);
  }

  #deliver(packet: Uint8Array, atMs: number): void {
    // Jitter reorders: keep the inbox sorted by arrival (it is short, a few packets).
    let i = this.#inbox.length;
    while (i > 0 && this.#inbox[i - 1]!.atMs > atMs) i--;
    this.#inbox.splice(i, 0, { packet, atMs });
  }

  stats(): LineStats {
    const received: JitterBufferStats = this.#jitter.stats();
    const impaired: LineImpairmentStats = this.#impairment.stats();
    return {
      kind: this.kind,
      codec: this.#law,
      packetsSent: this.#sent,
      packetsReceived: received.received,
      lost: received.lost,
      late: received.late,
      duplicate: received.duplicate,
      foreign: received.foreign,
      malformed: received.malformed,
      recovered: received.recovered,
      // Microseconds are the most a 20 ms packet clock can say (as RtpLine reports it).
      jitterMs: Math.round(received.jitterMs * 1000) / 1000,
      droppedBySimulator: impaired.lost,
    };
  }

  close(): Promise<void> {
    this.#impairment.close();
    return Promise.resolve();
  }
}

/** Two ends of one simulated line: direction 0 is a→b, direction 1 is b→a. */
export function simulatedLinePair(spec: LineSpec, options: SimulatedRtpOptions = {}): [AudioLine, AudioLine] {
  const depth = options.redundancy ?? 0;
  if (!Number.isInteger(depth) || depth < 0 || depth > 8)
    throw new InvalidOptionError(`redundancy must be a whole number from 0 to 8; got ${String(depth)}`);
  const a = new SimulatedLine(spec, 0, options);
  const b = new SimulatedLine(spec, 1, options);
  a.peer = b;
  b.peer = a;
  return [a, b];
}

/** The line statistics kind of a direct wire, which has no line to speak of. */
export const DIRECT_LINE_KIND = 'direct';

/**
 * One end of a direct wire: the frame one end sends is, sample for sample, what the other hears
 * on its next tick. No codec, no packets, no loss: the cheapest call two sessions can make.
 */
class DirectLine implements AudioLine {
  readonly kind = DIRECT_LINE_KIND;
  readonly ended: LineEnd | null = null;
  /** What this end hears next: the frame its peer sent last (silence before, or with no peer). */
  readonly #heard = new Int16Array(SAMPLES_PER_FRAME);
  peer: DirectLine | null = null;
  #sent = 0;

  ready(): Promise<void> {
    return Promise.resolve();
  }

  read(heard: Int16Array): boolean {
    heard.set(this.#heard);
    return true;
  }

  write(frame: Int16Array): void {
    if (this.peer) this.peer.#heard.set(frame);
    this.#sent++;
  }

  stats(): LineStats {
    return { kind: this.kind, framesSent: this.#sent };
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

/** Two ends of a direct wire (see DirectLine). */
export function directLinePair(): [AudioLine, AudioLine] {
  const a = new DirectLine();
  const b = new DirectLine();
  a.peer = b;
  b.peer = a;
  return [a, b];
}

/** One direction's line audio, kept in one growing buffer (a call of hours is millions of samples). */
class AudioRecorder {
  /** About a minute of line time before the first reallocation. */
  #samples = new Int16Array(SAMPLE_RATE * 60);
  #length = 0;

  /** Appends one frame, or a frame of silence for `null` (an end that sent no audio). */
  append(frame: Int16Array | null): void {
    const n = SAMPLES_PER_FRAME;
    if (this.#length + n > this.#samples.length) {
      const grown = new Int16Array(this.#samples.length * 2);
      grown.set(this.#samples.subarray(0, this.#length));
      this.#samples = grown;
    }
    if (frame) this.#samples.set(frame, this.#length);
    else this.#samples.fill(0, this.#length, this.#length + n);
    this.#length += n;
  }

  /** The audio so far, in an array of its own length. */
  take(): Int16Array {
    return this.#samples.slice(0, this.#length);
  }
}

/**
 * Options of runSimulatedCall. `Receiving` is `ReceiveOptions | null` for a call whose receiver
 * may not answer.
 */
export interface SimulatedCallOptions<
  Receiving extends ReceiveOptions | null = ReceiveOptions,
> extends SimulatedRtpOptions {
  /**
   * The line (loss, jitter, noise, …): both directions go through the real RTP path (G.711,
   * packetiser, jitter buffer) with the simulator on each sending side. Without it (and without
   * `codec`, `redundancy`, `playoutDelayMs`, which ask for that path on a perfect line) the two
   * ends are wired directly: each frame copied as it is, the cheapest call (and T.38, if asked
   * for, runs on a path without loss or jitter).
   */
  line?: LineSpec;
  sender: SendOptions;
  /** The receiving terminal, or `null` for nobody answering: the sender hears silence until its T.30 timers end the call. */
  receiver: Receiving;
  /** Real time, one frame per 20 ms (default false: as fast as the CPU allows). */
  paced?: boolean;
  /** Bound on line time without a page getting through, from the start and then from each page (default four hours). */
  timeLimitMs?: number;
  /** Both ends hang up at this line time (ms), as when the call is ended mid-fax. */
  hangUpAtMs?: number;
  /** Keep what each end put on the line, for `audio` (silence while an end runs T.38). */
  recordAudio?: boolean;
  /** Aborting hangs up both ends. */
  signal?: AbortSignal;
  /**
   * Line time after one end finished at which the other is hung up, as the far end's hang-up
   * (a BYE) would reach it; default 2000 ms. `Infinity` leaves the other end to its own timers.
   */
  farEndHangUpMs?: number;
  /** Hears both ends' events as they happen. */
  onEvent?: (side: 'send' | 'receive', event: FaxEvent) => void;
  /** Both ends run T.38 from the start, over a simulated UDPTL path with the line's loss, jitter, … */
  t38?: T38Options;
  /** Both ends start in audio and one asks to switch to T.38 (the line acts on both paths). */
  t38Switch?: SimulatedT38Switch;
}

/** The T.38 switch of a simulated call: who asks, and how the far end's signalling answers. */
export interface SimulatedT38Switch {
  /** The end that asks for T.38 on its first frame (default 'receiver', as answering gateways do). */
  requester?: 'sender' | 'receiver';
  /** The far end accepts (both switch), refuses (a 488), or never answers (the request times out). Default 'accept'. */
  answer?: 'accept' | 'refuse' | 'none';
  /** Line time the signalling takes to answer, ms (default 200). */
  answerDelayMs?: number;
  /** What the requester offers (default T38_DEFAULTS). */
  offer?: T38Options;
  /** How long the requester waits for an answer (default the session's, 10 s). */
  answerTimeoutMs?: number;
}

/**
 * What a simulated call produced. `Receiver` is `FaxResult | null` when the receiver may not
 * have answered (options' `receiver` may be null).
 */
export interface SimulatedCall<Receiver extends FaxResult | null = FaxResult> {
  sender: FaxResult;
  /** null when nobody answered. */
  receiver: Receiver;
  senderEvents: FaxEvent[];
  receiverEvents: FaxEvent[];
  /** Line time until both ends finished, ms. */
  durationMs: number;
  /**
   * Each end's line statistics: what it sent and what its jitter buffer (or UDPTL) did; on a
   * direct wire (kind DIRECT_LINE_KIND) only the frames it sent.
   */
  senderLine: LineStats;
  receiverLine: LineStats;
  /** The medium each end finished on. */
  senderMedium: 'audio' | 't38';
  receiverMedium: 'audio' | 't38';
  /** What each end put on the line, when `recordAudio` was set. */
  audio?: LineAudio;
}

/** One end of a simulated call: its session (null for nobody answering) and the lines it may use. */
interface SimulatedEnd {
  session: FaxSession | null;
  audio: AudioLine | null;
  t38: DatagramLine | null;
  recorder: AudioRecorder | null;
}

/** Runs one 20 ms tick of `end` on whichever line its session's medium is. */
function tickEnd(end: SimulatedEnd, nowMs: number, heard: Int16Array, sent: Int16Array): void {
  const { session } = end;
  if (session === null) {
    // Nobody answered: nothing on the line from this end.
    end.recorder?.append(null);
  } else if (session.medium === 't38') {
    const line = end.t38!;
    line.poll((datagram) => session.receiveDatagram(datagram), nowMs);
    session.tick((datagram) => line.send(datagram, nowMs));
    end.recorder?.append(null);
  } else {
    const line = end.audio!;
    const got = line.read(heard, nowMs);
    session.process(got ? heard : null, sent);
    line.write(sent, nowMs);
    end.recorder?.append(sent);
  }
}

/** The statistics of the line an end finished on, with UDPTL's figures when it ran T.38. */
function endStats(end: SimulatedEnd): LineStats {
  if (end.session?.medium === 't38') return withUdptlStats(end.t38!.stats(), end.session.udptlStats());
  // An end that never answered has its line all the same, unused.
  return (end.audio ?? end.t38!).stats();
}

/** Checks a `hangUpAtMs` option: undefined, or milliseconds of line time from 0. */
export function checkHangUpAt(hangUpAtMs: unknown): number | undefined {
  if (hangUpAtMs === undefined) return undefined;
  if (typeof hangUpAtMs !== 'number' || !Number.isFinite(hangUpAtMs) || hangUpAtMs < 0)
    throw new InvalidOptionError('hangUpAtMs must be a number of milliseconds from 0');
  return hangUpAtMs;
}

/**
 * Runs a whole fax between a sending and a receiving terminal over a simulated line (or a direct
 * wire). Never rejects for a failed fax.
 */
export async function runSimulatedCall<Receiving extends ReceiveOptions | null>(
  options: SimulatedCallOptions<Receiving>,
): Promise<SimulatedCall<null extends Receiving ? FaxResult | null : FaxResult>> {
  if (typeof options !== 'object' || options === null) throw new InvalidOptionError('Expected an object for options');
  const limit = new CallTimeLimit(options.timeLimitMs);
  const hangUpAtMs = checkHangUpAt(options.hangUpAtMs);
  if (options.t38 && options.t38Switch)
    throw new InvalidOptionError('t38 (T.38 from the start) and t38Switch (audio that switches) exclude each other');
  const sw = options.t38Switch;
  const rtp =
    options.line !== undefined ||
    options.codec !== undefined ||
    options.redundancy !== undefined ||
    options.playoutDelayMs !== undefined;
  const line = options.line ?? defaultLineSpec();
  const [senderAudio, receiverAudio] = options.t38
    ? [null, null]
    : rtp
      ? simulatedLinePair(line, options)
      : directLinePair();
  const [senderT38, receiverT38] = options.t38 || sw ? simulatedDatagramPair({ line }) : [null, null];
  const senderEvents: FaxEvent[] = [];
  const receiverEvents: FaxEvent[] = [];
  let sender: FaxSession | null = null;
  let receiver: FaxSession | null = null;
  const hangUpBoth = (detail: string): void => {
    sender?.hangUp(detail);
    receiver?.hangUp(detail);
  };
  const onAbort = (): void => hangUpBoth('the call was cancelled');
  const requester = sw?.requester ?? 'receiver';
  const medium = (side: 'sender' | 'receiver') =>
    options.t38
      ? { t38: options.t38 }
      : sw
        ? {
            t38Switch: {
              request: side === requester,
              offer: sw.offer,
              ...(sw.answerTimeoutMs !== undefined ? { answerTimeoutMs: sw.answerTimeoutMs } : {}),
            },
          }
        : {};
  /** The simulated far end's answer to a T.38 request, due at a line time. */
  const signalling: { answer: { atMs: number; run: () => void } | null } = { answer: null };
  let nowMs = 0;
  try {
    sender = new FaxSession({ direction: 'send', ...options.sender, ...medium('sender') });
    if (options.receiver !== null)
      receiver = new FaxSession({ direction: 'receive', ...options.receiver, ...medium('receiver') });
    sender.on('event', (e) => {
      senderEvents.push(e);
      options.onEvent?.('send', e);
    });
    receiver?.on('event', (e) => {
      receiverEvents.push(e);
      options.onEvent?.('receive', e);
    });
    limit.watch(sender, () => nowMs);
    if (receiver) limit.watch(receiver, () => nowMs);
    if (sw && receiver) {
      const [asking, asked] = requester === 'sender' ? [sender, receiver] : [receiver, sender];
      asking.on('t38-request', (offer) => {
        const answer = sw.answer ?? 'accept';
        if (answer === 'none') return;
        signalling.answer = {
          atMs: nowMs + (sw.answerDelayMs ?? 200),
          run: () => {
            if (answer === 'refuse') {
              asking.t38Refused('488 Not Acceptable Here');
              return;
            }
            // The far end takes the offer as it is: both restart T.30 in T.38 mode.
            asked.switchToT38(offer);
            asking.switchToT38(offer);
          },
        };
      });
    }
    options.signal?.addEventListener('abort', onAbort, { once: true });
    if (options.signal?.aborted) onAbort();
    // A sender that cannot send its document finishes as it is made, reported on the next
    // microtask: it never calls, and the receiver is hung up before the line starts.
    await Promise.resolve();
    if (sender.finished) receiver?.hangUp('the far end hung up');
    const recording = options.recordAudio === true;
    const ends: SimulatedEnd[] = [
      { session: sender, audio: senderAudio, t38: senderT38, recorder: recording ? new AudioRecorder() : null },
      { session: receiver, audio: receiverAudio, t38: receiverT38, recorder: recording ? new AudioRecorder() : null },
    ];
    const heard = new Int16Array(SAMPLES_PER_FRAME);
    const sent = new Int16Array(SAMPLES_PER_FRAME);
    const clock = options.paced ? new FrameClock() : null;
    const farEndHangUpMs = options.farEndHangUpMs ?? FAR_END_HANG_UP_MS;
    const allFinished = (): boolean => sender!.finished && (receiver?.finished ?? true);
    let frames = 0;
    let oneFinishedAtMs = -1;
    while (!allFinished()) {
      nowMs = frames * FRAME_MS;
      if (hangUpAtMs !== undefined && nowMs >= hangUpAtMs)
        hangUpBoth(`both ends hung up at ${hangUpAtMs / 1000} s of line time (hangUpAtMs)`);
      if (limit.reached(nowMs)) hangUpBoth(limit.detail);
      if (receiver && sender.finished !== receiver.finished) {
        if (oneFinishedAtMs < 0) oneFinishedAtMs = nowMs;
        else if (nowMs - oneFinishedAtMs >= farEndHangUpMs) {
          (sender.finished ? receiver : sender).hangUp('the far end hung up');
        }
      }
      // A hang-up above ends the call here: the line time is the time it happened.
      if (allFinished()) break;
      const answer = signalling.answer;
      if (answer && nowMs >= answer.atMs) {
        signalling.answer = null;
        answer.run();
      }
      for (const end of ends) tickEnd(end, nowMs, heard, sent);
      frames++;
      if (clock) await clock.next();
      else if (frames % 250 === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    const call: SimulatedCall<FaxResult | null> = {
      sender: await sender.done,
      receiver: receiver && (await receiver.done),
      senderEvents,
      receiverEvents,
      durationMs: frames * FRAME_MS,
      senderLine: endStats(ends[0]!),
      receiverLine: endStats(ends[1]!),
      senderMedium: sender.medium,
      receiverMedium: receiver?.medium ?? 'audio',
    };
    if (recording) call.audio = { sent: ends[0]!.recorder!.take(), received: ends[1]!.recorder!.take() };
    // The receiver's result is null only when its options were.
    return call as SimulatedCall<null extends Receiving ? FaxResult | null : FaxResult>;
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
    sender?.close();
    receiver?.close();
    for (const path of [senderAudio, receiverAudio, senderT38, receiverT38]) await path?.close();
  }
}
