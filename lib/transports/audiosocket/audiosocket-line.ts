/**
 * One AudioSocket call as an AudioLine, over a connected TCP socket. TCP never loses audio but
 * stalls: what arrives is re-cut into 20 ms frames in a small FIFO, a read that finds it empty
 * is a missing frame (SpanDSP fills it in), and a backlog past the bound drops the oldest frames
 * rather than time-stretching the call. What we send is paced by the caller, one frame a tick;
 * a peer that stops reading costs dropped frames, not memory.
 */
import type { Socket } from 'node:net';
import { FaxlineError, InvalidOptionError } from '../../base/errors';
import type { AudioLine, LineEnd, LineStats } from '../line';
import {
  AudioSocketParser,
  HEADER_BYTES,
  KIND_AUDIO,
  KIND_AUDIO_HIGH_RATE_FIRST,
  KIND_AUDIO_HIGH_RATE_LAST,
  KIND_DTMF,
  KIND_ERROR,
  KIND_HANGUP,
  KIND_UUID,
  bytesToUuid,
  describeError,
  encodeMessage,
  uuidToBytes,
  type AudioSocketMessage,
} from './protocol';

/** Samples in one 20 ms frame at 8 kHz. */
export const FRAME_SAMPLES = 160;
const FRAME_BYTES = FRAME_SAMPLES * 2;
/** An audio message of one frame, header included. */
const AUDIO_MESSAGE_BYTES = HEADER_BYTES + FRAME_BYTES;
/** Bound on the wait for the peer to close after our hangup before the socket is destroyed. */
const CLOSE_TIMEOUT_MS = 1000;

/** An AudioSocket connection failed or broke the protocol before the call began. */
export class AudioSocketError extends FaxlineError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_FAXLINE_AUDIOSOCKET', message, options);
  }
}

/** Options of AudioSocketLine. */
export interface AudioSocketLineOptions {
  /**
   * Client side: the call's UUID, sent as the first message at once. Omitted on the server
   * side, where the peer's first message must be its UUID.
   */
  uuid?: string;
  /** Server side: how long the peer has to send its UUID (default 5000 ms). */
  uuidTimeoutMs?: number;
  /** Frames the receive FIFO holds before the oldest are dropped as late (default 10 = 200 ms). */
  maxQueuedFrames?: number;
  /** The line ends with 'silence' when no audio came for this long after the first (default 10 000 ms). */
  silenceTimeoutMs?: number;
  /** Bytes waiting in the socket past which frames to send are dropped (default about 1 s of audio). */
  maxSendBacklogBytes?: number;
  /** Called for each DTMF digit the peer sends. */
  onDtmf?: (digit: string) => void;
}

function positiveInteger(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value <= 0)
    throw new InvalidOptionError(`Expected a positive integer for ${name} but got ${String(value)}`);
  return value;
}

/**
 * Checks line options without a socket, so a server or client can refuse bad ones up front.
 * @throws InvalidOptionError naming the first bad option.
 */
export function checkAudioSocketLineOptions(options: AudioSocketLineOptions): void {
  positiveInteger('maxQueuedFrames', options.maxQueuedFrames, 0);
  positiveInteger('silenceTimeoutMs', options.silenceTimeoutMs, 0);
  positiveInteger('maxSendBacklogBytes', options.maxSendBacklogBytes, 0);
  positiveInteger('uuidTimeoutMs', options.uuidTimeoutMs, 0);
  if (options.uuid !== undefined) uuidToBytes(options.uuid);
  if (options.onDtmf !== undefined && typeof options.onDtmf !== 'function')
    throw new InvalidOptionError('Expected a function for onDtmf');
}

/**
 * An AudioLine over an AudioSocket TCP connection (kind 'audiosocket'). The server side learns
 * the call's UUID from the peer's first message; the client side sends it first.
 */
export class AudioSocketLine implements AudioLine {
  /** Always 'audiosocket'. */
  readonly kind = 'audiosocket';
  private endedWith: LineEnd | null = null;
  private callUuid: string | null;
  private readonly parser: AudioSocketParser;
  private readonly maxQueued: number;
  private readonly silenceMs: number;
  private readonly maxBacklog: number;
  private readonly onDtmf?: (digit: string) => void;
  /** The receive FIFO: a ring of preallocated frames, so steady state allocates nothing. */
  private readonly ring: Int16Array[];
  private ringHead = 0;
  private ringCount = 0;
  /** The frame being filled from audio payloads that do not end on a frame boundary. */
  private readonly partial = new Int16Array(FRAME_SAMPLES);
  private partialHave = 0;
  private handshakeDone: boolean;
  private readonly readyPromise: Promise<void>;
  private settleReady!: (error?: Error) => void;
  private handshakeTimer: NodeJS.Timeout | null = null;
  private silenceTimer: NodeJS.Timeout | null = null;
  private lastAudioAt = -1;
  private closePromise: Promise<void> | null = null;
  /** Messages well-formed but out of place (a second UUID, audio at another rate); counted as malformed. */
  private unexpected = 0;
  private readonly counts = {
    framesSent: 0,
    framesReceived: 0,
    late: 0,
    missing: 0,
    stalledSent: 0,
    dtmf: 0,
  };

  /**
   * Takes over a connected socket: from here on the line reads and writes it and closes it.
   * @throws InvalidOptionError for a bad option (a malformed UUID, a non-positive bound).
   */
  constructor(
    private readonly socket: Socket,
    options: AudioSocketLineOptions = {},
  ) {
    this.maxQueued = positiveInteger('maxQueuedFrames', options.maxQueuedFrames, 10);
    this.silenceMs = positiveInteger('silenceTimeoutMs', options.silenceTimeoutMs, 10_000);
    this.maxBacklog = positiveInteger('maxSendBacklogBytes', options.maxSendBacklogBytes, 50 * AUDIO_MESSAGE_BYTES);
    const uuidTimeoutMs = positiveInteger('uuidTimeoutMs', options.uuidTimeoutMs, 5000);
    const uuidBytes = options.uuid === undefined ? null : uuidToBytes(options.uuid);
    this.onDtmf = options.onDtmf;
    this.ring = Array.from({ length: this.maxQueued }, () => new Int16Array(FRAME_SAMPLES));
    this.callUuid = uuidBytes === null ? null : options.uuid!.toLowerCase();
    this.handshakeDone = false;
    this.readyPromise = new Promise<void>((resolve, reject) => {
      let settled = false;
      this.settleReady = (error) => {
        if (settled) return;
        settled = true;
        if (error) reject(error);
        else resolve();
      };
    });
    // A caller that never awaits ready() must not see an unhandled rejection.
    this.readyPromise.catch(() => undefined);

    this.parser = new AudioSocketParser({
      message: (message) => this.onMessage(message),
      malformed: (reason) => {
        if (!this.handshakeDone) this.failHandshake(`sent a malformed message first: ${reason}`);
      },
    });
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      if (this.endedWith === null && this.closePromise === null) this.parser.feed(chunk);
    });
    socket.on('end', () => this.end({ reason: 'hangup', detail: 'the AudioSocket peer hung up' }));
    socket.on('close', () => this.end({ reason: 'hangup', detail: 'the AudioSocket peer hung up' }));
    socket.on('error', (error: Error) =>
      this.end({ reason: 'error', detail: `the AudioSocket connection failed: ${error.message}` }, error),
    );

    if (uuidBytes !== null) {
      // TCP keeps order, so audio written from here on follows the UUID: the handshake is done.
      this.handshakeDone = true;
      socket.write(encodeMessage(KIND_UUID, uuidBytes), (error) => {
        if (error) this.settleReady(new AudioSocketError('Could not send the UUID', { cause: error }));
        else this.settleReady();
      });
    } else {
      this.handshakeTimer = setTimeout(
        () => this.failHandshake(`sent no UUID within ${uuidTimeoutMs} ms`),
        uuidTimeoutMs,
      );
      this.handshakeTimer.unref();
    }
  }

  /** The call's UUID (RFC 4122 text, lower case); null on the server side until it arrived. */
  get uuid(): string | null {
    return this.callUuid;
  }

  /** Why the line ended on its own side, or null while it runs. */
  get ended(): LineEnd | null {
    return this.endedWith;
  }

  /** Where the peer is, "host:port", for logs. */
  get remote(): string {
    return `${this.socket.remoteAddress ?? '?'}:${this.socket.remotePort ?? '?'}`;
  }

  /**
   * Resolves once the UUID was received (server side) or sent (client side). Rejects with an
   * AudioSocketError when the peer sent something else first, nothing in time, or went away.
   */
  ready(): Promise<void> {
    return this.readyPromise;
  }

  /** Takes the oldest frame heard into `heard`; false when none is there (late or lost audio). */
  read(heard: Int16Array): boolean {
    if (this.ringCount === 0) {
      if (this.lastAudioAt >= 0) this.counts.missing++;
      return false;
    }
    heard.set(this.ring[this.ringHead]);
    this.ringHead = (this.ringHead + 1) % this.maxQueued;
    this.ringCount--;
    return true;
  }

  /** Sends one 160-sample frame as one audio message, unless the socket is backed up (then dropped and counted). */
  write(frame: Int16Array): void {
    if (!this.handshakeDone || this.endedWith !== null || this.closePromise !== null || !this.socket.writable) return;
    if (this.socket.writableLength > this.maxBacklog) {
      this.counts.stalledSent++;
      return;
    }
    // A Buffer per message: the socket keeps it until it is flushed.
    const message = Buffer.allocUnsafe(AUDIO_MESSAGE_BYTES);
    message[0] = KIND_AUDIO;
    message.writeUInt16BE(FRAME_BYTES, 1);
    for (let i = 0; i < FRAME_SAMPLES; i++) message.writeInt16LE(frame[i] ?? 0, HEADER_BYTES + 2 * i);
    this.socket.write(message);
    this.counts.framesSent++;
  }

  /** Statistics so far. */
  stats(): LineStats {
    return {
      kind: this.kind,
      uuid: this.callUuid,
      ...this.counts,
      malformed: this.parser.malformed + this.unexpected,
    };
  }

  /**
   * Hangs up: sends the hangup message if the socket still takes data, ends the socket and
   * resolves once it is closed (destroyed after 1 s if the peer does not close). Idempotent.
   */
  close(): Promise<void> {
    if (this.closePromise) return this.closePromise;
    this.clearTimers();
    this.settleReady(new AudioSocketError('The AudioSocket line was closed before the call began'));
    const socket = this.socket;
    this.closePromise = new Promise<void>((resolve) => {
      if (socket.destroyed) return resolve();
      const timer = setTimeout(() => socket.destroy(), CLOSE_TIMEOUT_MS);
      socket.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
      if (socket.writable) socket.end(encodeMessage(KIND_HANGUP));
      else socket.destroy();
    });
    return this.closePromise;
  }

  private onMessage(message: AudioSocketMessage): void {
    const { kind, payload } = message;
    if (!this.handshakeDone) {
      if (kind !== KIND_UUID) return this.failHandshake(`sent message kind 0x${kind.toString(16)} before its UUID`);
      this.callUuid = bytesToUuid(payload);
      this.handshakeDone = true;
      this.clearHandshakeTimer();
      this.settleReady();
      return;
    }
    switch (kind) {
      case KIND_AUDIO:
        return this.onAudio(payload);
      case KIND_HANGUP:
        return this.end({ reason: 'hangup', detail: 'the AudioSocket peer hung up' });
      case KIND_ERROR:
        return this.end({ reason: 'error', detail: `AudioSocket error ${describeError(payload)}` });
      case KIND_DTMF:
        this.counts.dtmf++;
        this.onDtmf?.(String.fromCharCode(payload[0]));
        return;
      default:
        // A second UUID, or audio at a rate a fax cannot use: well-formed, but wrong for this call.
        if (kind === KIND_UUID || (kind >= KIND_AUDIO_HIGH_RATE_FIRST && kind <= KIND_AUDIO_HIGH_RATE_LAST))
          this.unexpected++;
    }
  }

  private onAudio(payload: Buffer): void {
    if (this.lastAudioAt < 0) this.armSilenceTimer();
    this.lastAudioAt = performance.now();
    const samples = payload.length >> 1;
    for (let i = 0; i < samples; i++) {
      this.partial[this.partialHave++] = payload.readInt16LE(2 * i);
      if (this.partialHave === FRAME_SAMPLES) {
        this.pushFrame();
        this.partialHave = 0;
      }
    }
  }

  private pushFrame(): void {
    this.counts.framesReceived++;
    if (this.ringCount === this.maxQueued) {
      // Full: the oldest frame is too late to matter now; drop it rather than grow or stretch time.
      this.ringHead = (this.ringHead + 1) % this.maxQueued;
      this.ringCount--;
      this.counts.late++;
    }
    this.ring[(this.ringHead + this.ringCount) % this.maxQueued].set(this.partial);
    this.ringCount++;
  }

  private armSilenceTimer(): void {
    const check = (): void => {
      this.silenceTimer = null;
      if (this.endedWith !== null || this.closePromise !== null) return;
      const quiet = performance.now() - this.lastAudioAt;
      if (quiet >= this.silenceMs) {
        this.end({
          reason: 'silence',
          detail: `no AudioSocket audio from ${this.remote} for ${this.silenceMs / 1000} s`,
        });
        return;
      }
      this.silenceTimer = setTimeout(check, this.silenceMs - quiet + 1);
      this.silenceTimer.unref();
    };
    this.silenceTimer = setTimeout(check, this.silenceMs);
    this.silenceTimer.unref();
  }

  private failHandshake(why: string): void {
    if (this.handshakeDone) return;
    const error = new AudioSocketError(`The AudioSocket peer ${this.remote} ${why}`);
    this.end({ reason: 'error', detail: error.message });
    this.settleReady(error);
  }

  private end(end: LineEnd, cause?: Error): void {
    if (this.endedWith !== null || this.closePromise !== null) return;
    this.endedWith = end;
    this.clearTimers();
    this.settleReady(new AudioSocketError(`The AudioSocket call ended before it began: ${end.detail}`, { cause }));
  }

  private clearHandshakeTimer(): void {
    if (this.handshakeTimer) clearTimeout(this.handshakeTimer);
    this.handshakeTimer = null;
  }

  private clearTimers(): void {
    this.clearHandshakeTimer();
    if (this.silenceTimer) clearTimeout(this.silenceTimer);
    this.silenceTimer = null;
  }
}
