import { ExtendedSequence, seq16Diff, seq16Newer, ts32Diff, ts32Newer } from '../../lib/transports/rtp/serial';

describe('seq16Diff gives the signed distance the short way round the 16-bit circle', () => {
  it('is plain subtraction away from the wrap', () => {
    expect(seq16Diff(10, 3)).toBe(7);
    expect(seq16Diff(3, 10)).toBe(-7);
    expect(seq16Diff(500, 500)).toBe(0);
  });

  it('crosses the wrap: 0 is one after 65535, and 65535 one before 0', () => {
    expect(seq16Diff(0, 65535)).toBe(1);
    expect(seq16Diff(65535, 0)).toBe(-1);
    expect(seq16Diff(5, 65530)).toBe(11); // 65536 − 65530 + 5
  });

  it('reads exactly half the circle as "after", so the range is (−32768, 32768]', () => {
    expect(seq16Diff(32768, 0)).toBe(32768);
    expect(seq16Diff(0, 32768)).toBe(32768);
    expect(seq16Diff(32769, 0)).toBe(-32767);
  });

  it('orders with seq16Newer', () => {
    expect(seq16Newer(0, 65535)).toBe(true);
    expect(seq16Newer(65535, 0)).toBe(false);
    expect(seq16Newer(7, 7)).toBe(false);
  });
});

describe('ts32Diff gives the signed distance on the 32-bit circle', () => {
  it('crosses the wrap: 0 is 160 after 2^32 − 160', () => {
    expect(ts32Diff(0, 0xffffff60)).toBe(160);
    expect(ts32Diff(0xffffff60, 0)).toBe(-160);
    expect(ts32Diff(100, 0xffffffff)).toBe(101);
  });

  it('has the range (−2^31, 2^31]', () => {
    expect(ts32Diff(0x80000000, 0)).toBe(0x80000000);
    expect(ts32Diff(0x80000001, 0)).toBe(-0x7fffffff);
  });

  it('orders with ts32Newer', () => {
    expect(ts32Newer(0, 0xffffffff)).toBe(true);
    expect(ts32Newer(0xffffffff, 0)).toBe(false);
  });
});

describe('ExtendedSequence counts cycles of the 16-bit sequence number', () => {
  it('starts at the first number, cycle 0, and counts on through the wrap', () => {
    const ext = new ExtendedSequence();
    expect(ext.highest).toBeNull();
    expect([65534, 65535, 0, 1].map((s) => ext.extend(s))).toEqual([65534, 65535, 65536, 65537]);
    expect(ext.highest).toBe(65537);
  });

  it('keeps reordered numbers around the wrap in their cycle', () => {
    const ext = new ExtendedSequence();
    expect([65535, 1, 0, 2, 65534].map((s) => ext.extend(s))).toEqual([65535, 65537, 65536, 65538, 65534]);
  });

  it('places a number from before the first, across the wrap, in cycle −1', () => {
    const ext = new ExtendedSequence();
    ext.extend(3);
    expect(ext.extend(65534)).toBe(-2); // −1 × 65536 + 65534
    expect(ext.highest).toBe(3);
  });

  it('peek does not record, reset starts again', () => {
    const ext = new ExtendedSequence();
    ext.extend(100);
    expect(ext.peek(200)).toBe(200);
    expect(ext.highest).toBe(100);
    ext.reset();
    expect(ext.highest).toBeNull();
    expect(ext.extend(40000)).toBe(40000);
  });

  it('runs through several cycles', () => {
    const ext = new ExtendedSequence();
    let last = 0;
    for (let i = 0; i < 3 * 65536; i += 1000) last = ext.extend((60000 + i) & 0xffff);
    expect(last).toBe(60000 + 196000);
  });
});
