/**
 * A simulated T.38 call path in one process: two DatagramLines joined without sockets, each
 * direction through the line simulator (loss, bursts, duplication, jitter that reorders) and a
 * fixed latency. Time is line time: a datagram sent at `nowMs` is polled by the other end once
 * its poll's `nowMs` reaches the arrival time, so a whole call runs unpaced and deterministic for
 * a seed, as impaired-line.ts does for audio.
 */
import { checkObject } from '../../base/checks';
import { InvalidOptionError } from '../../base/errors';
import { LineImpairment, type LineSpec, type PacketImpairment } from '../impairments';
import type { DatagramLine, LineEnd } from '../line';

/** One direction of the simulated path: a line description, or an impairment object of one's own. */
export type DatagramPathSpec = LineSpec | PacketImpairment;

/** Options of simulatedDatagramPair. */
export interface DatagramPairOptions {
  /** Both directions (a→b is direction 0, b→a direction 1, each with its own random streams). */
  line?: LineSpec;
  /** The a→b direction, instead of `line` (a LineSpec is used as direction 0). */
  aToB?: DatagramPathSpec;
  /** The b→a direction, instead of `line` (a LineSpec is used as direction 1). */
  bToA?: DatagramPathSpec;
  /** One-way delay added to every datagram, ms (default 20). */
  latencyMs?: number;
}

/** The statistics of one end of a simulated path (a type alias, so that it is a LineStats). */
export type SimulatedDatagramStats = {
  kind: 'simulated-udptl';
  /** Datagrams this end sent into the path. */
  sent: number;
  /** Datagrams this end polled. */
  received: number;
  /** Datagrams this end sent that the simulator lost. */
  droppedBySimulator: number;
  /** Extra copies of this end's datagrams the simulator made. */
  duplicatedBySimulator: number;
  /** Datagrams towards this end dropped because too many were in flight. */
  overflow: number;
  /** Datagrams on their way to this end now. */
  inFlight: number;
};

/** One end of a simulated datagram path: a DatagramLine that can also hang up. */
export interface SimulatedDatagramLine extends DatagramLine {
  /** Statistics so far. */
  stats(): SimulatedDatagramStats;
  /** Ends the call from this side: the other end's `ended` becomes 'hangup'; nothing more is sent either way. */
  hangUp(detail?: string): void;
}

/** Default one-way delay, ms: one 20 ms tick, as on a short network path. */
const DEFAULT_LATENCY_MS = 20;
/** The longest latency accepted, ms (as the simulator's longest jitter). */
const MAX_LATENCY_MS = 5000;
/** Datagrams in flight towards one end at most; more are dropped and counted. */
const MAX_IN_FLIGHT = 4096;
/** Copies of one datagram the impairment may ask for at most. */
const MAX_DELIVERIES = 8;

interface InFlight {
  datagram: Uint8Array;
  atMs: number;
}

function isImpairment(value: DatagramPathSpec): value is PacketImpairment {
  return typeof (value as PacketImpairment).deliveries === 'function';
}

class SimulatedEnd implements SimulatedDatagramLine {
  readonly kind = 'simulated-udptl';
  peer: SimulatedEnd | null = null;
  readonly #impairment: PacketImpairment | null;
  readonly #ownsImpairment: boolean;
  readonly #latencyMs: number;
  readonly #times: number[] = new Array<number>(MAX_DELIVERIES).fill(0);
  /** Datagrams on their way to this end, in arrival order (equal times keep send order). */
  readonly #inbox: InFlight[] = [];
  #ended: LineEnd | null = null;
  #over = false;
  #closed = false;
  #counts = { sent: 0, received: 0, lost: 0, duplicated: 0, overflow: 0 };

  constructor(impairment: PacketImpairment | null, ownsImpairment: boolean, latencyMs: number) {
    this.#impairment = impairment;
    this.#ownsImpairment = ownsImpairment;
    this.#latencyMs = latencyMs;
  }

  get ended(): LineEnd | null {
    return this.#ended;
  }

  ready(): Promise<void> {
    return Promise.resolve();
  }

  poll(deliver: (datagram: Uint8Array) => void, nowMs: number): void {
    if (this.#closed) return;
    const inbox = this.#inbox;
    let taken = 0;
    while (taken < inbox.length && inbox[taken].atMs <= nowMs) taken++;
    if (taken === 0) return;
    // Taken off first, so a deliver callback that sends cannot disturb this loop.
    const due = inbox.splice(0, taken);
    for (const item of due) {
      this.#counts.received++;
      deliver(item.datagram);
    }
  }

  send(datagram: Uint8Array, nowMs: number): void {
    const peer = this.peer;
    if (this.#closed || this.#over || !peer || peer.#closed) return;
    this.#counts.sent++;
    const impairment = this.#impairment;
    const times = this.#times;
    let copies = 1;
    if (impairment) copies = Math.min(impairment.deliveries(nowMs, times), MAX_DELIVERIES);
    else times[0] = nowMs;
    if (copies <= 0) {
      this.#counts.lost++;
      return;
    }
    if (copies > 1) this.#counts.duplicated += copies - 1;
    for (let i = 0; i < copies; i++) {
      // An impairment never delivers before the send; a faulty one is held to that.
      const atMs = Math.max(nowMs, times[i]) + this.#latencyMs;
      peer.#arrive(Uint8Array.from(datagram), atMs);
    }
  }

  hangUp(detail = 'the far end hung up'): void {
    if (this.#over) return;
    this.#over = true;
    const peer = this.peer;
    if (peer) {
      peer.#over = true;
      if (peer.#ended === null) peer.#ended = { reason: 'hangup', detail };
    }
  }

  stats(): SimulatedDatagramStats {
    return {
      kind: this.kind,
      sent: this.#counts.sent,
      received: this.#counts.received,
      droppedBySimulator: this.#counts.lost,
      duplicatedBySimulator: this.#counts.duplicated,
      overflow: this.#counts.overflow,
      inFlight: this.#inbox.length,
    };
  }

  close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      this.#inbox.length = 0;
      if (this.#ownsImpairment) this.#impairment?.close?.();
    }
    return Promise.resolve();
  }

  #arrive(datagram: Uint8Array, atMs: number): void {
    if (this.#closed) return;
    const inbox = this.#inbox;
    if (inbox.length >= MAX_IN_FLIGHT) {
      this.#counts.overflow++;
      return;
    }
    // Jitter reorders: insert by arrival time, after any datagram due at the same time.
    let i = inbox.length;
    while (i > 0 && inbox[i - 1].atMs > atMs) i--;
    inbox.splice(i, 0, { datagram, atMs });
  }
}

function makeImpairment(
  spec: DatagramPathSpec | undefined,
  direction: 0 | 1,
  name: string,
): { impairment: PacketImpairment | null; owned: boolean } {
  if (spec === undefined) return { impairment: null, owned: false };
  if (typeof spec !== 'object' || spec === null)
    throw new InvalidOptionError(`Expected a LineSpec or a PacketImpairment for ${name}`);
  if (isImpairment(spec)) return { impairment: spec, owned: false };
  return { impairment: new LineImpairment(spec, direction), owned: true };
}

/**
 * Two ends of one simulated T.38 path: what `a` sends, `b` polls, and back. Each direction goes
 * through its impairment (`aToB`/`bToA`, or `line` for both; none: a perfect path) and then
 * `latencyMs`. With a LineSpec the datagrams lost are exactly those of the simulator's
 * lossPattern for that seed and direction, the n-th datagram sent being packet n.
 *
 * @example
 * const [a, b] = simulatedDatagramPair({ line: parseLineSpec('loss=5%,seed=7') });
 * a.send(datagram, 0);
 * b.poll((d) => session.receive(d), 20);
 */
export function simulatedDatagramPair(
  options: DatagramPairOptions = {},
): [SimulatedDatagramLine, SimulatedDatagramLine] {
  checkObject(options, 'options');
  const latencyMs = options.latencyMs ?? DEFAULT_LATENCY_MS;
  if (typeof latencyMs !== 'number' || !Number.isFinite(latencyMs) || latencyMs < 0 || latencyMs > MAX_LATENCY_MS)
    throw new InvalidOptionError(
      `Expected a number of ms in [0, ${MAX_LATENCY_MS}] for latencyMs but got ${latencyMs}`,
    );
  const ab = makeImpairment(options.aToB ?? options.line, 0, 'aToB');
  let ba: { impairment: PacketImpairment | null; owned: boolean };
  try {
    ba = makeImpairment(options.bToA ?? options.line, 1, 'bToA');
  } catch (error) {
    if (ab.owned) ab.impairment?.close?.();
    throw error;
  }
  const a = new SimulatedEnd(ab.impairment, ab.owned, latencyMs);
  const b = new SimulatedEnd(ba.impairment, ba.owned, latencyMs);
  a.peer = b;
  b.peer = a;
  return [a, b];
}
