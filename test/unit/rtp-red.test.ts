import {
  encodeRed,
  parseRed,
  redBlockExpressible,
  redEncodedLength,
  type RedBlock,
} from '../../lib/transports/rtp/red';

const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

describe('encodeRed writes RFC 2198 §3 payloads', () => {
  it('two redundant PCMU blocks of 160 bytes, oldest first, primary last', () => {
    const older: RedBlock = { payloadType: 0, timestampOffset: 320, data: new Uint8Array(160).fill(0x11) };
    const newer: RedBlock = { payloadType: 0, timestampOffset: 160, data: new Uint8Array(160).fill(0x22) };
    const primary = { payloadType: 0, data: new Uint8Array(160).fill(0x33) };
    const out = new Uint8Array(redEncodedLength([older, newer], primary));
    expect(out.length).toBe(4 + 4 + 1 + 480);
    expect(encodeRed([older, newer], primary, out)).toBe(489);
    // Block header: F=1 | PT 0 → 0x80. Offset 320 = 0b00000101_000000: the first 8 of its 14 bits
    // are 0x05, the last 6 (0) go in the top of byte 2, whose low 2 bits are the length's top
    // bits (160 = 0b00_10100000 → 0); byte 3 is the length's low 8 bits, 0xa0.
    // Offset 160 = 0b00000010_100000: 0x02, then 0b100000 << 2 = 0x80; length again 0xa0.
    // Then the primary header: F=0 | PT 0 → 0x00.
    expect(toHex(out.subarray(0, 9))).toBe('800500a0' + '800280a0' + '00');
    expect(out[9]).toBe(0x11);
    expect(out[9 + 159]).toBe(0x11);
    expect(out[9 + 160]).toBe(0x22);
    expect(out[9 + 320]).toBe(0x33);
    expect(out[488]).toBe(0x33);
  });

  it('fills every bit of the widest fields', () => {
    // Offset 0x3fff and length 0x3ff, PT 127: 0xff, then 0xff, then 0b111111 << 2 | 0b11 = 0xff, 0xff.
    const block: RedBlock = { payloadType: 127, timestampOffset: 0x3fff, data: new Uint8Array(0x3ff) };
    const out = new Uint8Array(redEncodedLength([block], { data: new Uint8Array(1) }));
    encodeRed([block], { payloadType: 8, data: new Uint8Array([0x55]) }, out);
    expect(toHex(out.subarray(0, 5))).toBe('ffffffff' + '08');
    expect(out[out.length - 1]).toBe(0x55);
  });

  it('drops a block whose offset or length does not fit 14 or 10 bits', () => {
    expect(redBlockExpressible(16383, 1023)).toBe(true);
    expect(redBlockExpressible(16384, 10)).toBe(false);
    expect(redBlockExpressible(160, 1024)).toBe(false);
    const tooOld: RedBlock = { payloadType: 0, timestampOffset: 16384, data: new Uint8Array(160) };
    const ok: RedBlock = { payloadType: 0, timestampOffset: 160, data: new Uint8Array(2).fill(7) };
    const primary = { payloadType: 0, data: new Uint8Array([9]) };
    const out = new Uint8Array(64);
    const n = encodeRed([tooOld, ok], primary, out, 3);
    // Written at offset 3: one header (offset 160, length 2: 0x80 0x02 0x80 0x02), 0x00, 07 07, 09.
    expect(n).toBe(4 + 1 + 2 + 1);
    expect(toHex(out.subarray(3, 3 + n))).toBe('80028002' + '00' + '0707' + '09');
    expect(redEncodedLength([tooOld, ok], primary)).toBe(8);
  });
});

describe('parseRed reads RED payloads', () => {
  it('reads a hand-written payload', () => {
    // One redundant block: F=1 | PT 8 = 0x88; offset 160 → 0x02, 0x80 (as above) with length 3's
    // top bits 0; length low byte 0x03. Primary header F=0 | PT 8 = 0x08. Data aa bb cc, then 01 02.
    const blocks = parseRed(Uint8Array.from(Buffer.from('88028003' + '08' + 'aabbcc' + '0102', 'hex')));
    expect(blocks).not.toBeNull();
    expect(blocks!.map((b) => [b.payloadType, b.timestampOffset, toHex(b.data)])).toEqual([
      [8, 160, 'aabbcc'],
      [8, 0, '0102'],
    ]);
  });

  it('reads a primary-only payload', () => {
    const blocks = parseRed(Uint8Array.from([0x00, 0xaa]));
    expect(blocks!.map((b) => [b.payloadType, b.timestampOffset, toHex(b.data)])).toEqual([[0, 0, 'aa']]);
  });

  it('returns null for malformed payloads', () => {
    expect(parseRed(new Uint8Array(0))).toBeNull(); // nothing
    expect(parseRed(Uint8Array.from([0x80, 0x02, 0x80]))).toBeNull(); // block header cut
    expect(parseRed(Uint8Array.from([0x80, 0x02, 0x80, 0x02]))).toBeNull(); // no primary header
    expect(parseRed(Uint8Array.from([0x80, 0x02, 0x80, 0x05, 0x00, 1, 2]))).toBeNull(); // length 5, 2 there
  });

  it('round-trips encodeRed and never throws on random bytes', () => {
    const blocks: RedBlock[] = [
      { payloadType: 0, timestampOffset: 480, data: new Uint8Array(160).fill(1) },
      { payloadType: 0, timestampOffset: 320, data: new Uint8Array(160).fill(2) },
      { payloadType: 0, timestampOffset: 160, data: new Uint8Array(160).fill(3) },
    ];
    const primary = { payloadType: 0, data: new Uint8Array(160).fill(4) };
    const out = new Uint8Array(redEncodedLength(blocks, primary));
    encodeRed(blocks, primary, out);
    const parsed = parseRed(out)!;
    expect(parsed.map((b) => [b.timestampOffset, b.data[0], b.data.length])).toEqual([
      [480, 1, 160],
      [320, 2, 160],
      [160, 3, 160],
      [0, 4, 160],
    ]);
    let seed = 99;
    const rand = (): number => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 16) & 0xff;
    for (let i = 0; i < 3000; i++) {
      const buf = new Uint8Array(rand() % 40);
      for (let j = 0; j < buf.length; j++) buf[j] = rand() | (j % 4 === 0 && i % 2 ? 0x80 : 0);
      expect(() => parseRed(buf)).not.toThrow();
    }
  });
});
