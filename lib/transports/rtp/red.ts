/**
 * RFC 2198 redundant audio: one RTP payload carrying the current (primary) encoding and copies
 * of earlier ones, so a lost packet can be rebuilt from the next. ITU-T V.152 uses it for
 * voice-band data such as fax.
 *
 * Layout (RFC 2198 §3): a 4-byte header per redundant block
 *   F=1 (1 bit) | block PT (7) | timestamp offset (14) | block length (10)
 * then a 1-byte header for the primary, F=0 | PT (7), then the data blocks in header order,
 * primary last.
 */

/** One block of a RED payload. The primary has timestampOffset 0. */
export interface RedBlock {
  /** The block's own RTP payload type (7 bits). */
  payloadType: number;
  /** How far before the packet's RTP timestamp this block's timestamp is (14 bits). */
  timestampOffset: number;
  /** The block's data (a view into the packet when parsed). */
  data: Uint8Array;
}

/** The largest timestamp offset a block header can carry (14 bits). */
export const RED_MAX_TIMESTAMP_OFFSET = 0x3fff;
/** The largest block length a block header can carry (10 bits). */
export const RED_MAX_BLOCK_LENGTH = 0x3ff;
/** Bytes of a redundant block's header. */
export const RED_BLOCK_HEADER_BYTES = 4;

/** True when a redundant block with this offset and length can be written (RFC 2198 field widths). */
export function redBlockExpressible(timestampOffset: number, length: number): boolean {
  return (
    Number.isInteger(timestampOffset) &&
    timestampOffset >= 0 &&
    timestampOffset <= RED_MAX_TIMESTAMP_OFFSET &&
    length <= RED_MAX_BLOCK_LENGTH
  );
}

/** Writes one redundant block's 4-byte header at `offset`; returns the offset after it. */
export function writeRedBlockHeader(
  out: Uint8Array,
  offset: number,
  payloadType: number,
  timestampOffset: number,
  length: number,
): number {
  out[offset] = 0x80 | (payloadType & 0x7f);
  out[offset + 1] = (timestampOffset >> 6) & 0xff;
  out[offset + 2] = ((timestampOffset & 0x3f) << 2) | ((length >> 8) & 0x03);
  out[offset + 3] = length & 0xff;
  return offset + RED_BLOCK_HEADER_BYTES;
}

/** Writes the primary's 1-byte header (F=0) at `offset`; returns the offset after it. */
export function writeRedPrimaryHeader(out: Uint8Array, offset: number, payloadType: number): number {
  out[offset] = payloadType & 0x7f;
  return offset + 1;
}

/**
 * Encodes a RED payload into `out` at `offset`: the redundant blocks (oldest first, as given)
 * then the primary. A redundant block whose offset or length the header cannot express is
 * dropped. Returns the number of bytes written; `out` must have room (see redEncodedLength).
 */
export function encodeRed(
  redundant: readonly RedBlock[],
  primary: { payloadType: number; data: Uint8Array },
  out: Uint8Array,
  offset = 0,
): number {
  let p = offset;
  for (const block of redundant) {
    if (!redBlockExpressible(block.timestampOffset, block.data.length)) continue;
    p = writeRedBlockHeader(out, p, block.payloadType, block.timestampOffset, block.data.length);
  }
  p = writeRedPrimaryHeader(out, p, primary.payloadType);
  for (const block of redundant) {
    if (!redBlockExpressible(block.timestampOffset, block.data.length)) continue;
    out.set(block.data, p);
    p += block.data.length;
  }
  out.set(primary.data, p);
  p += primary.data.length;
  return p - offset;
}

/** The bytes encodeRed would write for these blocks (the expressible ones). */
export function redEncodedLength(redundant: readonly RedBlock[], primary: { data: Uint8Array }): number {
  let n = 1 + primary.data.length;
  for (const block of redundant) {
    if (redBlockExpressible(block.timestampOffset, block.data.length)) n += RED_BLOCK_HEADER_BYTES + block.data.length;
  }
  return n;
}

/**
 * Parses a RED payload into its blocks, in packet order (oldest redundant first, primary last
 * with offset 0). Null when malformed: a header or a block runs past the end. Never throws.
 */
export function parseRed(payload: Uint8Array): RedBlock[] | null {
  const headers: { payloadType: number; timestampOffset: number; length: number }[] = [];
  let p = 0;
  // Each redundant header takes 4 bytes, so the loop ends within payload.length / 4 steps.
  for (;;) {
    if (p >= payload.length) return null;
    const b0 = payload[p];
    if ((b0 & 0x80) === 0) {
      headers.push({ payloadType: b0 & 0x7f, timestampOffset: 0, length: -1 });
      p += 1;
      break;
    }
    if (p + RED_BLOCK_HEADER_BYTES > payload.length) return null;
    const b1 = payload[p + 1];
    const b2 = payload[p + 2];
    const b3 = payload[p + 3];
    headers.push({
      payloadType: b0 & 0x7f,
      timestampOffset: (b1 << 6) | (b2 >> 2),
      length: ((b2 & 0x03) << 8) | b3,
    });
    p += RED_BLOCK_HEADER_BYTES;
  }
  const blocks: RedBlock[] = [];
  for (const h of headers) {
    const length = h.length < 0 ? payload.length - p : h.length;
    if (p + length > payload.length) return null;
    blocks.push({
      payloadType: h.payloadType,
      timestampOffset: h.timestampOffset,
      data: payload.subarray(p, p + length),
    });
    p += length;
  }
  return blocks;
}
