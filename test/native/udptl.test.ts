import { InvalidOptionError } from '../../lib/base/errors';
import { native } from '../../lib/native';
import {
  UDPTL_DEFAULTS,
  UdptlClosedError,
  UdptlCodec,
  type UdptlDelivery,
  type UdptlOptions,
} from '../../lib/transports/t38/udptl';
import { expectNativeError } from '../helpers/native-errors';
import { useUdptlCodecs } from '../helpers/udptl-codecs';

/*
 * The octets of a UDPTLPacket (T.38 Annex A) in aligned PER, used to derive every vector below:
 *   seq-number INTEGER (0..65535)      two octets, big-endian
 *   primary-ifp-packet (open type)     a length determinant, then the IFP
 *   error-recovery CHOICE              one octet: 00 secondary-ifp-packets, 80 fec-info
 *     secondary: a count (length determinant), then each IFP as an open type, newest first
 *     fec-info:  fec-npackets (unconstrained INTEGER: length 01, then the value octet),
 *                then a count and each fec-data entry as an OCTET STRING (determinant + octets)
 * Length determinants: 0..127 in one octet 0xxxxxxx; 128..16383 as 10xxxxxx xxxxxxxx.
 */

const bytes = (...b: number[]): Uint8Array => Uint8Array.from(b);
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const filled = (n: number, first: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (first + i) & 0xff);
const concat = (...parts: (Uint8Array | number[])[]): Uint8Array =>
  Uint8Array.from(parts.flatMap((p) => Array.from(p)));

const codec = useUdptlCodecs();

/** Sends `ifps` through a fresh sender, drops the indices in `drop`, returns what `rx` delivered. */
function through(
  options: UdptlOptions,
  ifps: Uint8Array[],
  drop: number[],
  rx: UdptlCodec,
  firstSeq = 0,
): UdptlDelivery[] {
  const tx = codec(options);
  tx.setNextSequence(firstSeq);
  const out: UdptlDelivery[] = [];
  ifps.forEach((ifp, i) => {
    const d = tx.encode(ifp);
    if (!drop.includes(i)) out.push(...rx.decode(d));
  });
  return out;
}

const numbered = (n: number): Uint8Array[] => Array.from({ length: n }, (_, i) => filled(1 + (i % 5), i * 16));
const expected = (ifps: Uint8Array[], firstSeq = 0): UdptlDelivery[] =>
  ifps.map((ifp, i) => ({ seq: (firstSeq + i) & 0xffff, ifp }));

describe('encoding, worked out by hand', () => {
  test('seq 0 with a 3-octet IFP and no secondaries', () => {
    // 00 00 seq 0 | 03 06 12 34 the IFP | 00 CHOICE secondary | 00 no secondaries
    const want = bytes(0x00, 0x00, 0x03, 0x06, 0x12, 0x34, 0x00, 0x00);
    expect(hex(codec().encode(bytes(0x06, 0x12, 0x34)))).toBe(hex(want));
    expect(codec().decode(want)).toEqual([{ seq: 0, ifp: bytes(0x06, 0x12, 0x34) }]);
  });

  test('a 127-octet IFP takes a one-octet determinant, 128 and 300 two octets', () => {
    // 127 = 0x7f fits 0xxxxxxx; 128 = 0x0080 -> 10 000000 10000000 = 80 80;
    // 300 = 0x012c -> 10 000001 00101100 = 81 2c.
    const cases: [number, number[]][] = [
      [127, [0x7f]],
      [128, [0x80, 0x80]],
      [300, [0x81, 0x2c]],
    ];
    for (const [n, det] of cases) {
      const ifp = filled(n, 3);
      const want = concat([0x00, 0x00], det, ifp, [0x00, 0x00]);
      expect(hex(codec({ errorCorrection: 'none' }).encode(ifp))).toBe(hex(want));
      expect(codec().decode(want)).toEqual([{ seq: 0, ifp }]);
    }
  });

  test('an empty IFP is valid', () => {
    // 00 00 | 00 an open type of no octets | 00 | 00
    const want = bytes(0, 0, 0, 0, 0);
    expect(hex(codec().encode(new Uint8Array(0)))).toBe(hex(want));
    expect(codec().decode(want)).toEqual([{ seq: 0, ifp: new Uint8Array(0) }]);
  });

  test('a datagram with 2 secondaries, newest first', () => {
    const tx = codec();
    tx.encode(bytes(0xa1));
    tx.encode(bytes(0xb1, 0xb2));
    // 00 02 | 03 c1 c2 c3 | 00 | 02 two secondaries | 02 b1 b2 (seq 1) | 01 a1 (seq 0)
    const want = bytes(0x00, 0x02, 0x03, 0xc1, 0xc2, 0xc3, 0x00, 0x02, 0x02, 0xb1, 0xb2, 0x01, 0xa1);
    expect(hex(tx.encode(bytes(0xc1, 0xc2, 0xc3)))).toBe(hex(want));
    const rx = codec();
    expect(rx.decode(bytes(0x00, 0x00, 0x01, 0xa1, 0x00, 0x00))).toEqual([{ seq: 0, ifp: bytes(0xa1) }]);
    // seq 1 never came: its copy in the first secondary is delivered before seq 2.
    expect(rx.decode(want)).toEqual([
      { seq: 1, ifp: bytes(0xb1, 0xb2) },
      { seq: 2, ifp: bytes(0xc1, 0xc2, 0xc3) },
    ]);
    expect(rx.stats().recoveredByRedundancy).toBe(1);
  });

  test('FEC datagrams: span 2, 2 entries, wound up at the start', () => {
    const tx = codec({ errorCorrection: 'fec', fecSpan: 2, fecEntries: 2 });
    const d = [bytes(0x11), bytes(0x22, 0x33), bytes(0x44, 0x55, 0x66), bytes(0x77), bytes(0x88)].map((i) =>
      tx.encode(i),
    );
    // seq 0: no earlier IFP, no entries: 00 00 | 01 11 | 80 fec-info | 01 02 fec-npackets 2 | 00
    expect(hex(d[0])).toBe('00000111800102' + '00');
    // seq 2: two earlier IFPs, 1 entry protecting seqs 1 and 0: 22 33 ^ 11 00 = 33 33
    expect(hex(d[2])).toBe('0002' + '03445566' + '80' + '0102' + '01' + '023333');
    // seq 4: 2 entries. Entry 0 protects seqs 2, 0: 44 55 66 ^ 11 00 00 = 55 55 66.
    // Entry 1 protects seqs 3, 1: 77 00 ^ 22 33 = 55 33.
    expect(hex(d[4])).toBe('0004' + '0188' + '80' + '0102' + '02' + '03555566' + '025533');
    expect(codec().decode(d[4])).toEqual([{ seq: 4, ifp: bytes(0x88) }]);

    // Seq 3 (1 octet, shorter than its partner seq 1) lost: entry 1 ^ seq 1 = 77 00, which may
    // be 77 or 77 00. These octets are no T.38 IFPs (44 55 66 does not read as a 3-octet
    // IFPPacket: see udptl-fec.test.ts), so its length cannot be read: counted lost.
    const rx = codec({ errorCorrection: 'fec' });
    const got = [0, 1, 2, 4].flatMap((i) => rx.decode(d[i]));
    expect(got.map((x) => [x.seq, hex(x.ifp)])).toEqual([
      [0, '11'],
      [1, '2233'],
      [2, '445566'],
      [4, '88'],
    ]);
    expect(rx.stats()).toMatchObject({ recoveredByFec: 0, lost: 1 });
    // Seq 2 (3 octets, longer than its partner) lost: seq 3's entry 44 55 66 ^ 22 33 00 = 66 66 66
    // xor seq 1 gives it back, 3 octets exactly (the entry's length).
    const rx2 = codec();
    const got2 = [0, 1, 3].flatMap((i) => rx2.decode(d[i]));
    expect(got2.map((x) => [x.seq, hex(x.ifp)])).toEqual([
      [0, '11'],
      [1, '2233'],
      [2, '445566'],
      [3, '77'],
    ]);
    expect(rx2.stats().recoveredByFec).toBe(1);
  });
});

describe('recovery', () => {
  test('redundancy 3 rebuilds 1 and then 2 lost in a row; beyond its depth they are lost', () => {
    const ifps = numbered(12);
    const rx = codec();
    expect(through({}, ifps, [3, 6, 7], rx)).toEqual(expected(ifps));
    expect(rx.stats()).toEqual({
      sent: 0,
      received: 9,
      delivered: 12,
      recoveredByRedundancy: 3,
      recoveredByFec: 0,
      lost: 0,
      duplicates: 0,
      late: 0,
      malformed: 0,
    });
    const rx2 = codec();
    const got = through({}, ifps, [2, 3, 4, 5], rx2);
    expect(got).toEqual(expected(ifps).filter((d) => d.seq !== 2));
    expect(rx2.stats()).toMatchObject({ received: 8, delivered: 11, recoveredByRedundancy: 3, lost: 1 });
  });

  test('FEC at the defaults rebuilds isolated losses', () => {
    // T.38 IFPs, so that the length of one shorter than its partners can be read: c0 01 80,
    // data v21 with one hdlc-data field, its length less one in two octets, then the octets.
    const ifps = numbered(60).map((data) => concat([0xc0, 0x01, 0x80, 0x00, data.length - 1], data));
    const drop = [12, 16, 20, 24, 28, 32, 36, 40, 44, 48, 52, 56];
    const rx = codec();
    expect(through({ errorCorrection: 'fec' }, ifps, drop, rx)).toEqual(expected(ifps));
    expect(rx.stats()).toMatchObject({ recoveredByFec: drop.length, lost: 0 });
  });

  test('the 65535 -> 0 wrap with loss at the wrap', () => {
    const ifps = numbered(10);
    const rx = codec();
    // 65532, 65533, 65534, [65535, 0 lost], 1, ...
    expect(through({}, ifps, [3, 4], rx, 65532)).toEqual(expected(ifps, 65532));
    expect(rx.stats()).toMatchObject({ recoveredByRedundancy: 2, lost: 0 });
    const tx = codec();
    tx.setNextSequence(65535);
    expect(hex(tx.encode(bytes(9)))).toBe('ffff' + '0109' + '00' + '00');
    // seq 0 | 01 08 | 00 | one secondary: 01 09
    expect(hex(tx.encode(bytes(8)))).toBe('0000' + '0108' + '00' + '01' + '0109');
    expect(tx.nextSequence()).toBe(1);
  });

  test('duplicates and late datagrams are dropped and counted', () => {
    const tx = codec({ errorCorrection: 'none' });
    const [d0, d1, d2] = [1, 2, 3].map((b) => tx.encode(bytes(b)));
    const rx = codec();
    expect(rx.decode(d0)).toHaveLength(1);
    expect(rx.decode(d0)).toEqual([]);
    expect(rx.decode(d2)).toEqual([{ seq: 2, ifp: bytes(3) }]);
    expect(rx.decode(d1)).toEqual([]);
    expect(rx.stats()).toEqual({
      sent: 0,
      received: 4,
      delivered: 2,
      recoveredByRedundancy: 0,
      recoveredByFec: 0,
      lost: 1,
      duplicates: 1,
      late: 1,
      malformed: 0,
    });
    expect(tx.stats().sent).toBe(3);
  });

  test('max_datagram limits the number of secondaries', () => {
    // Ten-octet IFPs: 2 + 1 + 10 + 1 + 1 = 15 octets alone, 11 more per secondary: 26 fits 32.
    const tx = codec({ maxDatagram: 32 });
    for (let i = 0; i < 3; i++) tx.encode(filled(10, i * 10));
    const d = tx.encode(filled(10, 30));
    expect(d.length).toBe(26);
    expect(d[14]).toBe(1);
    tx.setMaxDatagram(400);
    expect(tx.options.maxDatagram).toBe(400);
    const e = tx.encode(filled(10, 40));
    expect(e.length).toBe(48);
    expect(e[14]).toBe(3);
  });
});

describe('malformed datagrams are counted and give nothing', () => {
  const good = bytes(0x00, 0x02, 0x03, 0xc1, 0xc2, 0xc3, 0x00, 0x02, 0x02, 0xb1, 0xb2, 0x01, 0xa1);
  const huge = concat([0x00, 0x00, 0x84, 0x01], new Uint8Array(1025), [0x00, 0x00]); // 84 01 = 1025
  const cases: [string, Uint8Array][] = [
    ['empty', new Uint8Array(0)],
    ['truncated in the sequence number', good.subarray(0, 1)],
    ['truncated in the primary', good.subarray(0, 4)],
    ['truncated before the CHOICE', good.subarray(0, 6)],
    ['truncated in a secondary', good.subarray(0, 10)],
    ['a length past the end', bytes(0x00, 0x00, 0x09, 0x01, 0x02, 0x03)],
    ['a fragmented determinant (11xxxxxx)', bytes(0x00, 0x00, 0xc1, 0x00)],
    ['trailing garbage', concat(good, [0x00])],
    ['an IFP over 1024 octets', huge],
    ['15 secondaries', concat([0x00, 0x20, 0x01, 0xaa, 0x00, 0x0f], new Uint8Array(15))],
    ['8 FEC entries', concat([0x00, 0x20, 0x01, 0xaa, 0x80, 0x01, 0x01, 0x08], new Uint8Array(8))],
    ['FEC span 8', bytes(0x00, 0x20, 0x01, 0xaa, 0x80, 0x01, 0x08, 0x00)],
    ['a CHOICE octet of 40', bytes(0x00, 0x20, 0x01, 0xaa, 0x40, 0x00)],
  ];
  test.each(cases)('%s', (_name, datagram) => {
    const rx = codec();
    expect(rx.decode(datagram)).toEqual([]);
    expect(rx.stats()).toMatchObject({ malformed: 1, received: 0, delivered: 0 });
  });

  test('10,000 random datagrams (fixed seed) never throw and are all counted', () => {
    let state = 0x2545f491;
    const next = (): number => {
      // xorshift32: reproducible without a dependency
      state ^= state << 13;
      state ^= state >>> 17;
      state ^= state << 5;
      return state >>> 0;
    };
    const rx = codec({ errorCorrection: 'fec' });
    let delivered = 0;
    for (let i = 0; i < 10000; i++) {
      const d = i % 2 === 0 ? Uint8Array.from({ length: next() % 48 }, () => next() & 0xff) : good.slice();
      if (i % 2 === 1) d[next() % d.length] ^= 1 << (next() % 8);
      delivered += rx.decode(d).length;
    }
    const s = rx.stats();
    expect(s.received + s.malformed).toBe(10000);
    expect(s.delivered).toBe(delivered);
    expect(s.malformed).toBeGreaterThan(1000);
  });
});

describe('options and the native boundary', () => {
  test('defaults', () => {
    expect(UDPTL_DEFAULTS).toEqual({
      errorCorrection: 'redundancy',
      redundancy: 3,
      fecSpan: 3,
      fecEntries: 3,
      maxDatagram: 400,
    });
    expect(codec().options).toEqual(UDPTL_DEFAULTS);
  });

  test.each<[string, UdptlOptions]>([
    ['errorCorrection', { errorCorrection: 'parity' as never }],
    ['redundancy 8', { redundancy: 8 }],
    ['redundancy 1.5', { redundancy: 1.5 }],
    ['fecSpan 0', { fecSpan: 0 }],
    ['fecEntries 8', { fecEntries: 8 }],
    ['maxDatagram 31', { maxDatagram: 31 }],
    ['maxDatagram 1501', { maxDatagram: 1501 }],
    ['maxDatagram as a string', { maxDatagram: '400' as never }],
  ])('InvalidOptionError for %s', (_name, options) => {
    expect(() => new UdptlCodec(options)).toThrow(InvalidOptionError);
  });

  test('wrong arguments are InvalidOptionError', () => {
    const c = codec();
    expect(() => c.encode('abc' as never)).toThrow(InvalidOptionError);
    expect(() => c.encode(new Uint8Array(1025))).toThrow(InvalidOptionError);
    expect(() => c.decode([1, 2] as never)).toThrow(InvalidOptionError);
    expect(() => c.setNextSequence(65536)).toThrow(InvalidOptionError);
    expect(() => c.setMaxDatagram(10)).toThrow(InvalidOptionError);
  });

  test('the native class checks its own arguments', () => {
    expectNativeError(() => new native.Udptl(undefined as never), 'TypeError', /Expected an object for options/);
    expectNativeError(() => new native.Udptl({ errorCorrection: 3 as never }), 'RangeError', /errorCorrection/);
    expectNativeError(() => new native.Udptl({ redundancy: 'x' as never }), 'TypeError', /options\.redundancy/);
    expectNativeError(() => (native.Udptl as unknown as () => void)(), 'TypeError', /new/);
    const u = new native.Udptl({});
    expectNativeError(() => u.encode(new Uint16Array(2) as never), 'TypeError', /Expected a Uint8Array for ifp/);
    expectNativeError(() => u.decode(null as never), 'TypeError', /datagram/);
    expectNativeError(() => u.setNextSequence(-1), 'RangeError', /seq/);
    expectNativeError(() => u.setMaxDatagram(2000), 'RangeError', /maxDatagram/);
    expectNativeError(() => u.encode(new Uint8Array(1025)), 'RangeError', /at most 1024/);
    u.close();
  });

  test('a forged `this` throws a TypeError, not a crash', () => {
    const proto = native.Udptl.prototype as unknown as Record<string, (...a: unknown[]) => unknown>;
    const noise = new native.NoiseGenerator(1, -50);
    for (const name of ['encode', 'decode', 'stats', 'nextSequence', 'setNextSequence', 'setMaxDatagram', 'close']) {
      expectNativeError(() => proto[name].call({}, new Uint8Array(1)), 'TypeError', /Illegal invocation/);
      expectNativeError(() => proto[name].call(noise, new Uint8Array(1)), 'TypeError', /Illegal invocation/);
    }
    noise.close();
  });

  test('every call after close() throws; close() is idempotent', () => {
    const c = new UdptlCodec();
    c.close();
    c.close();
    expect(c.closed).toBe(true);
    expect(() => c.encode(bytes(1))).toThrow(UdptlClosedError);
    expect(() => c.decode(bytes(1))).toThrow(UdptlClosedError);
    expect(() => c.stats()).toThrow(UdptlClosedError);
    expect(() => c.nextSequence()).toThrow(UdptlClosedError);
    const u = new native.Udptl({});
    u.close();
    u.close();
    for (const call of [
      () => u.encode(bytes(1)),
      () => u.decode(bytes(1)),
      () => u.stats(),
      () => u.nextSequence(),
      () => u.setNextSequence(1),
      () => u.setMaxDatagram(400),
    ]) {
      expectNativeError(call, 'Error', /The UDPTL endpoint is closed/);
    }
  });
});
