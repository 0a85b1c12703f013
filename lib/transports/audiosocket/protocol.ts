/**
 * Asterisk's AudioSocket wire format (res_audiosocket / app_audiosocket): a stream of messages
 * over TCP, each a 1-byte kind, a 16-bit big-endian payload length and the payload. Pure
 * functions and a streaming parser: no sockets here, so every byte rule is testable alone.
 */
import { InvalidOptionError } from '../../base/errors';

/** Terminate the call; no payload (closing the socket means the same). */
export const KIND_HANGUP = 0x00;
/** The call's UUID, 16 bytes in binary; the first message the connecting side sends. */
export const KIND_UUID = 0x01;
/** One DTMF digit as one ASCII byte (Asterisk 20 and later). */
export const KIND_DTMF = 0x03;
/** Signed linear 16-bit little-endian PCM, 8 kHz mono: the only audio faxline carries. */
export const KIND_AUDIO = 0x10;
/** The same PCM at 12, 16, 24, 32, 44.1, 48, 96 and 192 kHz (newer Asterisk): 0x11 to 0x18. */
export const KIND_AUDIO_HIGH_RATE_FIRST = 0x11;
/** The last of the higher-rate audio kinds. */
export const KIND_AUDIO_HIGH_RATE_LAST = 0x18;
/** Something failed on the sending side; the payload is an optional error code. */
export const KIND_ERROR = 0xff;

/** Bytes of the header: kind (1) and payload length (2, big-endian). */
export const HEADER_BYTES = 3;
/** The largest payload the 16-bit length field can state. */
export const MAX_PAYLOAD_BYTES = 0xffff;
/** Bytes of a UUID in binary form. */
export const UUID_BYTES = 16;

/**
 * Asterisk's error codes: one byte, one bit per cause, so several may be set at once.
 * (The AudioSocket protocol definition lists exactly these three.)
 */
export const ASTERISK_ERROR_BITS: ReadonlyArray<readonly [bit: number, meaning: string]> = [
  [0x01, 'hangup of calling party'],
  [0x02, 'frame forwarding error'],
  [0x04, 'memory (allocation) error'],
];

/** One parsed message. `payload` may share memory with the chunk it came in: copy what you keep. */
export interface AudioSocketMessage {
  /** The kind byte (one of the KIND_ constants). */
  kind: number;
  /** The payload, exactly as long as the header said. */
  payload: Buffer;
}

/** Builds one message: header and payload in one Buffer. */
export function encodeMessage(kind: number, payload?: Uint8Array): Buffer {
  if (!Number.isInteger(kind) || kind < 0 || kind > 0xff)
    throw new InvalidOptionError(`Expected a kind byte (0-255) but got ${String(kind)}`);
  const length = payload?.length ?? 0;
  if (length > MAX_PAYLOAD_BYTES)
    throw new InvalidOptionError(`An AudioSocket payload holds at most ${MAX_PAYLOAD_BYTES} bytes, got ${length}`);
  const out = Buffer.allocUnsafe(HEADER_BYTES + length);
  out[0] = kind;
  out.writeUInt16BE(length, 1);
  if (payload) out.set(payload, HEADER_BYTES);
  return out;
}

const UUID_TEXT = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** True for a UUID in RFC 4122's text form (8-4-4-4-12 hex digits, either case). */
export function isUuid(text: string): boolean {
  return typeof text === 'string' && UUID_TEXT.test(text);
}

/** RFC 4122 text form → the 16 bytes in network order, as AudioSocket's UUID message carries them. */
export function uuidToBytes(text: string): Buffer {
  if (!isUuid(text))
    throw new InvalidOptionError(
      `Expected a UUID like 40325ec2-5efd-4bd3-805f-53576e581d13 but got ${JSON.stringify(text)}`,
    );
  return Buffer.from(text.replace(/-/g, ''), 'hex');
}

/** 16 bytes → RFC 4122 text form, lower case. */
export function bytesToUuid(bytes: Uint8Array): string {
  if (bytes.length !== UUID_BYTES) throw new InvalidOptionError(`A UUID is ${UUID_BYTES} bytes, got ${bytes.length}`);
  const hex = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** Words for an error message's payload, e.g. "0x01 (hangup of calling party)". */
export function describeError(payload: Uint8Array): string {
  if (payload.length === 0) return 'without a code';
  const code = payload[0];
  const hex = `0x${code.toString(16).padStart(2, '0')}`;
  const meanings = ASTERISK_ERROR_BITS.filter(([bit]) => (code & bit) !== 0).map(([, meaning]) => meaning);
  const known = ASTERISK_ERROR_BITS.reduce((all, [bit]) => all | bit, 0);
  if ((code & ~known) !== 0 || code === 0) meanings.push('unknown code');
  return `${hex} (${meanings.join(', ')})`;
}

/** The digits a DTMF message may carry: the 16 keys of a DTMF keypad. */
const DTMF_DIGITS = '0123456789*#ABCD';

/** Options of AudioSocketParser. */
export interface AudioSocketParserOptions {
  /**
   * Payloads longer than this are malformed and skipped (default 16 000 bytes: 1 s of 8 kHz
   * audio, fifty times what Asterisk sends per message).
   */
  maxPayloadBytes?: number;
}

/** What the parser reports. */
export interface AudioSocketParserHandlers {
  /** A well-formed message. */
  message(message: AudioSocketMessage): void;
  /** A message that broke the rules; it was skipped, the stream stays in step. */
  malformed?(reason: string, kind: number, length: number): void;
}

/**
 * Cuts a TCP byte stream into messages. Feed chunks as they come: a message may be split
 * anywhere, several may share a chunk. A message that breaks the rules (unknown kind, a length
 * wrong for its kind or over the bound, audio of an odd number of bytes, a DTMF byte that is no
 * key) is counted and skipped by its stated length, without buffering it, and parsing goes on.
 * Never throws on input.
 */
export class AudioSocketParser {
  private readonly maxPayload: number;
  private readonly header = Buffer.alloc(HEADER_BYTES);
  private headerHave = 0;
  /** The message being read: its kind and length, its payload so far (null while skipping). */
  private kind = 0;
  private length = 0;
  private payload: Buffer | null = null;
  private payloadHave = 0;
  private inPayload = false;
  private skipping = false;
  private malformedCount = 0;
  private messageCount = 0;

  constructor(
    private readonly handlers: AudioSocketParserHandlers,
    options: AudioSocketParserOptions = {},
  ) {
    const max = options.maxPayloadBytes ?? 16_000;
    if (!Number.isInteger(max) || max < UUID_BYTES || max > MAX_PAYLOAD_BYTES)
      throw new InvalidOptionError(`maxPayloadBytes must be an integer from ${UUID_BYTES} to ${MAX_PAYLOAD_BYTES}`);
    this.maxPayload = max;
  }

  /** Messages that were skipped as malformed. */
  get malformed(): number {
    return this.malformedCount;
  }

  /** Well-formed messages delivered. */
  get messages(): number {
    return this.messageCount;
  }

  /** Bytes of an unfinished message held in memory, waiting for the rest (none for one being skipped). */
  get pendingBytes(): number {
    if (!this.inPayload) return this.headerHave;
    return this.skipping ? 0 : HEADER_BYTES + this.payloadHave;
  }

  /** Consumes one chunk; calls the handlers for every message it completes. */
  feed(chunk: Uint8Array): void {
    const data = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    let at = 0;
    // Each turn consumes at least one byte or completes a message, so the loop is bounded by the chunk.
    while (at < data.length || (this.inPayload && this.payloadHave === this.length)) {
      if (!this.inPayload) {
        const take = Math.min(HEADER_BYTES - this.headerHave, data.length - at);
        data.copy(this.header, this.headerHave, at, at + take);
        this.headerHave += take;
        at += take;
        if (this.headerHave < HEADER_BYTES) break;
        this.headerHave = 0;
        this.startMessage(this.header[0], this.header.readUInt16BE(1));
        // The payload may start in a later chunk; a zero-length one completes right here.
        if (at >= data.length && this.length > 0) break;
        continue;
      }
      const need = this.length - this.payloadHave;
      if (need === 0) {
        this.finishMessage();
        continue;
      }
      const take = Math.min(need, data.length - at);
      if (this.payload === null && !this.skipping && take === need && this.payloadHave === 0) {
        // The whole payload is in this chunk: hand out a view instead of copying.
        this.payload = data.subarray(at, at + take);
      } else if (!this.skipping) {
        if (this.payload === null) this.payload = Buffer.allocUnsafe(this.length);
        data.copy(this.payload, this.payloadHave, at, at + take);
      }
      this.payloadHave += take;
      at += take;
    }
  }

  private startMessage(kind: number, length: number): void {
    this.kind = kind;
    this.length = length;
    this.payload = null;
    this.payloadHave = 0;
    this.inPayload = true;
    const problem = this.checkHeader(kind, length);
    this.skipping = problem !== null;
    if (problem !== null) this.reportMalformed(problem);
  }

  private finishMessage(): void {
    this.inPayload = false;
    const payload = this.payload ?? Buffer.alloc(0);
    this.payload = null;
    if (this.skipping) return;
    if (this.kind === KIND_DTMF && !DTMF_DIGITS.includes(String.fromCharCode(payload[0]))) {
      this.reportMalformed(`a DTMF message carries byte 0x${payload[0].toString(16).padStart(2, '0')}, not a key`);
      return;
    }
    this.messageCount++;
    this.handlers.message({ kind: this.kind, payload });
  }

  /** Why a header cannot start a valid message, or null when it can. */
  private checkHeader(kind: number, length: number): string | null {
    if (length > this.maxPayload) return `a payload of ${length} bytes is over the bound of ${this.maxPayload}`;
    switch (kind) {
      case KIND_HANGUP:
        return length === 0 ? null : `a hangup message carries ${length} bytes; it has no payload`;
      case KIND_UUID:
        return length === UUID_BYTES ? null : `a UUID message carries ${length} bytes, not ${UUID_BYTES}`;
      case KIND_DTMF:
        return length === 1 ? null : `a DTMF message carries ${length} bytes, not 1`;
      case KIND_ERROR:
        return null;
      default:
        if (kind >= KIND_AUDIO && kind <= KIND_AUDIO_HIGH_RATE_LAST) {
          if (length === 0) return 'an audio message carries no samples';
          return length % 2 === 0 ? null : `an audio message carries ${length} bytes, not whole 16-bit samples`;
        }
        return `unknown kind 0x${kind.toString(16).padStart(2, '0')}`;
    }
  }

  private reportMalformed(reason: string): void {
    this.malformedCount++;
    this.handlers.malformed?.(reason, this.kind, this.length);
  }
}
