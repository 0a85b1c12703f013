/**
 * A T.38 gateway: SpanDSP's t38_gateway between an audio leg (a G.711 caller, a fax machine on a
 * PSTN port) and a T.38 leg (a trunk or a T.38 terminal), so a media server can connect the two as
 * FreeSWITCH and rtpengine do. The gateway has no fax of its own: it demodulates what the audio
 * leg sends into IFPs and modulates the IFPs it receives into audio, and reports the T.30 frames
 * it relays. Time advances by the audio frames.
 */
import { EventEmitter } from 'node:events';
import { CallTimeLimit } from '../../engine/call-limit';
import { checkObject } from '../../base/checks';
import { InvalidOptionError, SessionClosedError, rethrowNative } from '../../base/errors';
import { checkT38Options, toNativeModems, toNativeT38, type Modem, type T38Options } from '../../engine/options';
import type { UdptlStats } from '../../engine/session';
import { native, type NativeFrameLine, type NativeGatewayDatagramPort, type NativeT38Gateway } from '../../native';
import type { AudioLine, DatagramLine, LineEnd, LineStats } from '../line';
import { FrameClock, FRAME_MS } from '../clock';
import { withUdptlStats } from '../line';

const SAMPLES_PER_FRAME = native.constants.SAMPLES_PER_FRAME;
const MAX_DATAGRAM = native.constants.UDPTL_MAX_DATAGRAM;
/** Frames run between yields to the event loop when unpaced. */
const FRAMES_PER_SLICE = 250;

/** Options of a T38Gateway. */
export interface T38GatewayOptions {
  /** The T.38 leg's settings as negotiated (default T38_DEFAULTS). */
  t38?: T38Options;
  /** Let the two fax machines use ECM (default true). */
  ecm?: boolean;
  /** Modems the gateway lets the audio leg use (default all). */
  modems?: readonly Modem[];
}

/** A T.30 control frame the gateway relayed, and the leg it came in on. */
export interface GatewayFrameEvent {
  type: 'frame';
  timeMs: number;
  from: 'audio' | 't38';
  /** SpanDSP's name for the frame type, e.g. "DIS". */
  name: string;
  bytes: Buffer;
}

/** What the gateway saw of the fax passing through. */
export interface GatewayStats {
  bitRate: number;
  ecm: boolean;
  pagesTransferred: number;
  udptl: UdptlStats;
}

/** The events a T38Gateway emits. */
export interface T38GatewayEvents {
  frame: [GatewayFrameEvent];
}

/**
 * SpanDSP's T.38 gateway. Per 20 ms frame of the audio leg call `process(heard, transmit, send)`;
 * hand it every datagram of the T.38 leg with `receiveDatagram`. Close it when done (idempotent).
 */
export class T38Gateway extends EventEmitter<T38GatewayEvents> {
  readonly t38: Required<T38Options>;
  #native: NativeT38Gateway | null;
  #audio: NativeFrameLine;
  #port: NativeGatewayDatagramPort;
  #oversized = 0;

  constructor(options: T38GatewayOptions = {}) {
    super();
    checkObject(options, 'options');
    if (options.ecm !== undefined && typeof options.ecm !== 'boolean')
      throw new InvalidOptionError('ecm must be a boolean');
    this.t38 = checkT38Options(options.t38 ?? {});
    try {
      this.#native = new native.T38Gateway({
        t38: toNativeT38(this.t38),
        ecm: options.ecm ?? true,
        ...(options.modems !== undefined ? { modems: toNativeModems(options.modems) } : {}),
      });
    } catch (error) {
      rethrowNative(error);
    }
    this.#audio = this.#native.frameBuffers();
    this.#port = this.#native.datagramBuffers();
  }

  /**
   * One 20 ms frame of the audio leg: the frame heard (or null when it was lost) in, the frame to
   * send out in `transmit`; each datagram the T.38 leg must send goes to `send` (valid only during
   * that call).
   */
  process(heard: Int16Array | null, transmit: Int16Array, send: (datagram: Uint8Array) => void): void {
    this.#open();
    if (transmit.length !== SAMPLES_PER_FRAME || (heard !== null && heard.length !== SAMPLES_PER_FRAME))
      throw new InvalidOptionError(`A gateway frame is ${SAMPLES_PER_FRAME} samples`);
    let pending: number;
    if (heard === null) pending = this.#audio.processLost();
    else {
      this.#audio.received.set(heard);
      pending = this.#audio.process();
    }
    transmit.set(this.#audio.transmit);
    const count = this.#port.take();
    const { outbox, lengths } = this.#port;
    for (let i = 0; i < count; i++) send(outbox.subarray(i * MAX_DATAGRAM, i * MAX_DATAGRAM + lengths[i]!));
    // The audio call's count covers the gateway's one queue of events: no second native call.
    if (pending > 0) this.#drain();
  }

  /** One UDPTL datagram from the T.38 leg. Malformed ones are counted, never thrown. */
  receiveDatagram(datagram: Uint8Array): void {
    this.#open();
    if (datagram.length > this.#port.inbound.length) {
      this.#oversized++;
      return;
    }
    this.#port.inbound.set(datagram);
    if (this.#port.receive(datagram.length) > 0) this.#drain();
  }

  /** The fax passing through, and the T.38 leg's UDPTL figures. */
  stats(): GatewayStats {
    const gateway = this.#open();
    const udptl = gateway.udptlStats();
    return { ...gateway.stats(), udptl: { ...udptl, malformed: udptl.malformed + this.#oversized } };
  }

  /** Audio time fed so far, ms. */
  get elapsedMs(): number {
    return this.#open().elapsedMs();
  }

  get closed(): boolean {
    return this.#native === null;
  }

  /** Frees the gateway. Idempotent. */
  close(): void {
    this.#native?.close();
    this.#native = null;
  }

  #open(): NativeT38Gateway {
    if (!this.#native) throw new SessionClosedError('The T.38 gateway is closed');
    return this.#native;
  }

  #drain(): void {
    for (const frame of this.#open().takeEvents()) this.emit('frame', frame);
  }
}

/** Options of runGateway. */
export interface RunGatewayOptions {
  /** Real time (default true). False runs as fast as the CPU allows (simulated lines only). */
  paced?: boolean;
  /**
   * Bound on the call's time without a page getting through (from the start, then from each
   * MCF the gateway relays; default four hours).
   */
  timeLimitMs?: number;
  /** Aborting ends the bridge. */
  signal?: AbortSignal;
}

/** How a bridged call ended. */
export interface GatewayOutcome {
  /** Why the bridge stopped: a leg ended (its reason), the time limit, or the signal. */
  end: LineEnd | { reason: 'time-limit' | 'cancelled'; detail: string };
  durationMs: number;
  stats: GatewayStats;
  audioLine: LineStats;
  t38Line: LineStats;
}

/**
 * Bridges `audio` and `t38` through `gateway` until either leg ends (the callers hang up), the
 * time limit passes or `signal` aborts. The lines and the gateway are not closed.
 */
export async function runGateway(
  gateway: T38Gateway,
  audio: AudioLine,
  t38: DatagramLine,
  options: RunGatewayOptions = {},
): Promise<GatewayOutcome> {
  const limit = new CallTimeLimit(options.timeLimitMs);
  const heard = new Int16Array(SAMPLES_PER_FRAME);
  const sent = new Int16Array(SAMPLES_PER_FRAME);
  const clock = (options.paced ?? true) ? new FrameClock() : null;
  let frames = 0;
  // A page got through when the receiving side confirms it (MCF, after each ECM block too).
  const onFrame = (frame: GatewayFrameEvent): void => {
    if (frame.name === 'MCF') limit.pageAt(frames * FRAME_MS);
  };
  gateway.on('frame', onFrame);
  let end: GatewayOutcome['end'] | null = null;
  try {
    while (!end) {
      const nowMs = frames * FRAME_MS;
      end =
        audio.ended ??
        t38.ended ??
        (options.signal?.aborted ? { reason: 'cancelled', detail: 'the call was cancelled' } : null) ??
        (limit.reached(nowMs) ? { reason: 'time-limit', detail: limit.detail } : null);
      if (end) break;
      t38.poll((datagram) => gateway.receiveDatagram(datagram), nowMs);
      const got = audio.read(heard, nowMs);
      gateway.process(got ? heard : null, sent, (datagram) => t38.send(datagram, nowMs));
      audio.write(sent, nowMs);
      frames++;
      if (clock) await clock.next();
      else if (frames % FRAMES_PER_SLICE === 0) await new Promise((resolve) => setImmediate(resolve));
    }
  } finally {
    gateway.off('frame', onFrame);
  }
  const stats = gateway.stats();
  return {
    end,
    durationMs: frames * FRAME_MS,
    stats,
    audioLine: audio.stats(),
    t38Line: withUdptlStats(t38.stats(), stats.udptl),
  };
}
