/**
 * A simulated call in one process: two fax terminals, each on its own AudioLine, joined through
 * the real RTP path (G.711 encoder, packetiser with optional RFC 2198 redundancy, jitter buffer,
 * decoder) with the line simulator on each sending side. Time is line time: unpaced, a whole
 * call runs as fast as the CPU allows, deterministic for a seed.
 */
import { checkTimeLimit, timeLimitDetail } from '../engine/call-limit';
import { InvalidOptionError } from '../engine/errors';
import type { FaxEvent } from '../engine/events';
import type { ReceiveOptions, SendOptions, T38Options } from '../engine/options';
import type { FaxResult } from '../engine/result';
import { FaxSession, SAMPLES_PER_FRAME } from '../engine/session';
import { G711_PAYLOAD_TYPE, g711Decode, g711Encode, type G711Law } from './g711';
import { LineImpairment, type LineImpairmentStats, type LineSpec } from './impairments';
import type { AudioLine, DatagramLine, LineEnd, LineStats } from './line';
import { simulatedDatagramPair } from './t38/datagram-pair';
import { FrameClock, FRAME_MS, withUdptlStats } from './line-driver';
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

/** Options of runSimulatedCall. */
export interface SimulatedCallOptions extends SimulatedRtpOptions {
  /** The line (loss, jitter, noise, …). */
  line: LineSpec;
  sender: SendOptions;
  receiver: ReceiveOptions;
  /** Real time, one frame per 20 ms (default false: as fast as the CPU allows). */
  paced?: boolean;
  /** Upper bound on line time (default four hours). */
  timeLimitMs?: number;
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

/** What a simulated call produced. */
export interface SimulatedCall {
  sender: FaxResult;
  receiver: FaxResult;
  senderEvents: FaxEvent[];
  receiverEvents: FaxEvent[];
  /** Line time until both ends finished, ms. */
  durationMs: number;
  /** Each end's line statistics: what it sent and what its jitter buffer (or UDPTL) did. */
  senderLine: LineStats;
  receiverLine: LineStats;
  /** The medium each end finished on. */
  senderMedium: 'audio' | 't38';
  receiverMedium: 'audio' | 't38';
}

/** One end of a simulated call: its session and the lines it may use. */
interface SimulatedEnd {
  session: FaxSession;
  audio: AudioLine | null;
  t38: DatagramLine | null;
}

/** Runs one 20 ms tick of `end` on whichever line its session's medium is. */
function tickEnd(end: SimulatedEnd, nowMs: number, heard: Int16Array, sent: Int16Array): void {
  const { session } = end;
  if (session.medium === 't38') {
    const line = end.t38!;
    line.poll((datagram) => session.receiveDatagram(datagram), nowMs);
    session.tick((datagram) => line.send(datagram, nowMs));
  } else {
    const line = end.audio!;
    const got = line.read(heard, nowMs);
    session.process(got ? heard : null, sent);
    line.write(sent, nowMs);
  }
}

/** The statistics of the line an end finished on, with UDPTL's figures when it ran T.38. */
function endStats(end: SimulatedEnd): LineStats {
  if (end.session.medium !== 't38') return end.audio!.stats();
  return withUdptlStats(end.t38!.stats(), end.session.udptlStats());
}

/**
 * Runs a whole fax between a sending and a receiving terminal over a simulated line. Never
 * rejects for a failed fax.
 */
export async function runSimulatedCall(options: SimulatedCallOptions): Promise<SimulatedCall> {
  const limitMs = checkTimeLimit(options.timeLimitMs);
  if (options.t38 && options.t38Switch)
    throw new InvalidOptionError('t38 (T.38 from the start) and t38Switch (audio that switches) exclude each other');
  const sw = options.t38Switch;
  const [senderAudio, receiverAudio] = options.t38 ? [null, null] : simulatedLinePair(options.line, options);
  const [senderT38, receiverT38] = options.t38 || sw ? simulatedDatagramPair({ line: options.line }) : [null, null];
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
    receiver = new FaxSession({ direction: 'receive', ...options.receiver, ...medium('receiver') });
    sender.on('event', (e) => {
      senderEvents.push(e);
      options.onEvent?.('send', e);
    });
    receiver.on('event', (e) => {
      receiverEvents.push(e);
      options.onEvent?.('receive', e);
    });
    if (sw) {
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
    const ends: SimulatedEnd[] = [
      { session: sender, audio: senderAudio, t38: senderT38 },
      { session: receiver, audio: receiverAudio, t38: receiverT38 },
    ];
    const heard = new Int16Array(SAMPLES_PER_FRAME);
    const sent = new Int16Array(SAMPLES_PER_FRAME);
    const clock = options.paced ? new FrameClock() : null;
    const farEndHangUpMs = options.farEndHangUpMs ?? FAR_END_HANG_UP_MS;
    let frames = 0;
    let oneFinishedAtMs = -1;
    while (!(sender.finished && receiver.finished)) {
      nowMs = frames * FRAME_MS;
      if (nowMs >= limitMs) hangUpBoth(timeLimitDetail(limitMs));
      if (sender.finished !== receiver.finished) {
        if (oneFinishedAtMs < 0) oneFinishedAtMs = nowMs;
        else if (nowMs - oneFinishedAtMs >= farEndHangUpMs) {
          (sender.finished ? receiver : sender).hangUp('the far end hung up');
        }
      }
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
    return {
      sender: await sender.done,
      receiver: await receiver.done,
      senderEvents,
      receiverEvents,
      durationMs: frames * FRAME_MS,
      senderLine: endStats(ends[0]!),
      receiverLine: endStats(ends[1]!),
      senderMedium: sender.medium,
      receiverMedium: receiver.medium,
    };
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
    sender?.close();
    receiver?.close();
    for (const line of [senderAudio, receiverAudio, senderT38, receiverT38]) await line?.close();
  }
}
