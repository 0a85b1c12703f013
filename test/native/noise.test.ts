import { InvalidOptionError } from '../../lib/base/errors';
import { g711Decode } from '../../lib/transports/g711';
import { LineNoise, NoiseClosedError } from '../../lib/transports/noise';

/** `frames` frames of 160 samples of noise alone (added to silence), concatenated. */
function noiseAlone(seed: number, level: number, frames: number): Int16Array {
  const noise = new LineNoise(seed, level);
  const all = new Int16Array(160 * frames);
  const frame = new Int16Array(160);
  for (let f = 0; f < frames; f++) {
    frame.fill(0);
    noise.add(frame);
    all.set(frame, f * 160);
  }
  noise.close();
  return all;
}

function rms(samples: Int16Array): number {
  let sum = 0;
  for (const s of samples) sum += s * s;
  return Math.sqrt(sum / samples.length);
}

/*
 * 0 dBm0 in 16-bit linear samples. G.711 defines it through the digital milliwatt (table 5,
 * µ-law 0x1E 0x0B 0x0B 0x1E 0x9E 0x8B 0x8B 0x9E): a 1 kHz sine of 0 dBm0. Its peak sits
 * 3.17 dB below µ-law's overload point (8159 units, 32636 in 16 bits), and a sine's RMS is
 * 3.01 dB below its peak: 32636 * 10^(-(3.17 + 3.01) / 20) = 16021. Decoding the eight words
 * gives +-8828 and +-20860, whose RMS is sqrt((8828^2 + 20860^2) / 2) = 16017: the same.
 */
function zeroDbm0Rms(): number {
  const mw = new Int16Array(8);
  g711Decode('pcmu', Uint8Array.from([0x1e, 0x0b, 0x0b, 0x1e, 0x9e, 0x8b, 0x8b, 0x9e]), mw);
  return rms(mw);
}

const dB = (ratio: number): number => 20 * Math.log10(ratio);

describe('the 0 dBm0 reference', () => {
  test('is an RMS of 16017, 6.2 dB below the µ-law overload point', () => {
    expect(Math.round(zeroDbm0Rms())).toBe(16017);
    expect(dB(32636 / zeroDbm0Rms())).toBeCloseTo(3.17 + 3.01, 1);
  });
});

describe('the level of the noise', () => {
  test.each([-40, -20, -10, 0])('%d dBm0 measures within 1 dB of it over 10 s', (level) => {
    const measured = dB(rms(noiseAlone(7, level, 500)) / zeroDbm0Rms());
    expect(Math.abs(measured - level)).toBeLessThan(1);
  });

  test('averages zero (no DC)', () => {
    const samples = noiseAlone(3, -10, 500);
    const mean = samples.reduce((s, x) => s + x, 0) / samples.length;
    // 16017 * 10^(-10/20) = 5065 is the RMS at -10 dBm0; the mean of 80000 samples lies within
    // five standard errors of zero.
    expect(Math.abs(mean)).toBeLessThan((5 * 5065) / Math.sqrt(samples.length));
  });
});

describe('determinism', () => {
  test('the same seed and level give the same samples', () => {
    expect(noiseAlone(42, -20, 50)).toEqual(noiseAlone(42, -20, 50));
  });

  test('another seed gives other samples', () => {
    const a = noiseAlone(42, -20, 50);
    const b = noiseAlone(43, -20, 50);
    let same = 0;
    for (let i = 0; i < a.length; i++) if (a[i] === b[i]) same++;
    expect(same).toBeLessThan(a.length / 20);
  });

  test('seeds up to 2^32 - 1 are taken; seeds equal modulo 2^30 give the same noise', () => {
    expect(noiseAlone(0xffffffff, -20, 5)).toEqual(noiseAlone(0x3fffffff, -20, 5));
  });

  test('the noise continues from frame to frame rather than restarting', () => {
    const samples = noiseAlone(9, -20, 2);
    expect(samples.subarray(0, 160)).not.toEqual(samples.subarray(160));
  });
});

describe('adding to a signal', () => {
  test('adds exactly the noise, saturating at 32767 and -32768 instead of wrapping', () => {
    const noise = noiseAlone(11, 0, 20);
    const high = new Int16Array(noise.length).fill(32000);
    const low = new Int16Array(noise.length).fill(-32000);
    const a = new LineNoise(11, 0);
    const b = new LineNoise(11, 0);
    for (let f = 0; f < 20; f++) {
      a.add(high.subarray(f * 160, (f + 1) * 160));
      b.add(low.subarray(f * 160, (f + 1) * 160));
    }
    a.close();
    b.close();
    let clippedHigh = 0;
    let clippedLow = 0;
    for (let i = 0; i < noise.length; i++) {
      const up = Math.min(32767, 32000 + noise[i]);
      const down = Math.max(-32768, -32000 + noise[i]);
      if (high[i] !== up || low[i] !== down) throw new Error(`sample ${i}: ${high[i]}, ${low[i]}`);
      if (high[i] === 32767) clippedHigh++;
      if (low[i] === -32768) clippedLow++;
    }
    // At 0 dBm0 (RMS 16017) nearly half the samples push past the limit.
    expect(clippedHigh).toBeGreaterThan(noise.length / 5);
    expect(clippedLow).toBeGreaterThan(noise.length / 5);
  });
});

describe('the lifecycle and argument checks', () => {
  test('every add after close throws NoiseClosedError; close is idempotent', () => {
    const noise = new LineNoise(1, -30);
    noise.close();
    noise.close();
    expect(noise.closed).toBe(true);
    expect(() => noise.add(new Int16Array(160))).toThrow(NoiseClosedError);
  });

  test.each([
    ['a negative seed', -1, -20],
    ['a fractional seed', 1.5, -20],
    ['a seed of 2^32', 2 ** 32, -20],
    ['a level above +10 dBm0', 1, 11],
    ['a level below -100 dBm0', 1, -101],
    ['NaN for the level', 1, NaN],
  ])('the constructor throws InvalidOptionError for %s', (_name, seed, level) => {
    expect(() => new LineNoise(seed, level)).toThrow(InvalidOptionError);
  });

  test('add throws InvalidOptionError for a frame that is not an Int16Array', () => {
    const noise = new LineNoise(1, -30);
    expect(() => noise.add(new Float32Array(160) as unknown as Int16Array)).toThrow(
      /Expected an Int16Array for frame but got a Float32Array/,
    );
    expect(() => noise.add(new Uint8Array(160) as unknown as Int16Array)).toThrow(InvalidOptionError);
    noise.close();
  });
});
