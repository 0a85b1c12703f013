/**
 * The only file that loads the addon. Everything native is typed here, once; the rest of
 * lib/ imports these types instead of touching the addon directly.
 */
import * as path from 'node:path';
import nodeGypBuild from 'node-gyp-build';

/** Options as the addon takes them: already validated and normalised by lib/engine. */
export interface NativeTerminalOptions {
  direction: 'send' | 'receive';
  callingParty?: boolean;
  identity?: string;
  headerInfo?: string;
  ecm?: boolean;
  modems?: number;
  compressions?: number;
  txFile?: string;
  firstPage?: number;
  lastPage?: number;
  /** true: the pages were decoded before; making the terminal reads only their tags. */
  pagesChecked?: boolean;
  rxFile?: string;
  /** A T.38 terminal instead of an audio one. */
  t38?: NativeT38Config;
}

/**
 * Transfer statistics as the addon reports them; FaxStats (lib/engine/result) adds the fields
 * derived from them. Declared here so this file imports nothing from lib/.
 */
export interface NativeStats {
  /** Image data rate in bit/s (2400 … 14400). */
  bitRate: number;
  /** Whether error correcting mode was used. */
  ecm: boolean;
  /** Pages confirmed by the receiver (sending) or received (receiving). */
  pagesTransferred: number;
  /** Pages in the file being sent (sending), -1 when unknown. */
  pagesInFile: number;
  /** Horizontal resolution of the last page, pixels per metre. */
  xResolution: number;
  /** Vertical resolution of the last page, pixels per metre. */
  yResolution: number;
  /** Width of the last page in pixels. */
  width: number;
  /** Length of the last page in rows. */
  length: number;
  /** Size of the last page's coded image, bytes. */
  imageSize: number;
  /** The compression used on the line, as SpanDSP names it (e.g. "T.6"). */
  compression: string;
  /** The compression as SpanDSP's T4_COMPRESSION_ITU_* number. */
  encoding: number;
  /** Rows received damaged in the last page. */
  badRows: number;
  /** Longest run of damaged rows in the last page. */
  longestBadRowRun: number;
  /** ECM frame retransmissions. */
  ecmRetries: number;
  /** The far end's station identity (TSI or CSI), `""` if it sent none. */
  remoteIdentity: string;
  /** The far end's country, vendor and model, from its NSF, when known. */
  remoteCountry: string;
  remoteVendor: string;
  remoteModel: string;
}

export interface NativeResult {
  code: number;
  text: string;
  success: boolean;
  pages: number;
  detail: string;
  stats: NativeStats;
}

export type NativeEvent =
  | { type: 'negotiated'; timeMs: number; stats: NativeStats }
  | { type: 'page'; timeMs: number; page: number; stats: NativeStats }
  | { type: 'finished'; timeMs: number; code: number; text: string; pages: number; stats: NativeStats }
  | { type: 'frame'; timeMs: number; direction: 'sent' | 'received'; name: string; bytes: Buffer };

/** T.38 settings as the addon takes them (see T38Options in lib/engine/options.ts). */
export interface NativeT38Config {
  version: number;
  maxBitRate: number;
  /** SpanDSP's methods: 1 local TCF, 2 transferred TCF. */
  rateManagement: 1 | 2;
  maxBuffer: number;
  maxDatagram: number;
  /** 0 none, 1 redundancy, 2 FEC. */
  errorCorrection: 0 | 1 | 2;
  redundancy: number;
  fecSpan: number;
  fecEntries: number;
  fillBitRemoval: boolean;
  transcodingMMR: boolean;
  transcodingJBIG: boolean;
}

/** See NativeFaxSession.frameBuffers. */
export interface NativeFrameLine {
  received: Int16Array;
  transmit: Int16Array;
  process(): number;
  processLost(): number;
}

/**
 * The T.38 real-time path (see NativeFaxSession.datagramBuffers): datagrams in and out through
 * buffers shared with the addon. Datagram i of a tick is `outbox[i * UDPTL_MAX_DATAGRAM ..]`,
 * `lengths[i]` bytes long.
 */
export interface NativeDatagramPort {
  inbound: Uint8Array;
  outbox: Uint8Array;
  lengths: Uint16Array;
  /** Decodes `inbound[0, length)` as one UDPTL datagram; returns the pending event count. */
  receive(length: number): number;
  /**
   * Advances `samples` of line time. Returns the datagrams now in the outbox plus 65536 × the
   * events pending (`r & 0xffff` datagrams; `r >= 65536` when events wait), one call per tick.
   */
  tick(samples: number): number;
  pendingEvents(): number;
}

/** UDPTL counters of one endpoint (UdptlStats in native/engine/udptl.h). */
export interface NativeUdptlStats {
  /** Datagrams encoded. */
  sent: number;
  /** Well-formed datagrams received. */
  received: number;
  /** IFPs handed on: primaries and rebuilt ones. */
  delivered: number;
  /** Lost IFPs rebuilt from secondary IFPs. */
  recoveredByRedundancy: number;
  /** Lost IFPs rebuilt from FEC. */
  recoveredByFec: number;
  /** IFPs never received nor rebuilt. */
  lost: number;
  /** Datagrams whose primary was already delivered. */
  duplicates: number;
  /** Datagrams older than what was delivered, not duplicates. */
  late: number;
  /** Datagrams that are not valid UDPTL. */
  malformed: number;
  /** Datagrams encoded when the tick's outbox was full, so never sent (counted, numbered as lost). */
  outboxOverflows: number;
}

export interface NativeFaxSession {
  /** 'audio' until switchToT38, or 't38' when made with `t38`. */
  medium(): 'audio' | 't38';
  datagramBuffers(): NativeDatagramPort;
  /** An audio session becomes a T.38 one; T.30 restarts in T.38 mode. */
  switchToT38(t38: NativeT38Config): void;
  udptlStats(): NativeUdptlStats | null;
  process(received: Int16Array | null, transmit: Int16Array): number;
  /**
   * The real-time path, made once per session: two 160-sample buffers shared with the addon
   * and two functions that run one frame through them (the received frame, or a lost one),
   * returning the number of pending events. They throw once the session is closed.
   */
  frameBuffers(): NativeFrameLine;
  receive(samples: Int16Array): number;
  receiveMissing(count: number): number;
  transmit(out: Int16Array): number;
  takeEvents(): NativeEvent[];
  hangUp(): void;
  close(): void;
  closed(): boolean;
  finished(): boolean;
  result(): NativeResult | null;
  elapsedMs(): number;
}

export interface NativePage {
  width: number;
  height: number;
  xDpi: number;
  yDpi: number;
  data: Uint8Array;
}

export type NativeTiffCompression = 't4-1d' | 't4-2d' | 't6';

/** How native.grayToBilevel treats the gray: per region automatically, or all text, or all photo. */
export interface NativeBilevelOptions {
  mode?: 'auto' | 'text' | 'photo';
  xDpi?: number;
  yDpi?: number;
}

/** A TIFF-F file written a page at a time; a writer not closed deletes its partial file. */
export interface NativeTiffFWriter {
  addPage(page: NativePage): void;
  /** Pages added so far. */
  pagesWritten(): number;
  /** Finishes the file; returns the pages in it. */
  close(): number;
}

/** Whether SpanDSP can send pages of a TIFF: code 0, or a T30_ERR_* file code and why. */
export interface NativeTiffCheck {
  code: number;
  detail: string;
  /** Pages in the file (0 if it could not be read). */
  pages: number;
}

/** SpanDSP's additive white Gaussian noise, added to frames in place (see lib/transports/noise). */
export interface NativeNoiseGenerator {
  /** Adds noise to every sample of `frame` in place, saturating at the 16-bit limits. */
  add(frame: Int16Array): void;
  /** Frees the generator; idempotent. Every other call throws afterwards. */
  close(): void;
}

/** UDPTL options as the addon takes them; absent ones take the engine's defaults. */
export interface NativeUdptlOptions {
  /** 0 none, 1 redundancy, 2 FEC. */
  errorCorrection?: 0 | 1 | 2;
  redundancy?: number;
  fecSpan?: number;
  fecEntries?: number;
  maxDatagram?: number;
}

/** One UDPTL endpoint (native/engine/udptl.h) for hosts and tests; not the real-time path. */
export interface NativeUdptl {
  /** The next datagram carrying `ifp` (at most UDPTL_MAX_IFP octets). */
  encode(ifp: Uint8Array): Uint8Array;
  /** The IFPs `datagram` makes available, oldest first; [] when it is malformed. */
  decode(datagram: Uint8Array): { seq: number; ifp: Uint8Array }[];
  /** The codec's statistics (it has no outbox, so no outbox overflows). */
  stats(): Omit<NativeUdptlStats, 'outboxOverflows'>;
  nextSequence(): number;
  setNextSequence(seq: number): void;
  setMaxDatagram(maxDatagram: number): void;
  /** Frees the endpoint; idempotent. Every other call throws afterwards. */
  close(): void;
}

/** Options of native.T38Gateway; each optional (defaults: T.38 defaults, ECM on, all modems). */
export interface NativeT38GatewayOptions {
  t38?: Partial<NativeT38Config>;
  ecm?: boolean;
  modems?: number;
}

/**
 * The T.38 leg of a gateway: as NativeDatagramPort, but without a tick (the audio frames
 * advance the gateway's clock); `take()` copies the datagrams queued since the last take
 * into the outbox and returns how many. They stay valid until the next call into the gateway.
 */
export interface NativeGatewayDatagramPort {
  inbound: Uint8Array;
  outbox: Uint8Array;
  lengths: Uint16Array;
  /** Decodes `inbound[0, length)` as one UDPTL datagram; returns the pending event count. */
  receive(length: number): number;
  take(): number;
  pendingEvents(): number;
}

/** A T.30 control frame the gateway relayed, and the leg it came from. */
export interface NativeGatewayFrame {
  type: 'frame';
  timeMs: number;
  from: 'audio' | 't38';
  name: string;
  bytes: Buffer;
}

/** SpanDSP's T.38 gateway between an audio leg (frameBuffers) and a T.38 leg (datagramBuffers). */
export interface NativeT38Gateway {
  /** The audio leg: as NativeFaxSession.frameBuffers; process() returns the pending event count. */
  frameBuffers(): NativeFrameLine;
  datagramBuffers(): NativeGatewayDatagramPort;
  takeEvents(): NativeGatewayFrame[];
  /** t38_gateway_get_transfer_statistics: the fax passing through. */
  stats(): { bitRate: number; ecm: boolean; pagesTransferred: number };
  udptlStats(): NativeUdptlStats;
  elapsedMs(): number;
  /** Idempotent; every other call throws afterwards. */
  close(): void;
  closed(): boolean;
}

/** The typed arrays a SessionGroup shares with JS (see native/bindings/session_group.cpp). */
export interface NativeGroupBuffers {
  capacity: number;
  samplesPerFrame: number;
  /** Bytes between two datagram records of inbound and outbox. */
  datagramStride: number;
  /** Slot s's received frame at s × samplesPerFrame; used when heard[s] is 1, else fill-in. */
  received: Int16Array;
  transmit: Int16Array;
  heard: Uint8Array;
  inbound: Uint8Array;
  inboundSlots: Uint32Array;
  inboundLengths: Uint16Array;
  outbox: Uint8Array;
  outboxSlots: Uint32Array;
  outboxLengths: Uint16Array;
  /** The slots with events waiting after a tick, in slot order. */
  eventSlots: Uint32Array;
  /** After a tick: outbound datagrams, event slots, inbound dropped (total), outbound deferred (total). */
  counts: Float64Array;
}

/** Many sessions advanced by one native call per 20 ms tick. */
export interface NativeSessionGroup {
  /** Puts the session in the lowest free slot and returns it; its own per-frame calls then throw. */
  add(session: NativeFaxSession): number;
  remove(slot: number): void;
  buffers(): NativeGroupBuffers;
  /** Hands the first `inboundCount` inbound datagram records to their sessions. */
  deliver(inboundCount: number): void;
  /** Delivers, then advances every slot one frame; returns how many slots have events. */
  tick(inboundCount: number): number;
  size(): number;
  close(): void;
}

export interface NativeAddon {
  SessionGroup: new (capacity: number) => NativeSessionGroup;
  T38Gateway: new (options?: NativeT38GatewayOptions) => NativeT38Gateway;
  Udptl: new (options: NativeUdptlOptions) => NativeUdptl;
  FaxSession: new (options: NativeTerminalOptions) => NativeFaxSession;
  completionCodes(): { code: number; text: string }[];
  writeTiffF(path: string, pages: NativePage[], compression: NativeTiffCompression): void;
  readTiff(path: string): NativePage[];
  checkTiff(path: string, firstPage: number, lastPage: number): NativeTiffCheck;
  /** checkTiff on a libuv thread. */
  checkTiffAsync(path: string, firstPage: number, lastPage: number): Promise<NativeTiffCheck>;
  /**
   * 8-bit gray (0 black, 255 white; `width` bytes a row) to a 1-bit page: text thresholded,
   * photos halftoned, chosen per region in 'auto' mode.
   */
  grayToBilevel(gray: Uint8Array, width: number, height: number, options?: NativeBilevelOptions): NativePage;
  /** totalPages (0 or absent: unknown) goes into each page's PageNumber tag; close() then insists on it. */
  TiffFWriter: new (path: string, compression: NativeTiffCompression, totalPages?: number) => NativeTiffFWriter;
  /**
   * G.711 coding of `pcm` into `out` (same length, at most 80000, not sharing memory):
   * law 0 = µ-law (PCMU), 1 = A-law (PCMA).
   */
  g711Encode(law: 0 | 1, pcm: Int16Array, out: Uint8Array): void;
  /** G.711 decoding of `payload` into `out`, with g711Encode's rules. */
  g711Decode(law: 0 | 1, payload: Uint8Array, out: Int16Array): void;
  /** seed: an integer 0..2^32-1 (equal modulo 2^30: same noise); levelDbm0: -100..+10. */
  NoiseGenerator: new (seed: number, levelDbm0: number) => NativeNoiseGenerator;
  constants: Record<
    | 'T30_ERR_OK'
    | 'T30_ERR_T0_EXPIRED'
    | 'T30_ERR_T1_EXPIRED'
    | 'T30_ERR_FILEERROR'
    | 'T30_ERR_NOPAGE'
    | 'T30_ERR_BADTIFF'
    | 'T30_ERR_BADPAGE'
    | 'T30_ERR_BADTAG'
    | 'T30_ERR_BADTIFFHDR'
    | 'T30_ERR_CALLDROPPED'
    | 'T30_SUPPORT_V27TER'
    | 'T30_SUPPORT_V29'
    | 'T30_SUPPORT_V17'
    | 'T30_SUPPORT_T4_1D_COMPRESSION'
    | 'T30_SUPPORT_T4_2D_COMPRESSION'
    | 'T30_SUPPORT_T6_COMPRESSION'
    | 'T4_COMPRESSION_ITU_T4_1D'
    | 'T4_COMPRESSION_ITU_T4_2D'
    | 'T4_COMPRESSION_ITU_T6'
    | 'T4_Y_RESOLUTION_STANDARD'
    | 'T4_Y_RESOLUTION_FINE'
    | 'T4_Y_RESOLUTION_SUPERFINE'
    | 'MAX_IDENTITY_LENGTH'
    | 'MAX_HEADER_INFO_LENGTH'
    | 'SAMPLE_RATE'
    | 'SAMPLES_PER_FRAME'
    | 'UDPTL_MAX_DATAGRAM'
    | 'UDPTL_MIN_MAX_DATAGRAM'
    | 'UDPTL_MAX_IFP'
    | 'UDPTL_MAX_REDUNDANCY'
    | 'UDPTL_MAX_FEC_SPAN'
    | 'UDPTL_MAX_FEC_ENTRIES',
    number
  >;
  spandspRelease: string;
}

/** The package root: node-gyp-build looks in prebuilds/ there, then build/Release. */
const packageRoot = path.resolve(__dirname, '..');

/** The loaded addon (one instance per thread: it is context-aware). */
export const native: NativeAddon = nodeGypBuild(packageRoot) as NativeAddon;
