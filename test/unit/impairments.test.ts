import { InvalidOptionError } from '../../lib/base/errors';
import {
  LineImpairment,
  defaultLineSpec,
  formatLineSpec,
  lossPattern,
  lossStreamSeed,
  mulberry32,
  parseLineSpec,
  type LineSpec,
  type LossModel,
} from '../../lib/transports/impairments';

/**
 * mulberry32 written again from the description in the brief, in BigInt so that no JavaScript
 * int32 coercion (Math.imul, `|`, `>>>`) is involved: every step is an explicit `mod 2^32`.
 */
function referenceMulberry32(seed: number): () => number {
  const M = 1n << 32n;
  const mask = M - 1n;
  let state = BigInt(seed) & mask;
  return () => {
    state = (state + 0x6d2b79f5n) & mask;
    let t = state;
    t = ((t ^ (t >> 15n)) * (t | 1n)) & mask;
    t = (t ^ (t + (((t ^ (t >> 7n)) * (t | 61n)) & mask))) & mask;
    return Number((t ^ (t >> 14n)) & mask) / 2 ** 32;
  };
}

/** The loss models of the brief, also written again from its text, over the reference PRNG. */
function referencePattern(seed: number, model: LossModel, direction: 0 | 1, packets: number): number[] {
  const next = referenceMulberry32(Number((BigInt(seed) + BigInt(direction) * 0x9e3779b9n) % (1n << 32n)));
  const out: number[] = [];
  let bad = false;
  for (let i = 0; i < packets; i++) {
    if (model.kind === 'none') out.push(0);
    else if (model.kind === 'random') out.push(next() < model.p ? 1 : 0);
    else {
      const u1 = next();
      out.push(u1 < (bad ? (model.lossB ?? 1) : (model.lossG ?? 0)) ? 1 : 0);
      const u2 = next();
      if (!bad && u2 < model.p) bad = true;
      else if (bad && u2 < model.r) bad = false;
    }
  }
  return out;
}

const uint32 = (u: number): number => u * 2 ** 32;

describe('mulberry32', () => {
  test('gives the hand-derived first outputs for seed 1', () => {
    // Step 1, seed 1, all mod 2^32:
    //   state = 1 + 0x6D2B79F5                         = 0x6D2B79F6
    //   a = state ^ (state >>> 15) = 0x6D2B79F6 ^ 0xDA56 = 0x6D2BA3A0
    //   t = a * (state | 1) = 0x6D2BA3A0 * 0x6D2B79F7    = 0x91517F60   (low 32 bits)
    //   c = t ^ (t >>> 7) = 0x91517F60 ^ 0x0122A2FE      = 0x9073DD9E
    //   t ^= t + c * (t | 61) = t ^ (t + 0x9073DD9E * 0x91517F7D) = 0xA08568E6
    //   out = t ^ (t >>> 14) = 0xA08568E6 ^ 0x28215     = 0xA087EAF3 = 2693262067
    // so the first double is 2693262067 / 2^32 ≈ 0.62707394.
    const next = mulberry32(1);
    expect([next(), next(), next(), next()].map(uint32)).toEqual([2693262067, 11749833, 2265367787, 4213581821]);
  });

  test('gives the hand-derived first outputs for seed 0x9E3779B9 (direction 1 of seed 0)', () => {
    // Step 1: state = 0x9E3779B9 + 0x6D2B79F5 = 0x1_0B62F3AE → 0x0B62F3AE (mod 2^32);
    //   a = 0x0B62F3AE ^ 0x16C5 = 0x0B62E56B; t = a * 0x0B62F3AF = 0x14556525;
    //   c = t ^ (t >>> 7) = 0x147DCFEF; t ^= t + c * 0x1455653D → 0x5BE1593D;
    //   out = t ^ (t >>> 14) = 0x5BE036B8 = 1541420728.
    const next = mulberry32(0x9e3779b9);
    expect([next(), next(), next(), next()].map(uint32)).toEqual([1541420728, 454851044, 2900350524, 3942498910]);
  });

  test('matches the BigInt reference for 2000 outputs of several seeds, edges included', () => {
    for (const seed of [0, 1, 7, 0x7fffffff, 0x80000000, 0x9e3779b9, 0xffffffff]) {
      const next = mulberry32(seed);
      const reference = referenceMulberry32(seed);
      for (let i = 0; i < 2000; i++) expect(next()).toBe(reference());
    }
  });

  test('returns doubles in [0, 1)', () => {
    const next = mulberry32(42);
    for (let i = 0; i < 10000; i++) {
      const u = next();
      expect(u >= 0 && u < 1).toBe(true);
    }
  });
});

describe('the loss stream seed of a direction', () => {
  test('is the seed for direction 0 and seed + 0x9E3779B9 mod 2^32 for direction 1', () => {
    expect(lossStreamSeed(1, 0)).toBe(1);
    expect(lossStreamSeed(1, 1)).toBe(0x9e3779ba);
    // 0xFFFFFFFF + 0x9E3779B9 = 0x1_9E3779B8, which wraps to 0x9E3779B8.
    expect(lossStreamSeed(0xffffffff, 1)).toBe(0x9e3779b8);
  });
});

describe('lossPattern', () => {
  test('random loss follows the hand-worked draws of seed 1', () => {
    // Seed 1, direction 0 draws 0.627…, 0.00273…, 0.527…, 0.981… (above):
    // p = 0.5 loses only the second; p = 0.6 the second and third.
    expect(Array.from(lossPattern(1, { kind: 'random', p: 0.5 }, 0, 4))).toEqual([0, 1, 0, 0]);
    expect(Array.from(lossPattern(1, { kind: 'random', p: 0.6 }, 0, 4))).toEqual([0, 1, 1, 0]);
  });

  test('direction 1 uses the stream of seed + 0x9E3779B9', () => {
    // Seed 0, direction 1 is mulberry32(0x9E3779B9): 0.3589…, 0.1059…, 0.6753…, 0.9179…
    expect(Array.from(lossPattern(0, { kind: 'random', p: 0.2 }, 1, 4))).toEqual([0, 1, 0, 0]);
    expect(Array.from(lossPattern(0, { kind: 'random', p: 0.7 }, 1, 4))).toEqual([1, 1, 1, 0]);
  });

  test('burst loss takes two draws per packet, loss first, starting in the good state', () => {
    // Seed 1, p = r = 0.5, lossG 0, lossB 1:
    //   packet 0: state G, u1 = 0.627 ≥ lossG 0 → kept;   u2 = 0.0027 < p → state B
    //   packet 1: state B, u1 = 0.527 < lossB 1 → lost;    u2 = 0.981 ≥ r → stays B
    expect(Array.from(lossPattern(1, { kind: 'burst', p: 0.5, r: 0.5 }, 0, 2))).toEqual([0, 1]);
    // With lossB = 0.5 the second packet (u1 = 0.527) survives the bad state.
    expect(Array.from(lossPattern(1, { kind: 'burst', p: 0.5, r: 0.5, lossB: 0.5 }, 0, 2))).toEqual([0, 0]);
  });

  test('equals the reference model for many seeds, both models and both directions', () => {
    const models: LossModel[] = [
      { kind: 'none' },
      { kind: 'random', p: 0.01 },
      { kind: 'random', p: 0.3 },
      { kind: 'burst', p: 0.005, r: 0.3 },
      { kind: 'burst', p: 0.05, r: 0.2, lossG: 0.01, lossB: 0.8 },
    ];
    for (const seed of [0, 1, 2, 99, 0xdeadbeef]) {
      for (const model of models) {
        for (const direction of [0, 1] as const) {
          expect(Array.from(lossPattern(seed, model, direction, 3000))).toEqual(
            referencePattern(seed, model, direction, 3000),
          );
        }
      }
    }
  });

  test('loses nothing with no model and everything with p = 1', () => {
    expect(lossPattern(5, { kind: 'none' }, 0, 100).every((x) => x === 0)).toBe(true);
    expect(lossPattern(5, { kind: 'random', p: 1 }, 0, 100).every((x) => x === 1)).toBe(true);
  });

  test('measures a random loss rate close to p over 100 000 packets', () => {
    for (const p of [0.001, 0.01, 0.05]) {
      const lost = lossPattern(3, { kind: 'random', p }, 0, 100_000).reduce((a, b) => a + b, 0);
      // Binomial standard deviation sqrt(n p (1-p)); allow 5 of them.
      const sigma = Math.sqrt(100_000 * p * (1 - p));
      expect(Math.abs(lost - 100_000 * p)).toBeLessThan(5 * sigma);
    }
  });

  test('measures a burst loss rate close to p/(p+r) and mean bursts close to 1/r', () => {
    for (const [p, r, seed] of [
      [0.005, 0.3, 1],
      [0.02, 0.25, 11],
      [0.01, 0.5, 12345],
    ] as const) {
      const pattern = lossPattern(seed, { kind: 'burst', p, r }, 0, 100_000);
      const lost = pattern.reduce((a, b) => a + b, 0);
      const expected = p / (p + r);
      expect(Math.abs(lost / 100_000 - expected) / expected).toBeLessThan(0.15);
      let bursts = 0;
      for (let i = 0; i < pattern.length; i++) if (pattern[i] === 1 && (i === 0 || pattern[i - 1] === 0)) bursts++;
      // Bursts are runs of bad states: geometric, mean 1/r.
      expect(Math.abs(lost / bursts - 1 / r)).toBeLessThan(0.12 / r);
    }
  });

  test('rejects bad models, counts and directions', () => {
    expect(() => lossPattern(1, { kind: 'random', p: 1.5 }, 0, 10)).toThrow(InvalidOptionError);
    expect(() => lossPattern(1, { kind: 'random', p: Number.NaN }, 0, 10)).toThrow(InvalidOptionError);
    expect(() => lossPattern(1, { kind: 'burst', p: 0.1, r: -0.1 }, 0, 10)).toThrow(InvalidOptionError);
    expect(() => lossPattern(1, { kind: 'gone' } as unknown as LossModel, 0, 10)).toThrow(InvalidOptionError);
    expect(() => lossPattern(1, { kind: 'none' }, 0, -1)).toThrow(InvalidOptionError);
    expect(() => lossPattern(1, { kind: 'none' }, 2 as 0, 10)).toThrow(InvalidOptionError);
  });
});

describe('parseLineSpec', () => {
  test('reads every key', () => {
    expect(parseLineSpec('loss=1%,jitter=40ms,dup=0.5%,noise=-40dBm0,gain=-6dB,seed=7')).toEqual({
      loss: { kind: 'random', p: 0.01 },
      jitterMs: 40,
      duplicate: 0.005,
      noiseDbm0: -40,
      gainDb: -6,
      seed: 7,
    });
  });

  test('reads a Gilbert–Elliott burst, with optional per-state loss', () => {
    expect(parseLineSpec('burst=0.5%/30%').loss).toEqual({ kind: 'burst', p: 0.005, r: 0.3 });
    expect(parseLineSpec('burst=2%/25%/1%/80%').loss).toEqual({
      kind: 'burst',
      p: 0.02,
      r: 0.25,
      lossG: 0.01,
      lossB: 0.8,
    });
  });

  test('gives a perfect line with seed 1 for an empty spec and fills in defaults', () => {
    expect(parseLineSpec('')).toEqual(defaultLineSpec());
    expect(defaultLineSpec()).toEqual({
      loss: { kind: 'none' },
      jitterMs: 0,
      duplicate: 0,
      noiseDbm0: null,
      gainDb: 0,
      seed: 1,
    });
    expect(parseLineSpec('jitter=20ms')).toEqual({ ...defaultLineSpec(), jitterMs: 20 });
  });

  test('accepts spaces, unit case, hex seeds and the uint32 limits', () => {
    expect(parseLineSpec(' loss = 2% , noise=-30dbm0, seed=0xFFFFFFFF ')).toEqual({
      ...defaultLineSpec(),
      loss: { kind: 'random', p: 0.02 },
      noiseDbm0: -30,
      seed: 0xffffffff,
    });
    expect(parseLineSpec('seed=0').seed).toBe(0);
    expect(parseLineSpec('seed=4294967295').seed).toBe(4294967295);
    expect(parseLineSpec('loss=0%,dup=100%').duplicate).toBe(1);
  });

  const bad: Array<[string, RegExp]> = [
    ['drop=1%', /unknown key 'drop'/],
    ['loss', /'loss': expected key=value/],
    ['=1%', /expected key=value/],
    ['loss=1%,,jitter=1ms', /expected key=value/],
    ['loss=1', /'loss=1': expected a percentage/],
    ['loss=abc%', /'loss=abc%'/],
    ['loss=1e2%', /'loss=1e2%'/],
    ['loss=101%', /'loss=101%'.*outside 0\.\.100/],
    ['loss=-1%', /'loss=-1%'.*outside 0\.\.100/],
    ['dup=150%', /'dup=150%'.*outside 0\.\.100/],
    ['burst=1%', /'burst=1%'.*burst=P%\/R%/],
    ['burst=1%/200%', /'burst=1%\/200%'.*outside/],
    ['burst=1%/x', /'burst=1%\/x'/],
    ['loss=1%,burst=1%/30%', /'loss' and 'burst' cannot be combined/],
    ['burst=1%/30%,loss=1%', /'loss' and 'burst' cannot be combined/],
    ['loss=1%,loss=2%', /'loss' is given twice/],
    ['jitter=40', /'jitter=40': expected a number in ms/],
    ['jitter=-5ms', /'jitter=-5ms'.*outside/],
    ['jitter=99999ms', /'jitter=99999ms'.*outside/],
    ['noise=-40dB', /'noise=-40dB'/],
    ['noise=10dBm0', /'noise=10dBm0'.*outside/],
    ['gain=6', /'gain=6'/],
    ['gain=100dB', /'gain=100dB'.*outside/],
    ['seed=-1', /'seed=-1'.*0\.\.4294967295/],
    ['seed=4294967296', /'seed=4294967296'/],
    ['seed=1.5', /'seed=1.5'/],
    ['seed=', /'seed='/],
  ];
  test.each(bad)('rejects %s with a message naming the bad part', (spec, message) => {
    let error: unknown;
    try {
      parseLineSpec(spec);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(InvalidOptionError);
    expect((error as InvalidOptionError).code).toBe('ERR_FAXLINE_INVALID_OPTION');
    expect((error as Error).message).toMatch(message);
  });

  test('rejects a non-string', () => {
    expect(() => parseLineSpec(undefined as unknown as string)).toThrow(InvalidOptionError);
  });
});

describe('formatLineSpec', () => {
  test('prints the canonical form: non-defaults in a fixed order, then the seed', () => {
    expect(formatLineSpec(parseLineSpec('seed=7,gain=-6dB,jitter=40ms,loss=1%'))).toBe(
      'loss=1%,jitter=40ms,gain=-6dB,seed=7',
    );
    expect(formatLineSpec(defaultLineSpec())).toBe('seed=1');
    expect(formatLineSpec(parseLineSpec('burst=0.5%/30%,dup=7%,noise=-40dBm0'))).toBe(
      'burst=0.5%/30%,dup=7%,noise=-40dBm0,seed=1',
    );
    expect(formatLineSpec(parseLineSpec('burst=2%/25%/1%/80%'))).toBe('burst=2%/25%/1%/80%,seed=1');
  });

  test('is read back to the same spec', () => {
    for (const text of [
      'loss=0.1%,seed=3',
      'loss=0.3%,jitter=12.5ms,dup=0.07%,noise=-52.5dBm0,gain=3.5dB,seed=4294967295',
      'burst=0.5%/30%,jitter=40ms',
      'burst=1%/33.3%/0.2%/90%,seed=0',
    ]) {
      const spec = parseLineSpec(text);
      expect(parseLineSpec(formatLineSpec(spec))).toEqual(spec);
    }
  });
});

function spec(overrides: Partial<LineSpec>): LineSpec {
  return { ...defaultLineSpec(), ...overrides };
}

/** Runs `packets` packets, one per 20 ms from 0 ms, and lists the arrival times of each. */
function run(line: LineImpairment, packets: number): number[][] {
  const out = [0, 0];
  const all: number[][] = [];
  for (let i = 0; i < packets; i++) {
    const n = line.deliveries(i * 20, out);
    all.push(out.slice(0, n));
  }
  return all;
}

describe('LineImpairment deliveries', () => {
  test('are the same for the same seed and direction, and differ for another', () => {
    const s = spec({ loss: { kind: 'random', p: 0.1 }, jitterMs: 40, duplicate: 0.05, seed: 9 });
    const a = run(new LineImpairment(s, 0), 2000);
    expect(run(new LineImpairment(s, 0), 2000)).toEqual(a);
    expect(run(new LineImpairment({ ...s, seed: 10 }, 0), 2000)).not.toEqual(a);
    expect(run(new LineImpairment(s, 1), 2000)).not.toEqual(a);
  });

  test('lose exactly the packets lossPattern names, with or without jitter and duplication', () => {
    const loss: LossModel = { kind: 'burst', p: 0.02, r: 0.25 };
    for (const direction of [0, 1] as const) {
      const pattern = Array.from(lossPattern(77, loss, direction, 5000));
      for (const extra of [{}, { jitterMs: 60, duplicate: 0.2 }]) {
        const deliveries = run(new LineImpairment(spec({ loss, seed: 77, ...extra }), direction), 5000);
        expect(deliveries.map((d) => (d.length === 0 ? 1 : 0))).toEqual(pattern);
      }
    }
  });

  test('without jitter deliver each packet once, at the time it is sent', () => {
    const line = new LineImpairment(defaultLineSpec(), 0);
    const out = [-1, -1];
    expect(line.deliveries(1234.5, out)).toBe(1);
    expect(out[0]).toBe(1234.5);
    expect(line.stats()).toEqual({ packets: 1, lost: 0, duplicated: 0, delayedMaxMs: 0 });
  });

  test('with jitter delay each packet within [0, jitter) ms, spread out, and reorder them', () => {
    const line = new LineImpairment(spec({ jitterMs: 40, seed: 5 }), 0);
    const deliveries = run(line, 10_000);
    const delays = deliveries.map((d, i) => d[0]! - i * 20);
    expect(delays.every((d) => d >= 0 && d < 40)).toBe(true);
    const mean = delays.reduce((a, b) => a + b, 0) / delays.length;
    // Uniform on [0, 40): mean 20, standard error 40/sqrt(12 * 10 000) ≈ 0.12 ms.
    expect(Math.abs(mean - 20)).toBeLessThan(1);
    expect(Math.max(...delays)).toBeGreaterThan(39);
    expect(line.stats().delayedMaxMs).toBe(Math.max(...delays));
    let reordered = 0;
    for (let i = 1; i < deliveries.length; i++) if (deliveries[i]![0]! < deliveries[i - 1]![0]!) reordered++;
    // Packets 20 ms apart with delays uniform on [0, 40) swap with probability 1/8.
    expect(reordered / deliveries.length).toBeGreaterThan(0.1);
    expect(reordered / deliveries.length).toBeLessThan(0.15);
  });

  test('duplicate at the configured rate, each copy with its own delay from the send time', () => {
    const line = new LineImpairment(spec({ duplicate: 0.1, jitterMs: 30, seed: 8 }), 1);
    const deliveries = run(line, 20_000);
    const doubled = deliveries.filter((d) => d.length === 2);
    expect(Math.abs(doubled.length / 20_000 - 0.1)).toBeLessThan(0.01);
    expect(line.stats()).toEqual({
      packets: 20_000,
      lost: 0,
      duplicated: doubled.length,
      delayedMaxMs: expect.any(Number),
    });
    expect(doubled.some((d) => d[0] !== d[1])).toBe(true);
    const delays = deliveries.flatMap((d, i) => d.map((t) => t - i * 20));
    expect(delays.every((delay) => delay >= 0 && delay < 30)).toBe(true);
  });

  test('count lost packets in stats', () => {
    const line = new LineImpairment(spec({ loss: { kind: 'random', p: 0.05 }, seed: 2 }), 0);
    const deliveries = run(line, 1000);
    const lost = Array.from(lossPattern(2, { kind: 'random', p: 0.05 }, 0, 1000)).reduce((a, b) => a + b, 0);
    expect(lost).toBeGreaterThan(0);
    expect(deliveries.filter((d) => d.length === 0)).toHaveLength(lost);
    expect(line.stats()).toEqual({ packets: 1000, lost, duplicated: 0, delayedMaxMs: 0 });
  });

  test('reject an invalid spec or direction', () => {
    expect(() => new LineImpairment(spec({ jitterMs: -1 }), 0)).toThrow(InvalidOptionError);
    expect(() => new LineImpairment(spec({ duplicate: 2 }), 0)).toThrow(InvalidOptionError);
    expect(() => new LineImpairment(spec({ gainDb: Number.NaN }), 0)).toThrow(InvalidOptionError);
    expect(() => new LineImpairment(spec({ seed: 2 ** 32 }), 0)).toThrow(InvalidOptionError);
    expect(() => new LineImpairment(spec({ loss: { kind: 'random', p: -0.5 } }), 0)).toThrow(InvalidOptionError);
    expect(() => new LineImpairment(defaultLineSpec(), 3 as 0)).toThrow(InvalidOptionError);
  });
});

describe('LineImpairment audio', () => {
  test('applies gain exactly, rounding half away from zero and saturating', () => {
    // -6 dB is a factor 10^(-6/20) = 0.501187…: 1000 → 501.19 → 501, 3 → 1.50356 → 2,
    // 1 → 0.501 → 1, 32767 → 16422.40 → 16422, -32768 → -16422.90 → -16423.
    const down = new LineImpairment(spec({ gainDb: -6 }), 0);
    const a = Int16Array.from([1000, -1000, 3, -3, 1, -1, 0, 32767, -32768]);
    down.processAudio(a);
    expect(Array.from(a)).toEqual([501, -501, 2, -2, 1, -1, 0, 16422, -16423]);
    // +6 dB is 1.995262…: 100 → 199.53 → 200; 16423 → 32768.19 clips to 32767;
    // -16423 → -32768.19 → -32768 (in range); -20000 → -39905 clips to -32768.
    const up = new LineImpairment(spec({ gainDb: 6 }), 0);
    const b = Int16Array.from([100, -100, 16423, -16423, 20000, -20000]);
    up.processAudio(b);
    expect(Array.from(b)).toEqual([200, -200, 32767, -32768, 32767, -32768]);
    // +20 dB is exactly 10: 3276 → 32760 fits, 3277 → 32770 clips.
    const ten = new LineImpairment(spec({ gainDb: 20 }), 0);
    const c = Int16Array.from([1234, -1234, 3276, 3277, -3276, -3277]);
    ten.processAudio(c);
    expect(Array.from(c)).toEqual([12340, -12340, 32760, 32767, -32760, -32768]);
  });

  test('leaves audio untouched without gain or noise', () => {
    const line = new LineImpairment(defaultLineSpec(), 0);
    const frame = Int16Array.from({ length: 160 }, (_, i) => i * 100 - 8000);
    const copy = frame.slice();
    line.processAudio(frame);
    expect(frame).toEqual(copy);
  });

  test('adds noise deterministically by seed and direction', () => {
    const frames = (s: LineSpec, direction: 0 | 1): Int16Array[] => {
      const line = new LineImpairment(s, direction);
      try {
        return [0, 1, 2].map(() => {
          const frame = new Int16Array(160);
          line.processAudio(frame);
          return frame;
        });
      } finally {
        line.close();
      }
    };
    const noisy = spec({ noiseDbm0: -30, seed: 7 });
    const a = frames(noisy, 0);
    expect(a[0]!.some((x) => x !== 0)).toBe(true);
    // The generator runs on: successive frames carry different noise.
    expect(a[1]).not.toEqual(a[0]);
    expect(frames(noisy, 0)).toEqual(a);
    expect(frames({ ...noisy, seed: 8 }, 0)).not.toEqual(a);
    expect(frames(noisy, 1)).not.toEqual(a);
    // Noise does not use the loss stream: the same packets are lost with it on.
    const loss: LossModel = { kind: 'random', p: 0.2 };
    const withNoise = new LineImpairment({ ...noisy, loss }, 0);
    const frame = new Int16Array(160);
    const lost: number[] = [];
    const out = [0, 0];
    for (let i = 0; i < 500; i++) {
      withNoise.processAudio(frame);
      lost.push(withNoise.deliveries(i * 20, out) === 0 ? 1 : 0);
    }
    withNoise.close();
    expect(lost).toEqual(Array.from(lossPattern(7, loss, 0, 500)));
  });

  test('noise at a louder level has a larger RMS', () => {
    const rms = (level: number): number => {
      const line = new LineImpairment(spec({ noiseDbm0: level, seed: 3 }), 0);
      let sum = 0;
      for (let i = 0; i < 50; i++) {
        const frame = new Int16Array(160);
        line.processAudio(frame);
        for (const x of frame) sum += x * x;
      }
      line.close();
      return Math.sqrt(sum / (50 * 160));
    };
    // 20 dB apart is a factor 10 in RMS.
    const ratio = rms(-20) / rms(-40);
    expect(ratio).toBeGreaterThan(8);
    expect(ratio).toBeLessThan(12.5);
  });

  test('close is idempotent', () => {
    const line = new LineImpairment(spec({ noiseDbm0: -40 }), 0);
    line.close();
    expect(() => line.close()).not.toThrow();
  });
});
