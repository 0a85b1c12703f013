import { InvalidOptionError } from '../../lib/base/errors';
import { G711_LAWS, G711_PAYLOAD_TYPE, g711Decode, g711Encode, type G711Law } from '../../lib/transports/g711';

/*
 * The vectors below are worked out by hand from ITU-T G.711, tables 1a (A-law) and 2a (µ-law).
 *
 * Scale. G.711 states its decision and output values in its own units: A-law magnitudes up to
 * 4096, µ-law magnitudes up to 8159. A 16-bit linear sample is 8 A-law units or 4 µ-law units
 * per unit step (A-law's largest output 4032 = 32256 / 8; µ-law's 8031 = 32124 / 4).
 *
 * µ-law (table 2a), positive magnitudes; each segment has 16 equal intervals:
 *   segment  1: 0..31 (first interval 0..1, then step 2)   outputs 0, 2, 4, ... 30
 *   segment  2: 31..95 step 4        segment 5: 479..991 step 32
 *   segment  3: 95..223 step 8       segment 6: 991..2015 step 64
 *   segment  4: 223..479 step 16     segment 7: 2015..4063 step 128
 *                                    segment 8: 4063..8159 step 256 (outputs 4191 ... 8031)
 * Before transmission the character is sign (0 = positive), 3 segment bits (segment - 1) and
 * 4 interval bits; all 8 bits are then inverted, so a positive character is sent as 1xxx xxxx.
 *
 * A-law (table 1a), positive magnitudes:
 *   segments 1 and 2: 0..32 and 32..64, step 2 (outputs 1, 3, ... 63)
 *   segment 3: 64..128 step 4,    segment 6: 512..1024 step 32
 *   segment 4: 128..256 step 8,   segment 7: 1024..2048 step 64
 *   segment 5: 256..512 step 16,  segment 8: 2048..4096 step 128 (outputs 2112 ... 4032)
 * The character is sign (1 = positive), 3 segment bits, 4 interval bits, and the even bits
 * are inverted for transmission (XOR 0x55).
 */

function encode(law: G711Law, samples: number[]): number[] {
  const out = new Uint8Array(samples.length);
  g711Encode(law, Int16Array.from(samples), out);
  return [...out];
}

function decode(law: G711Law, codes: number[]): number[] {
  const out = new Int16Array(codes.length);
  g711Decode(law, Uint8Array.from(codes), out);
  return [...out];
}

const ALL_CODES = Array.from({ length: 256 }, (_, i) => i);

describe('the G.711 constants', () => {
  test('name both laws and give the static payload types of RFC 3551 (PCMU 0, PCMA 8)', () => {
    expect(G711_LAWS).toEqual(['pcmu', 'pcma']);
    expect(G711_PAYLOAD_TYPE).toEqual({ pcmu: 0, pcma: 8 });
    expect(Object.isFrozen(G711_PAYLOAD_TYPE)).toBe(true);
    expect(Object.isFrozen(G711_LAWS)).toBe(true);
  });
});

describe('µ-law (PCMU) encoding', () => {
  test.each([
    // 0: positive (sign 0), segment 1, interval 0: 0 000 0000, inverted 1111 1111.
    [0, 0xff],
    // -1 is -0.25 units: negative (sign 1), first interval: 1 000 0000, inverted 0111 1111.
    [-1, 0x7f],
    // 123 = 30.75 units: segment 1, last interval (29..31), interval 15: 0 000 1111 -> 1111 0000.
    [123, 0xf0],
    // 125 = 31.25 units: segment 2 (31..95), interval 0: 0 001 0000 -> 1110 1111.
    [125, 0xef],
    // 1000 = 250 units: segment 4 (223..479, step 16), interval (250 - 223) / 16 = 1.7 -> 1:
    // 0 011 0001 -> 1100 1110.
    [1000, 0xce],
    // 8158 = 2039.5 units: segment 7 (2015..4063, step 128), interval 0: 0 110 0000 -> 1001 1111.
    [8158, 0x9f],
    // -8159 = -2039.75 units: the same interval, negative: 1 110 0000 -> 0001 1111.
    [-8159, 0x1f],
    // 32635 = 8158.75 units: segment 8's last interval (7903..8159): 0 111 1111 -> 1000 0000.
    [32635, 0x80],
    // Beyond the last decision value 8159 the coder overloads to the largest code.
    [32767, 0x80],
    [-32768, 0x00],
  ])('%d encodes to code %d', (sample, code) => {
    expect(encode('pcmu', [sample])).toEqual([code]);
  });
});

describe('µ-law (PCMU) decoding', () => {
  test.each([
    // 0xFF: inverted 0000 0000: positive, segment 1, interval 0: output 0.
    [0xff, 0],
    // 0x7F: inverted 1000 0000, the negative zero: output 0 too.
    [0x7f, 0],
    // 0xF0: inverted 0000 1111: segment 1, interval 15 (29..31): output 30 units = 120.
    [0xf0, 120],
    // 0xEF: inverted 0001 0000: segment 2, interval 0 (31..35): output 33 units = 132.
    [0xef, 132],
    // 0xCE: inverted 0011 0001: segment 4, interval 1 (239..255): output 247 units = 988.
    [0xce, 988],
    // 0x80: inverted 0111 1111: segment 8, interval 15: output 8031 units = 32124.
    [0x80, 32124],
    // 0x00: inverted 1111 1111: the same, negative.
    [0x00, -32124],
  ])('code %d decodes to %d', (code, sample) => {
    expect(decode('pcmu', [code])).toEqual([sample]);
  });

  test('the digital milliwatt of G.711 table 5 decodes to a sine of 0 dBm0 (RMS 16017)', () => {
    // Table 5: 0x1E 0x0B 0x0B 0x1E 0x9E 0x8B 0x8B 0x9E. 0x1E inverted is 1110 0001: negative,
    // segment 7, interval 1 (2143..2271): output 2207 units = 8828; 0x0B inverted is 1111 0100:
    // negative, segment 8, interval 4 (5087..5343): output 5215 units = 20860.
    const mw = decode('pcmu', [0x1e, 0x0b, 0x0b, 0x1e, 0x9e, 0x8b, 0x8b, 0x9e]);
    expect(mw).toEqual([-8828, -20860, -20860, -8828, 8828, 20860, 20860, 8828]);
    const rms = Math.sqrt(mw.reduce((s, x) => s + x * x, 0) / mw.length);
    expect(Math.round(rms)).toBe(16017);
  });
});

describe('A-law (PCMA) encoding', () => {
  test.each([
    // 0: positive, segment 1, interval 0: 1 000 0000, XOR 0x55 -> 1101 0101.
    [0, 0xd5],
    // -1 = -0.125 units: negative, interval 0: 0 000 0000 XOR 0x55 -> 0101 0101.
    [-1, 0x55],
    // 24 = 3 units: segment 1, interval 1 (2..4): 1 000 0001 XOR 0x55 -> 1101 0100.
    [24, 0xd4],
    // 1000 = 125 units: segment 3 (64..128, step 4), interval 15: 1 010 1111 -> 1111 1010.
    [1000, 0xfa],
    // 8158 = 1019.75 units: segment 6 (512..1024, step 32), interval 15: 1 101 1111 -> 1000 1010.
    [8158, 0x8a],
    // -8159 = -1019.9 units: the same interval, negative: 0 101 1111 -> 0000 1010.
    [-8159, 0x0a],
    // 32767 = 4095.9 units: segment 8, interval 15: 1 111 1111 -> 1010 1010.
    [32767, 0xaa],
    // -32768 = -4096 units: 0 111 1111 -> 0010 1010.
    [-32768, 0x2a],
  ])('%d encodes to code %d', (sample, code) => {
    expect(encode('pcma', [sample])).toEqual([code]);
  });
});

describe('A-law (PCMA) decoding', () => {
  test.each([
    // 0xD5 XOR 0x55 = 1000 0000: positive, segment 1, interval 0 (0..2): output 1 unit = 8.
    [0xd5, 8],
    [0x55, -8],
    // 0xD4 -> 1000 0001: interval 1 (2..4): output 3 units = 24.
    [0xd4, 24],
    // 0xFA -> 1010 1111: segment 3, interval 15 (124..128): output 126 units = 1008.
    [0xfa, 1008],
    // 0xAA -> 1111 1111: segment 8, interval 15 (3968..4096): output 4032 units = 32256.
    [0xaa, 32256],
    [0x2a, -32256],
  ])('code %d decodes to %d', (code, sample) => {
    expect(decode('pcma', [code])).toEqual([sample]);
  });
});

describe('decoding then encoding every code word', () => {
  test('gives back all 256 A-law code words', () => {
    expect(encode('pcma', decode('pcma', ALL_CODES))).toEqual(ALL_CODES);
  });

  test('gives back all 256 µ-law code words but the negative zero 0x7F, which becomes 0xFF', () => {
    const expected = ALL_CODES.map((c) => (c === 0x7f ? 0xff : c));
    expect(encode('pcmu', decode('pcmu', ALL_CODES))).toEqual(expected);
  });
});

describe('encoding then decoding every 16-bit sample', () => {
  const samples = Int16Array.from({ length: 65536 }, (_, i) => i - 32768);

  function roundTrip(law: G711Law): { codes: Uint8Array; decoded: Int16Array } {
    const codes = new Uint8Array(samples.length / 2);
    const decoded = new Int16Array(samples.length);
    // In two halves, so the calls also work on subarrays at an offset into their buffer.
    const all = new Uint8Array(samples.length);
    g711Encode(law, samples.subarray(0, 32768), codes);
    all.set(codes, 0);
    g711Encode(law, samples.subarray(32768), codes);
    all.set(codes, 32768);
    g711Decode(law, all, decoded);
    return { codes: all, decoded };
  }

  test('µ-law errs by at most half its segment step up to the overload point 8159 units', () => {
    const { codes, decoded } = roundTrip('pcmu');
    for (let i = 0; i < samples.length; i++) {
      const x = samples[i];
      if (Math.abs(x) > 8159 * 4) continue;
      const segment = ((codes[i] ^ 0xff) >> 4) & 7; // 0 for G.711's segment 1
      const halfStep = (4 * 2 ** (segment + 1)) / 2;
      if (Math.abs(decoded[i] - x) > halfStep) throw new Error(`µ-law ${x} -> ${decoded[i]}`);
    }
  });

  test('A-law errs by at most half its segment step over the whole range', () => {
    const { codes, decoded } = roundTrip('pcma');
    for (let i = 0; i < samples.length; i++) {
      const x = samples[i];
      const segment = ((codes[i] ^ 0x55) >> 4) & 7;
      const halfStep = (8 * 2 ** Math.max(1, segment)) / 2;
      if (Math.abs(decoded[i] - x) > halfStep) throw new Error(`A-law ${x} -> ${decoded[i]}`);
    }
  });

  test('both laws are monotonic: a larger sample never decodes smaller', () => {
    for (const law of G711_LAWS) {
      const { decoded } = roundTrip(law);
      for (let i = 1; i < decoded.length; i++) {
        if (decoded[i] < decoded[i - 1]) throw new Error(`${law} not monotonic at ${samples[i]}`);
      }
    }
  });
});

describe('argument checks', () => {
  const pcm = new Int16Array(160);
  const bytes = new Uint8Array(160);

  test.each([
    ['an unknown law', () => g711Encode('g722' as G711Law, pcm, bytes), /'pcmu' or 'pcma' for law but got 'g722'/],
    ['a number for law', () => g711Decode(0 as unknown as G711Law, bytes, pcm), /for law but got number/],
    [
      'a Uint8Array for pcm',
      () => g711Encode('pcmu', bytes as unknown as Int16Array, bytes),
      /Expected an Int16Array for pcm but got a Uint8Array/,
    ],
    [
      'an Int16Array for out',
      () => g711Encode('pcma', pcm, pcm as unknown as Uint8Array),
      /Expected a Uint8Array for out but got an Int16Array/,
    ],
    ['null for payload', () => g711Decode('pcmu', null as unknown as Uint8Array, pcm), /payload but got null/],
    ['lengths that differ', () => g711Encode('pcmu', pcm, new Uint8Array(159)), /160 samples but out holds 159/],
    [
      'more than 80000 samples',
      () => g711Decode('pcma', new Uint8Array(80001), new Int16Array(80001)),
      /at most 80000/,
    ],
  ])('throws InvalidOptionError for %s', (_name, call, message) => {
    let thrown: unknown;
    try {
      call();
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(InvalidOptionError);
    expect((thrown as InvalidOptionError).code).toBe('ERR_FAXLINE_INVALID_OPTION');
    expect((thrown as Error).message).toMatch(message);
  });

  test('rejects arrays that share memory, leaving the output untouched', () => {
    const buffer = new ArrayBuffer(400);
    const samples = new Int16Array(buffer, 0, 100).fill(1000);
    const out = new Uint8Array(buffer, 100, 100);
    expect(() => g711Encode('pcmu', samples, out)).toThrow(/must not share memory/);
    expect(samples.every((s) => s === 1000)).toBe(true);
  });

  test('takes a Buffer as the byte array and empty arrays as a no-op', () => {
    const payload = Buffer.from([0xff, 0x80]);
    const out = new Int16Array(2);
    g711Decode('pcmu', payload, out);
    expect([...out]).toEqual([0, 32124]);
    expect(() => g711Encode('pcma', new Int16Array(0), new Uint8Array(0))).not.toThrow();
  });
});
