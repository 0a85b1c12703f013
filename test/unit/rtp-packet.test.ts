import { parseRtp, RtpPacketizer } from '../../lib/transports/rtp/packet';
import { parseRed } from '../../lib/transports/rtp/red';

const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));
const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

describe('parseRtp reads RFC 3550 §5.1 headers', () => {
  it('reads a plain PCMU packet', () => {
    // 0x80: V=2, P=0, X=0, CC=0. 0x00: M=0, PT=0 (PCMU). seq 0x1234, ts 0x0000abcd, SSRC 0xdeadbeef.
    const p = parseRtp(hex('80 00 1234 0000abcd deadbeef 7f ff 00'));
    expect(p).not.toBeNull();
    expect(p).toMatchObject({
      marker: false,
      payloadType: 0,
      sequence: 0x1234,
      timestamp: 0xabcd,
      ssrc: 0xdeadbeef,
      padding: false,
      extension: false,
      csrc: [],
    });
    expect(toHex(p!.payload)).toBe('7fff00');
  });

  it('skips CSRCs and the header extension and strips padding', () => {
    // 0xb1: V=2, P=1, X=1, CC=1. 0x88: M=1, PT=8 (PCMA). seq 1, ts 160, SSRC 1, CSRC 2,
    // extension: profile 0xbede, length 1 word, then that word; payload aa bb; padding 00 00 03
    // (3 bytes of padding, the count byte included).
    const buf = hex('b1 88 0001 000000a0 00000001 00000002 bede0001 01020304 aabb 000003');
    const p = parseRtp(buf)!;
    expect(p).toMatchObject({ marker: true, payloadType: 8, sequence: 1, timestamp: 160, ssrc: 1, csrc: [2] });
    expect(p.padding).toBe(true);
    expect(p.extension).toBe(true);
    expect(toHex(p.payload)).toBe('aabb');
    // A view, not a copy.
    expect(p.payload.buffer).toBe(buf.buffer);
    expect(p.payload.byteOffset).toBe(buf.byteOffset + 24); // 12 + 4 (CSRC) + 4 (extension header) + 4 (one word)
  });

  it('rejects malformed packets', () => {
    expect(parseRtp(hex('80 00 0001 00000000 000000'))).toBeNull(); // 11 bytes
    expect(parseRtp(hex('40 00 0001 00000000 00000000 ff'))).toBeNull(); // version 1
    expect(parseRtp(hex('c0 00 0001 00000000 00000000 ff'))).toBeNull(); // version 3
    expect(parseRtp(hex('82 00 0001 00000000 00000000 00000001'))).toBeNull(); // CC=2, one CSRC
    expect(parseRtp(hex('90 00 0001 00000000 00000000 bede'))).toBeNull(); // extension header cut
    expect(parseRtp(hex('90 00 0001 00000000 00000000 bede0002 00000000'))).toBeNull(); // 2 words, 1 there
    expect(parseRtp(hex('a0 00 0001 00000000 00000000 ff00'))).toBeNull(); // padding count 0
    expect(parseRtp(hex('a0 00 0001 00000000 00000000 ff03'))).toBeNull(); // padding 3 > 2 bytes
  });

  it('accepts an empty payload and padding that fills the whole rest', () => {
    expect(parseRtp(hex('80 00 0001 00000000 00000000'))!.payload.length).toBe(0);
    expect(parseRtp(hex('a0 00 0001 00000000 00000000 0002'))!.payload.length).toBe(0);
  });

  it('never throws on random bytes', () => {
    let seed = 12345;
    const rand = (): number => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 16) & 0xff;
    for (let i = 0; i < 5000; i++) {
      const len = rand() % 64;
      const buf = new Uint8Array(len);
      for (let j = 0; j < len; j++) buf[j] = rand();
      if (len > 0 && i % 2 === 0) buf[0] = 0x80 | (buf[0] & 0x3f); // half of them with V=2
      expect(() => parseRtp(buf)).not.toThrow();
    }
    expect(parseRtp(undefined as unknown as Uint8Array)).toBeNull();
  });
});

describe('RtpPacketizer builds the outgoing stream', () => {
  it('writes the header by hand-checked bytes, marker on the first packet only, seq and ts wrapping', () => {
    const pk = new RtpPacketizer({ payloadType: 0, ssrc: 0x11223344, sequence: 65535, timestamp: 0xffffff60 });
    const payload = new Uint8Array(160).fill(0xd5);
    const first = pk.packetize(payload);
    // 0x80: V=2; 0x80: M=1, PT=0; seq 0xffff; ts 0xffffff60; SSRC 0x11223344.
    expect(toHex(first.subarray(0, 12))).toBe('8080ffffffffff6011223344');
    expect(first.length).toBe(172);
    const second = pk.packetize(payload);
    // M=0; seq wraps to 0; ts 0xffffff60 + 160 = 2^32 → 0.
    expect(toHex(second.subarray(0, 12))).toBe('800000000000000011223344');
    const third = pk.packetize(payload);
    expect(toHex(third.subarray(0, 12))).toBe('80000001000000a011223344');
  });

  it('reuses one buffer', () => {
    const pk = new RtpPacketizer({ payloadType: 8, ssrc: 1, sequence: 0, timestamp: 0 });
    const a = pk.packetize(new Uint8Array(160));
    const b = pk.packetize(new Uint8Array(160));
    expect(a.buffer).toBe(b.buffer);
    expect(a.byteOffset).toBe(b.byteOffset);
  });

  it('picks a random SSRC, sequence and timestamp by default', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 8; i++) {
      const pk = new RtpPacketizer({ payloadType: 0 });
      seen.add(`${pk.ssrc}/${pk.sequence}/${pk.timestamp}`);
      expect(pk.ssrc).toBeGreaterThanOrEqual(0);
      expect(pk.ssrc).toBeLessThanOrEqual(0xffffffff);
    }
    expect(seen.size).toBe(8);
  });

  it('rejects bad options', () => {
    expect(() => new RtpPacketizer({ payloadType: 128 })).toThrow(/payloadType/);
    expect(() => new RtpPacketizer({ payloadType: 0, sequence: 70000 })).toThrow(/sequence/);
    expect(() => new RtpPacketizer({ payloadType: 0, redundancy: { payloadType: 0, depth: 1 } })).toThrow(/differ/);
  });

  it('sends RFC 2198 RED with up to depth earlier payloads, oldest first', () => {
    const pk = new RtpPacketizer({
      payloadType: 0,
      ssrc: 0xcafe0001,
      sequence: 10,
      timestamp: 1000,
      redundancy: { payloadType: 99, depth: 2 },
    });
    const frames = [1, 2, 3, 4].map((v) => new Uint8Array(160).fill(v));
    const p1 = pk.packetize(frames[0]);
    // First packet: 0x80 V=2; 0xe3 = M=1 | PT 99; only the primary header 0x00, then the data.
    expect(toHex(p1.subarray(0, 13))).toBe('80e3000a000003e8cafe0001' + '00');
    expect(p1.length).toBe(12 + 1 + 160);
    const p2 = pk.packetize(frames[1]);
    // One redundant block: F=1|PT 0 = 0x80; offset 160 = 0b00000010_100000 → 0x02, then
    // (0b100000 << 2) | (160 >> 8) = 0x80; length 160 & 0xff = 0xa0; then primary header 0x00.
    expect(toHex(p2.subarray(0, 17))).toBe('8063000b00000488cafe0001' + '800280a0' + '00');
    expect(p2.length).toBe(12 + 5 + 320);
    pk.packetize(frames[2]);
    const p4 = Buffer.from(pk.packetize(frames[3]));
    // Two blocks, oldest first: frame 2 at offset 320 (0x05, 0x00 → 320 = 5 × 64 + 0) and frame 3 at 160.
    expect(toHex(p4.subarray(12, 21))).toBe('800500a0' + '800280a0' + '00');
    expect(p4.length).toBe(12 + 9 + 480);
    expect(p4[21]).toBe(2);
    expect(p4[21 + 160]).toBe(3);
    expect(p4[21 + 320]).toBe(4);
    const blocks = parseRed(parseRtp(p4)!.payload)!;
    expect(blocks.map((b) => [b.payloadType, b.timestampOffset, b.data[0], b.data.length])).toEqual([
      [0, 320, 2, 160],
      [0, 160, 3, 160],
      [0, 0, 4, 160],
    ]);
  });
});
