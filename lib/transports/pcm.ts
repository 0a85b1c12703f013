/**
 * PCM frames from a media server: the host drives the fax with its own 20 ms audio clock.
 * Per frame it pushes what it heard from the line and pulls what to send; or it pipes a
 * Duplex stream of s16le 8 kHz audio. The per-frame calls allocate nothing: samples go
 * straight between the host's Int16Arrays and the SpanDSP terminal.
 */
import * as os from 'node:os';
import { Duplex } from 'node:stream';
import { InvalidOptionError } from '../base/errors';
import { FaxSession, SAMPLES_PER_FRAME, type FaxSessionOptions } from '../engine/session';
import type { ReceiveOptions, SendOptions } from '../engine/options';
import type { FaxMedia, MediaControl, MediaOutcome } from './media';

const FRAME_BYTES = SAMPLES_PER_FRAME * 2;

/**
 * A line a media server feeds with 8 kHz signed 16-bit frames. Hand it to sendFax as
 * `call.media`, then from the host's audio clock call `push(heard)` and `pull(out)` (or
 * `process(heard, out)`, both in one call) every 20 ms until sendFax resolves. Before the
 * terminal starts (while the document is fetched and rendered) and after the fax ends it
 * sends silence and ignores what it hears. `hangUp()` when the call ends: the fax stops with
 * SpanDSP's call-dropped code.
 *
 * @example
 * const media = new PcmMedia();
 * const outcome = sendFax({ document: 'https://example.com/invoice.pdf' }, { ...context, media });
 * const out = new Int16Array(160);
 * rtp.on('frame', (heard) => { media.push(heard); media.pull(out); rtp.send(out); });
 * rtp.on('bye', () => media.hangUp());
 * const { variables } = await outcome;
 */
export class PcmMedia implements FaxMedia {
  readonly kind = 'pcm';
  readonly #hangUp = new AbortController();
  #session: FaxSession | null = null;
  #started = false;
  #ended = false;
  #stream: PcmStream | null = null;

  /** Aborted by hangUp(): the call is over. */
  get signal(): AbortSignal {
    return this.#hangUp.signal;
  }

  /** Whether the sending terminal is running (frames reach the fax). */
  get active(): boolean {
    return this.#session !== null;
  }

  /** Whether the fax operation is over (sendFax is resolving or has resolved). */
  get ended(): boolean {
    return this.#ended;
  }

  /** Feeds audio heard from the line (normally 160 samples), or `null` for a lost frame. */
  push(received: Int16Array | null): void {
    const session = this.#session;
    if (session === null) return;
    if (received === null) session.receiveMissing(SAMPLES_PER_FRAME);
    else session.receive(received);
  }

  /** Fills `out` (normally 160 samples) with audio to send, in place. */
  pull(out: Int16Array): void {
    const session = this.#session;
    if (session === null) out.fill(0);
    else session.transmit(out);
  }

  /** push(received) then pull(transmit) in one call: the cheapest way for 20 ms frames. */
  process(received: Int16Array | null, transmit: Int16Array): void {
    const session = this.#session;
    if (session === null) transmit.fill(0);
    else session.process(received, transmit);
  }

  /** The call ended (the far end hung up, the host tore it down). Idempotent. */
  hangUp(): void {
    this.#hangUp.abort();
  }

  /**
   * The line as a Duplex stream of s16le 8 kHz mono: write what was heard from the line
   * (any chunking), read what to send, one 20 ms frame (320 bytes) out per 20 ms in. The
   * received audio is the clock. Ending the writable side hangs up; the readable side ends
   * when the fax is over. One stream per medium.
   */
  stream(): Duplex {
    if (this.#stream) throw new InvalidOptionError('PcmMedia.stream() was already called');
    if (os.endianness() !== 'LE') throw new InvalidOptionError('The PCM stream needs a little-endian host');
    this.#stream = new PcmStream(this);
    if (this.#ended) this.#stream.endReadable();
    return this.#stream;
  }

  /** @internal FaxMedia: runs the sending terminal on the frames the host feeds. */
  send(options: SendOptions, control: MediaControl): Promise<MediaOutcome> {
    return this.#run({ direction: 'send', ...options }, control);
  }

  /** @internal FaxMedia: runs the receiving terminal on the frames the host feeds. */
  receive(options: ReceiveOptions, control: MediaControl): Promise<MediaOutcome> {
    return this.#run({ direction: 'receive', ...options }, control);
  }

  async #run(options: FaxSessionOptions, control: MediaControl): Promise<MediaOutcome> {
    if (this.#started) throw new InvalidOptionError('A PcmMedia carries one fax; make one per fax operation');
    this.#started = true;
    const session = new FaxSession({ ...options, signal: control.signal });
    session.on('event', control.onEvent);
    this.#session = session;
    try {
      const result = await session.done;
      return { result, durationMs: session.elapsedMs };
    } finally {
      this.#session = null;
      session.close();
    }
  }

  /** @internal FaxMedia: the fax operation is over. */
  end(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#stream?.endReadable();
  }
}

/** The Duplex behind PcmMedia.stream(). */
class PcmStream extends Duplex {
  readonly #media: PcmMedia;
  readonly #stage = Buffer.alloc(FRAME_BYTES);
  readonly #heard = new Int16Array(this.#stage.buffer, this.#stage.byteOffset, SAMPLES_PER_FRAME);
  #staged = 0;
  /** A write held back until the reader wants more (backpressure). */
  #held: (() => void) | null = null;

  constructor(media: PcmMedia) {
    super({ allowHalfOpen: true });
    this.#media = media;
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    let wantsMore = true;
    for (let offset = 0; offset < chunk.length;) {
      const n = Math.min(FRAME_BYTES - this.#staged, chunk.length - offset);
      chunk.copy(this.#stage, this.#staged, offset, offset + n);
      this.#staged += n;
      offset += n;
      if (this.#staged < FRAME_BYTES) break;
      this.#staged = 0;
      if (this.#media.ended) continue;
      // Each frame out is handed to the reader, so it needs its own buffer. Unzeroed: process()
      // writes all 160 samples (silence when no terminal runs); pool slices are 8-byte aligned.
      const frame = Buffer.allocUnsafe(FRAME_BYTES);
      this.#media.process(this.#heard, new Int16Array(frame.buffer, frame.byteOffset, SAMPLES_PER_FRAME));
      if (!this.#media.ended) wantsMore = this.push(frame) && wantsMore;
    }
    if (wantsMore) callback();
    else this.#held = callback;
  }

  override _read(): void {
    const held = this.#held;
    this.#held = null;
    held?.();
  }

  /** The fax is over: no more audio to read; writes from now on are accepted and dropped. */
  endReadable(): void {
    this.push(null);
    this._read();
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.#media.hangUp();
    callback();
  }
}
