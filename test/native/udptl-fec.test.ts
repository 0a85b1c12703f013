import * as path from 'node:path';
import { native, type NativeDatagramPort, type NativeFaxSession } from '../../lib/native';
import { UdptlCodec, type UdptlOptions } from '../../lib/transports/t38/udptl';
import { random, tempDir, textPage } from '../helpers/pages';
import { useUdptlCodecs } from '../helpers/udptl-codecs';

/*
 * FEC must never hand on a wrong IFP: every IFP delivered is compared with the one sent under
 * the same sequence number, octet for octet and length for length, and sequence numbers must
 * rise strictly. IFPs are T.38 IFPPackets (aligned PER) as SpanDSP sends them with T.38 version
 * 0, which uses the 1998 form of field-type:
 *   octet 0: data-field present (1 bit), CHOICE t30-indicator 0 / data 1 (1 bit), the
 *            ENUMERATED's extension bit (0), its value (4 bits), one padding bit
 *   then, with a data-field: the field count (one octet), and per field: field-data present
 *   (1 bit), field-type (3 bits), padding; with field-data, its length less one in two octets
 *   and the octets. T.4 image data is full of zero octets, so many IFPs end in 00.
 */

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const fromHex = (h: string): Uint8Array => Uint8Array.from(Buffer.from(h, 'hex'));

const codec = useUdptlCodecs();

describe('a rebuilt IFP keeps its exact length, worked out by hand', () => {
  // span 2, 1 entry: datagram s carries IFP(s-1) xor IFP(s-2), the shorter padded with zeros
  // to the longer (entry m = 0, k = 1..2: s - 1, s - 2).
  // I0 = d0 01 e0 00 03 12 34 00 00: d0 = 1 1 0 1000 0, data v17-14400 with a data-field;
  //      one field e0 = 1 110 0000, t4-non-ecm-data with field-data of 00 03 + 1 = 4 octets
  //      12 34 00 00 (9 octets, ending in zeros).
  // I1 = c0 01 80 00 00 00: c0 = 1 1 0 0000 0, data v21; one field 80 = 1 000 0000, hdlc-data
  //      with 00 00 + 1 = 1 octet: 00 (6 octets, ending in a zero).
  // I2 = 06 = 0 0 0 0011 0: t30-indicator v21-preamble, no data-field.
  const I0 = fromHex('d001e00003123400' + '00');
  const I1 = fromHex('c00180000000');
  const I2 = fromHex('06');
  const fec = { errorCorrection: 'fec', fecSpan: 2, fecEntries: 1 } as const;

  test('the datagrams', () => {
    const tx = codec(fec);
    const d = [I0, I1, I2].map((i) => tx.encode(i));
    // seq 2: two earlier IFPs, E = floor(2 / 2) = 1. Entry: I1 padded to 9 octets xor I0:
    //   c0 01 80 00 00 00 00 00 00 ^ d0 01 e0 00 03 12 34 00 00 = 10 00 60 00 03 12 34 00 00
    // 00 02 | 01 06 | 80 fec-info | 01 02 fec-npackets 2 | 01 one entry | 09 and its octets
    expect(hex(d[2]!)).toBe('0002' + '0106' + '80' + '0102' + '01' + '09' + '100060000312340000');
  });

  test('I1 lost: rebuilt as 6 octets, its last one zero, not cut to c0 01 80', () => {
    const datagram2 = fromHex('0002' + '0106' + '80' + '0102' + '01' + '09' + '100060000312340000');
    const rx = codec();
    expect(rx.decode(codec(fec).encode(I0))).toEqual([{ seq: 0, ifp: I0 }]);
    // Entry xor I0 = c0 01 80 00 00 00 00 00 00: the entry is no longer than I0, so I1 is
    // padded. Read as an IFPPacket it ends after octet 6 (c0 | 01 | 80 | 00 00 | 00), in every
    // layout: 80 is hdlc-data in the 1998 form and in the later one alike.
    expect(rx.decode(datagram2).map((x) => [x.seq, hex(x.ifp)])).toEqual([
      [1, 'c00180000000'],
      [2, '06'],
    ]);
    expect(rx.stats()).toMatchObject({ recoveredByFec: 1, lost: 0 });
  });

  test('an IFP whose layouts disagree is lost until the far end shows its layout', () => {
    // I1' = c0 01 40: one field 40 without field-data. 1998 form: 0 100 0000, hdlc-fcs-OK-sig-end,
    // 3 octets. Later form: 0, extension bit 1, then a small number 0 + six bits that run into a
    // fourth octet (cm-message): 4 octets. Rebuilt with padding as c0 01 40 00 ..., both read.
    const I1b = fromHex('c00140');
    const tx = codec(fec);
    const d = [I0, I1b, I2].map((i) => tx.encode(i));
    // seq 2 carries I1b ^ I0 (I1b padded to 9 octets). Seen before: I0 only, and the later form
    // cannot read it (e0 = 1 1 1 00000: an extension value with its "large" bit set, which no
    // T.38 version has), so only the 1998 readings are left and they agree: 3 octets.
    const rx = codec();
    const got = [0, 2].flatMap((i) => rx.decode(d[i]!));
    expect(got.map((x) => [x.seq, hex(x.ifp)])).toEqual([
      [0, hex(I0)],
      [1, 'c00140'],
      [2, '06'],
    ]);

    // A far end seen sending only 06 and c0 01 80 00 00 00 (read alike in every layout):
    // c0 01 40 00 ... reads as 3 or 4 octets, so it is counted lost.
    const tx2 = codec(fec);
    const e = [I2, I1, I1b, I2].map((i) => tx2.encode(i));
    // seq 3 carries I1b ^ I1 (I1b padded to 6): c0 01 40 00 00 00 ^ c0 01 80 00 00 00 = 00 00 c0 00 00 00
    expect(hex(e[3]!)).toBe('0003' + '0106' + '80' + '0102' + '01' + '06' + '0000c0000000');
    const rx2 = codec();
    const got2 = [0, 1, 3].flatMap((i) => rx2.decode(e[i]!));
    expect(got2.map((x) => [x.seq, hex(x.ifp)])).toEqual([
      [0, '06'],
      [1, 'c00180000000'],
      [3, '06'],
    ]);
    expect(rx2.stats()).toMatchObject({ recoveredByFec: 0, lost: 1 });

    // Once the far end has sent c0 01 40 whole (3 octets: the later form runs past its end),
    // the later form is ruled out and the same loss is rebuilt.
    const tx3 = codec(fec);
    const f = [I1b, I2, I1, I1b, I2].map((i) => tx3.encode(i));
    const rx3 = codec();
    const got3 = [0, 1, 2, 4].flatMap((i) => rx3.decode(f[i]!));
    expect(got3.map((x) => [x.seq, hex(x.ifp)])).toEqual([
      [0, 'c00140'],
      [1, '06'],
      [2, 'c00180000000'],
      [3, 'c00140'],
      [4, '06'],
    ]);
    expect(rx3.stats()).toMatchObject({ recoveredByFec: 1, lost: 0 });
  });

  test('octets that are no IFP, padded, are counted lost, not cut to a guess', () => {
    // 77 lost, its partner 22 33 longer: rebuilt 77 00, which may be 77 or 77 00. The far end
    // sent 44 55 66 before, which no layout reads as 3 octets (44 = 0 1 0 0010 0: data
    // v27-4800 without a data-field, 1 octet), so no reading is trusted.
    const tx = codec({ errorCorrection: 'fec', fecSpan: 2, fecEntries: 2 });
    const d = [fromHex('11'), fromHex('2233'), fromHex('445566'), fromHex('77'), fromHex('88')].map((i) =>
      tx.encode(i),
    );
    const rx = codec();
    const got = [0, 1, 2, 4].flatMap((i) => rx.decode(d[i]!));
    expect(got.map((x) => [x.seq, hex(x.ifp)])).toEqual([
      [0, '11'],
      [1, '2233'],
      [2, '445566'],
      [4, '88'],
    ]);
    expect(rx.stats()).toMatchObject({ recoveredByFec: 0, lost: 1 });
  });
});

/** A seeded loss pattern: independent losses, or Gilbert–Elliott bursts. */
type Loss = { kind: 'random'; p: number } | { kind: 'burst'; p: number; r: number };
function dropper(loss: Loss, seed: number): () => boolean {
  const next = random(seed);
  let bad = false;
  return () => {
    if (loss.kind === 'random') return next() < loss.p;
    bad = bad ? next() >= loss.r : next() < loss.p;
    return bad;
  };
}

interface Outcome {
  delivered: number;
  wrong: number;
  disordered: number;
  oversized: number;
  lost: number;
}

/** Sends `ifps` through `options`, drops by `loss`, checks every delivered IFP against the original. */
function check(ifps: Uint8Array[], options: UdptlOptions, loss: Loss, seed: number): Outcome {
  const tx = codec(options);
  const rx = codec(options);
  const drop = dropper(loss, seed);
  const out: Outcome = { delivered: 0, wrong: 0, disordered: 0, oversized: 0, lost: 0 };
  let last = -1;
  for (const ifp of ifps) {
    const datagram = tx.encode(ifp);
    // Never over the far end's maximum, unless the primary alone is (it is sent anyway).
    if (datagram.length > Math.max(options.maxDatagram ?? 400, ifp.length + 8)) out.oversized++;
    if (drop()) continue;
    for (const d of rx.decode(datagram)) {
      if (d.seq <= last) out.disordered++;
      last = d.seq;
      out.delivered++;
      if (hex(d.ifp) !== hex(ifps[d.seq]!)) out.wrong++;
    }
  }
  out.lost = rx.stats().lost;
  return out;
}

const LOSSES: [string, Loss][] = [
  ['10 % random', { kind: 'random', p: 0.1 }],
  ['20 % random', { kind: 'random', p: 0.2 }],
  ['bursts of 4 on average', { kind: 'burst', p: 0.005, r: 0.25 }],
  ['heavy bursts', { kind: 'burst', p: 0.05, r: 0.3 }],
];
const SCHEMES: [string, UdptlOptions][] = [
  ['FEC 3 x 3', { errorCorrection: 'fec' }],
  ['FEC 2 x 2', { errorCorrection: 'fec', fecSpan: 2, fecEntries: 2 }],
  ['FEC 7 x 7', { errorCorrection: 'fec', fecSpan: 7, fecEntries: 7, maxDatagram: 1500 }],
  ['FEC 3 x 3 in 120 octets', { errorCorrection: 'fec', maxDatagram: 120 }],
  ['redundancy 3', { errorCorrection: 'redundancy', redundancy: 3 }],
];

/** Checks a stream under every loss and scheme: nothing wrong, nothing out of order, never worse than none. */
function checkAll(ifps: Uint8Array[]): void {
  for (const [, loss] of LOSSES) {
    for (let seed = 1; seed <= 3; seed++) {
      const none = check(ifps, { errorCorrection: 'none' }, loss, seed);
      for (const [, scheme] of SCHEMES) {
        const got = check(ifps, scheme, loss, seed);
        expect([got.wrong, got.disordered, got.oversized]).toEqual([0, 0, 0]);
        expect(got.delivered).toBeGreaterThanOrEqual(none.delivered);
      }
    }
  }
}

describe('nothing delivered is wrong, under loss', () => {
  test.each([
    ['1998', 0xe0],
    ['later', 0xb0],
  ])('IFPs of T.38 shape (%s form), 30 to 300 octets, often ending in zeros', (_form, t4Data) => {
    const next = random(t4Data);
    const byte = (): number => (next() < 0.5 ? 0 : Math.floor(next() * 256));
    const ifps: Uint8Array[] = [];
    for (let i = 0; i < 600; i++) {
      const r = next();
      if (r < 0.1) {
        // An indicator, 1 octet: 0 0 0 vvvv 0 (no-signal 00 among them).
        ifps.push(Uint8Array.of(Math.floor(next() * 16) << 1));
      } else {
        // A data IFP: d0 (v17-14400), one field, t4-non-ecm-data (1998: 1 110 0000 = e0; later:
        // 1 0 110 000 = b0) or hdlc-data (80 in both forms), 25..295 octets of field-data,
        // ending in zeros half the time.
        const n = 25 + Math.floor(next() * 271);
        const data = Array.from({ length: n }, byte);
        if (next() < 0.5) data[n - 1] = 0;
        const type = r < 0.6 ? t4Data : 0x80;
        ifps.push(Uint8Array.from([0xd0, 0x01, type, (n - 1) >> 8, (n - 1) & 0xff, ...data]));
      }
    }
    expect(ifps.filter((i) => i[i.length - 1] === 0).length).toBeGreaterThan(200);
    checkAll(ifps);
  });
});

describe('nothing delivered is wrong, under loss, with the IFPs of a real T.38 call', () => {
  const FRAME = native.constants.SAMPLES_PER_FRAME;
  const MAX_DATAGRAM = native.constants.UDPTL_MAX_DATAGRAM;
  const dir = tempDir();
  afterAll(() => dir.cleanup());
  const T38 = {
    version: 0,
    maxBitRate: 14400,
    rateManagement: 2,
    maxBuffer: 2000,
    maxDatagram: 400,
    errorCorrection: 0,
    redundancy: 0,
    fecSpan: 3,
    fecEntries: 3,
    fillBitRemoval: false,
    transcodingMMR: false,
    transcodingJBIG: false,
  } as const;

  /** The IFPs each side of a loss-free T.38 call sent (SpanDSP's T.38 terminal, version 0). */
  function capture(ecm: boolean): { sender: Uint8Array[]; receiver: Uint8Array[] } {
    const document = path.join(dir.dir, `document-${String(ecm)}.tif`);
    native.writeTiffF(document, [textPage(3, { height: 400 })], 't4-2d');
    const a: NativeFaxSession = new native.FaxSession({ direction: 'send', txFile: document, t38: T38, ecm });
    const b: NativeFaxSession = new native.FaxSession({
      direction: 'receive',
      rxFile: path.join(dir.dir, `received-${String(ecm)}.tif`),
      t38: T38,
      ecm,
    });
    const sent = { sender: [] as Uint8Array[], receiver: [] as Uint8Array[] };
    const readA = codec({ errorCorrection: 'none' });
    const readB = codec({ errorCorrection: 'none' });
    const carry = (
      from: NativeDatagramPort,
      ticked: number,
      to: NativeDatagramPort,
      read: UdptlCodec,
      into: Uint8Array[],
    ): void => {
      // tick() returns the datagram count plus 65536 per pending event.
      for (let i = 0; i < (ticked & 0xffff); i++) {
        const datagram = from.outbox.slice(i * MAX_DATAGRAM, i * MAX_DATAGRAM + from.lengths[i]!);
        // SpanDSP repeats some IFPs under one sequence number: the copies decode to nothing.
        for (const d of read.decode(datagram)) into.push(d.ifp);
        to.inbound.set(datagram);
        to.receive(datagram.length);
      }
    };
    const pa = a.datagramBuffers();
    const pb = b.datagramBuffers();
    for (let ticks = 0; !(a.finished() && b.finished()) && ticks < 30_000; ticks++) {
      carry(pa, pa.tick(FRAME), pb, readA, sent.sender);
      carry(pb, pb.tick(FRAME), pa, readB, sent.receiver);
    }
    expect(a.result()?.success).toBe(true);
    return sent;
  }

  test.each([
    ['ECM', true],
    ['without ECM', false],
  ])('%s', (_name, ecm) => {
    const { sender, receiver } = capture(ecm);
    expect(sender.length).toBeGreaterThan(200);
    // Many of them end in a zero octet: what trimming the padding got wrong.
    expect(sender.filter((i) => i[i.length - 1] === 0).length).toBeGreaterThan(5);
    checkAll(sender);
    checkAll(receiver);
  });
});
