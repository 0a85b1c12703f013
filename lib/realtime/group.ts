/**
 * SessionGroup: many fax sessions on one 20 ms clock, advanced by one native call per tick.
 *
 * Each tick: every member's line is read into the group's flat buffers (the audio frame heard, or
 * the UDPTL datagrams received), one native call advances every session by one frame, then each
 * member's line gets what its session sent and each session delivers its events: after the native
 * call, in slot order, each session's in its own order. A listener may hang its session up, switch
 * it to T.38 or start a new fax in the group; it may not tick the group (ReentrantCallError).
 */
import { checkBoolean, checkInteger, checkObject } from '../base/checks';
import { CapacityError, InvalidOptionError, ReentrantCallError } from '../base/errors';
import { CallTimeLimit } from '../engine/call-limit';
import type { FaxResult } from '../engine/result';
import { groupSide, type FaxSession, type GroupSide } from '../engine/session';
import { native, type NativeGroupBuffers, type NativeSessionGroup } from '../native';
import { FRAME_MS, FrameClock } from '../transports/clock';
import { callLines, isDatagramLine, type AudioLine, type CallLines, type DatagramLine } from '../transports/line';

/** Line time the line keeps running after the fax ends, so the last frames (DCN) reach the far end. */
const TAIL_FRAMES = 400 / FRAME_MS;
/** Ticks run between yields to the event loop when unpaced. */
const TICKS_PER_SLICE = 250;
/** The default number of slots: far more than one thread carries in real time (see the scale bench). */
export const DEFAULT_GROUP_CAPACITY = 4096;
/** The addon's bound on a group's slots. */
const MAX_GROUP_CAPACITY = 16384;

/** Options of driveOnLine and SessionGroup.run. */
export interface DriveOptions {
  /** Real time (default true): one frame per 20 ms. False: as fast as the CPU allows. */
  paced?: boolean;
  /**
   * Bound on line time without a page getting through (from the start, then from each page);
   * the call is hung up past it, saying so in `detail` (default four hours).
   */
  timeLimitMs?: number;
  /** Aborting hangs up. */
  signal?: AbortSignal;
}

/** What a session's run on its lines hands back. */
export interface DriveOutcome {
  result: FaxResult;
  /** Line time of the fax, ms. */
  durationMs: number;
  /** Paced only: ticks that ran more than a frame late while the session ran. */
  lateTicks: number;
}

/**
 * Runs `session` on its line until the fax is over (and a short tail after it): audio frames on an
 * AudioLine, UDPTL datagrams on a DatagramLine; with both, whichever the session's medium is at each
 * tick (it may switch from audio to T.38). A group of one: see SessionGroup.run.
 */
export async function driveOnLine(
  session: FaxSession,
  lines: AudioLine | DatagramLine | CallLines,
  options: DriveOptions = {},
): Promise<DriveOutcome> {
  const group = new SessionGroup({ paced: options.paced ?? true, capacity: 1 });
  try {
    return await group.run(session, lines, options);
  } finally {
    group.close();
  }
}

/** Options of a SessionGroup. */
export interface SessionGroupOptions {
  /** Real time (default true): one tick per 20 ms. False: as fast as the CPU allows. */
  paced?: boolean;
  /** Slots: the most sessions the group carries at once (default 4096, at most 16384). */
  capacity?: number;
}

/** What a group has done so far, for metrics. */
export interface GroupStats {
  /** Sessions in the group now. */
  active: number;
  ticks: number;
  /** Ticks that started more than a frame late (paced only). */
  lateTicks: number;
  /** Frames of sessions that ran in a late tick: each session's frame was late then. */
  lateFrames: number;
  /** Frames run, summed over sessions. */
  frames: number;
  /** How late the last tick started, ms. */
  lastLatenessMs: number;
  /** CPU time of the ticks (native call and the JavaScript around it), ms. */
  busyMs: number;
  /** UDPTL datagrams the group could not hand to a session (it had left, or was in audio). */
  droppedDatagrams: number;
}

/** One session in the group, with its lines and where its call stands. */
interface Member {
  session: FaxSession;
  side: GroupSide;
  slot: number;
  lines: CallLines;
  limit: CallTimeLimit;
  signal: AbortSignal | undefined;
  onAbort: () => void;
  frames: number;
  tailFrames: number;
  durationMs: number;
  lateTicksAtStart: number;
  /** The line this tick runs on (chosen before the native call, by the session's medium). */
  line: AudioLine | DatagramLine | null;
  heard: Int16Array;
  /** Copies a datagram its line received into the group's inbound records (made once: no closure per tick). */
  queueDatagram: (datagram: Uint8Array) => void;
  transmit: Int16Array;
  resolve: (outcome: DriveOutcome) => void;
}

/** Fax sessions on one clock: see the file's comment. */
export class SessionGroup {
  readonly paced: boolean;
  readonly capacity: number;
  #native: NativeSessionGroup | null;
  readonly #buffers: NativeGroupBuffers;
  readonly #members: (Member | undefined)[];
  /** Members whose session has events after this tick (by slot). */
  readonly #hasEvents: Uint8Array;
  /** One view per outbox record, remade only when a record's length changes. */
  readonly #outboxViews: Uint8Array[] = [];
  #size = 0;
  #inbound = 0;
  #ticking = false;
  #looping = false;
  #clock: FrameClock | null = null;
  #stats = { ticks: 0, lateTicks: 0, lateFrames: 0, frames: 0, busyMs: 0, droppedDatagrams: 0 };

  constructor(options: SessionGroupOptions = {}) {
    checkObject(options, 'the group options');
    const capacity = checkInteger(options.capacity ?? DEFAULT_GROUP_CAPACITY, 'capacity', 1, MAX_GROUP_CAPACITY);
    this.paced = checkBoolean(options.paced ?? true, 'paced');
    this.capacity = capacity;
    this.#native = new native.SessionGroup(capacity);
    this.#buffers = this.#native.buffers();
    this.#members = new Array<Member | undefined>(capacity);
    this.#hasEvents = new Uint8Array(capacity);
  }

  /** Sessions in the group now. */
  get size(): number {
    return this.#size;
  }

  /** Statistics so far. */
  stats(): GroupStats {
    return {
      active: this.#size,
      ...this.#stats,
      lastLatenessMs: this.#clock?.lastLatenessMs ?? 0,
    };
  }

  /**
   * Runs `session` on its lines in this group until the fax is over and a short tail has gone out
   * (what driveOnLine does for one session). A line that ends on its own side hangs the session up
   * with the line's reason as the result's detail. Neither the session nor the lines are closed.
   * Throws CapacityError when the group is full.
   */
  run(
    session: FaxSession,
    lineOrLines: AudioLine | DatagramLine | CallLines,
    options: Omit<DriveOptions, 'paced'> = {},
  ): Promise<DriveOutcome> {
    const group = this.#open();
    if (this.#size >= this.capacity)
      throw new CapacityError('full', `The session group is full (${this.capacity} sessions)`);
    const lines = callLines(lineOrLines);
    const limit = new CallTimeLimit(options.timeLimitMs);
    const side = session[groupSide]();
    const slot = group.add(side.native);
    const frame = this.#buffers.samplesPerFrame;
    let resolve!: (outcome: DriveOutcome) => void;
    const done = new Promise<DriveOutcome>((r) => (resolve = r));
    const member: Member = {
      session,
      side,
      slot,
      lines,
      limit,
      signal: options.signal,
      onAbort: () => session.hangUp('the call was cancelled'),
      frames: 0,
      tailFrames: 0,
      durationMs: 0,
      lateTicksAtStart: this.#stats.lateTicks,
      line: null,
      heard: this.#buffers.received.subarray(slot * frame, (slot + 1) * frame),
      queueDatagram: this.#queueDatagram(slot),
      transmit: this.#buffers.transmit.subarray(slot * frame, (slot + 1) * frame),
      resolve,
    };
    this.#members[slot] = member;
    limit.watch(session, () => member.frames * FRAME_MS);
    this.#size++;
    options.signal?.addEventListener('abort', member.onAbort, { once: true });
    if (options.signal?.aborted) member.onAbort();
    if (!this.#looping) void this.#runLoop();
    return done;
  }

  /**
   * Advances every session one frame. The group's own loop calls this every 20 ms (or back to back
   * when unpaced); a host that drives the clock itself may too, never from inside a listener.
   */
  tick(): void {
    const group = this.#open();
    if (this.#ticking)
      throw new ReentrantCallError('SessionGroup.tick was called from inside a listener of its own tick');
    this.#ticking = true;
    const started = performance.now();
    try {
      this.#beforeNative();
      const eventSlots = group.tick(this.#inbound);
      this.#inbound = 0;
      this.#afterNative(eventSlots);
    } finally {
      this.#ticking = false;
      this.#stats.busyMs += performance.now() - started;
      this.#stats.ticks++;
    }
  }

  /** Closes the group: every session still in it is hung up and its run resolves. Idempotent. */
  close(): void {
    if (!this.#native) return;
    for (const member of this.#members) {
      if (!member) continue;
      member.session.hangUp('the session group was closed');
      this.#finish(member);
    }
    this.#native.close();
    this.#native = null;
  }

  #open(): NativeSessionGroup {
    if (!this.#native) throw new InvalidOptionError('The session group is closed');
    return this.#native;
  }

  async #runLoop(): Promise<void> {
    this.#looping = true;
    // Start on the next turn of the event loop: calls added together start on the same tick.
    await new Promise((resolve) => setImmediate(resolve));
    this.#clock ??= this.paced ? new FrameClock() : null;
    let ticks = 0;
    try {
      while (this.#size > 0 && this.#native) {
        const lateBefore = this.#clock?.lateTicks ?? 0;
        this.tick();
        ticks++;
        if (this.#clock) {
          await this.#clock.next();
          if (this.#clock.lateTicks > lateBefore) {
            this.#stats.lateTicks++;
            this.#stats.lateFrames += this.#size;
          }
        } else if (ticks % TICKS_PER_SLICE === 0) {
          await new Promise((resolve) => setImmediate(resolve));
        }
      }
    } finally {
      this.#looping = false;
      // A paced group that empties stops its clock; the next call starts a new one.
      this.#clock = null;
    }
  }

  /** Per member, before the native call: the checks of the call's end, then its line read in. */
  #beforeNative(): void {
    const members = this.#members;
    for (let slot = 0; slot < members.length; slot++) {
      const member = members[slot];
      if (member && !this.#prepare(member)) this.#finish(member);
    }
  }

  /** Readies one member's tick; false when its run is over. */
  #prepare(m: Member): boolean {
    const { session } = m;
    if (m.tailFrames >= TAIL_FRAMES || session.closed) return false;
    const nowMs = m.frames * FRAME_MS;
    const t38 = session.medium === 't38';
    const line = (t38 ? m.lines.t38 : m.lines.audio) ?? null;
    m.line = line;
    if (!line) {
      session.hangUp(`the call is in ${t38 ? 'T.38' : 'audio'} but has no ${t38 ? 'T.38' : 'audio'} line`);
      return false;
    }
    if (!session.finished) {
      if (line.ended) session.hangUp(line.ended.detail);
      else if (m.limit.reached(nowMs)) session.hangUp(m.limit.detail);
    }
    if (session.finished) {
      if (m.durationMs === 0) m.durationMs = nowMs;
      if (line.ended) return false;
      m.tailFrames++;
    }
    // After the fax only what we send matters (the last frames, DCN); reading on would count the far
    // end's silence once it has hung up as lost packets.
    if (session.closed) return false;
    if (isDatagramLine(line)) {
      if (!session.finished) line.poll(m.queueDatagram, nowMs);
    } else {
      this.#buffers.heard[m.slot] = !session.finished && line.read(m.heard, nowMs) ? 1 : 0;
    }
    return !session.closed;
  }

  /** A function that copies a received datagram into the next inbound record for `slot`. */
  #queueDatagram(slot: number): (datagram: Uint8Array) => void {
    return (datagram) => {
      const b = this.#buffers;
      if (datagram.length > b.datagramStride) {
        this.#stats.droppedDatagrams++;
        return;
      }
      // A full inbound area is handed over early; the sessions then see these datagrams first.
      if (this.#inbound === b.inboundSlots.length) {
        this.#native!.deliver(this.#inbound);
        this.#inbound = 0;
      }
      const i = this.#inbound++;
      b.inbound.set(datagram, i * b.datagramStride);
      b.inboundSlots[i] = slot;
      b.inboundLengths[i] = datagram.length;
    };
  }

  /** After the native call: each line gets what its session sent, then each session its events. */
  #afterNative(eventSlots: number): void {
    const b = this.#buffers;
    const members = this.#members;
    const outbound = b.counts[0]!;
    for (let i = 0; i < outbound; i++) {
      const m = members[b.outboxSlots[i]!];
      if (m?.line && isDatagramLine(m.line)) m.line.send(this.#outboxView(i), m.frames * FRAME_MS);
    }
    this.#stats.droppedDatagrams = b.counts[2]!;
    for (let i = 0; i < eventSlots; i++) this.#hasEvents[b.eventSlots[i]!] = 1;
    for (let slot = 0; slot < members.length; slot++) {
      const m = members[slot];
      if (!m) continue;
      if (m.line && !isDatagramLine(m.line)) m.line.write(m.transmit, m.frames * FRAME_MS);
      m.frames++;
      this.#stats.frames++;
      const events = this.#hasEvents[slot] === 1;
      this.#hasEvents[slot] = 0;
      // Listeners run here, after the native call; one may close its session or start another.
      m.side.afterTick(events);
    }
  }

  #outboxView(i: number): Uint8Array {
    const b = this.#buffers;
    const length = b.outboxLengths[i]!;
    let view = this.#outboxViews[i];
    if (view === undefined || view.length !== length) {
      view = b.outbox.subarray(i * b.datagramStride, i * b.datagramStride + length);
      this.#outboxViews[i] = view;
    }
    return view;
  }

  /** Takes a member out of the group and resolves its run once its result is in. */
  #finish(m: Member): void {
    if (this.#members[m.slot] !== m) return;
    this.#members[m.slot] = undefined;
    this.#size--;
    this.#native?.remove(m.slot);
    m.signal?.removeEventListener('abort', m.onAbort);
    const lateTicks = this.#stats.lateTicks - m.lateTicksAtStart;
    const durationMs = m.durationMs || m.frames * FRAME_MS;
    void m.session.done.then((result) => m.resolve({ result, durationMs, lateTicks }));
  }
}
