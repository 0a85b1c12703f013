import { lossPattern, parseLineSpec, type PacketImpairment } from '../../lib/transports/impairments';
import { simulatedDatagramPair, type SimulatedDatagramLine } from '../../lib/transports/t38/datagram-pair';

/** A datagram that says which it is: its index as 16-bit big-endian, then a filler byte. */
function datagram(index: number): Uint8Array {
  return Uint8Array.of(index >> 8, index & 0xff, 0xa5);
}

/** Polls `line` at line time `nowMs`, returning the indices of what arrived, copied out. */
function take(line: SimulatedDatagramLine, nowMs: number): number[] {
  const got: number[] = [];
  line.poll((d) => got.push((d[0] << 8) | d[1]), nowMs);
  return got;
}

describe('a perfect simulated path', () => {
  it('delivers each datagram once, in order, exactly latencyMs after it was sent', () => {
    const [a, b] = simulatedDatagramPair({ latencyMs: 30 });
    for (let i = 0; i < 5; i++) a.send(datagram(i), i * 20);
    // Sent at 0, 20, 40, 60, 80; with 30 ms of latency they are due at 30, 50, 70, 90, 110.
    expect(take(b, 29)).toEqual([]);
    expect(take(b, 30)).toEqual([0]);
    expect(take(b, 69)).toEqual([1]);
    expect(take(b, 200)).toEqual([2, 3, 4]);
    expect(take(b, 400)).toEqual([]);
    expect(take(a, 400)).toEqual([]); // nothing went the other way
    expect(b.stats()).toMatchObject({ kind: 'simulated-udptl', received: 5, droppedBySimulator: 0, inFlight: 0 });
    expect(a.stats()).toMatchObject({ sent: 5, received: 0 });
  });

  it('has a default latency of 20 ms, and carries both ways independently', () => {
    const [a, b] = simulatedDatagramPair();
    a.send(datagram(1), 0);
    b.send(datagram(2), 0);
    expect(take(b, 19)).toEqual([]);
    expect(take(a, 19)).toEqual([]);
    expect(take(b, 20)).toEqual([1]);
    expect(take(a, 20)).toEqual([2]);
    expect(a.kind).toBe('simulated-udptl');
  });

  it('copies what is sent: changing the sender buffer afterwards changes nothing', () => {
    const [a, b] = simulatedDatagramPair({ latencyMs: 0 });
    const buf = Uint8Array.of(1, 2, 3);
    a.send(buf, 0);
    buf.fill(9);
    const got: number[][] = [];
    b.poll((d) => got.push(Array.from(d)), 0);
    expect(got).toEqual([[1, 2, 3]]);
  });

  it('is ready at once', async () => {
    const [a, b] = simulatedDatagramPair();
    await expect(a.ready()).resolves.toBeUndefined();
    await expect(b.ready()).resolves.toBeUndefined();
  });
});

describe('an impaired simulated path', () => {
  it('loses exactly the datagrams lossPattern names for the seed, per direction', () => {
    const line = parseLineSpec('loss=10%,seed=7');
    const [a, b] = simulatedDatagramPair({ line, latencyMs: 0 });
    const n = 1000;
    for (let i = 0; i < n; i++) {
      a.send(datagram(i), i * 20);
      b.send(datagram(i), i * 20);
    }
    const expected = (direction: 0 | 1): number[] => {
      const pattern = lossPattern(7, line.loss, direction, n);
      return Array.from(pattern.keys()).filter((i) => pattern[i] === 0);
    };
    const atB = take(b, n * 20);
    const atA = take(a, n * 20);
    expect(atB).toEqual(expected(0));
    expect(atA).toEqual(expected(1));
    // 10 % of 1000: the pattern is not empty, and the two directions differ.
    expect(n - atB.length).toBeGreaterThan(50);
    expect(atA).not.toEqual(atB);
    expect(a.stats().droppedBySimulator).toBe(n - atB.length);
  });

  it('is deterministic for a seed with jitter and duplication, and delivers by arrival time', () => {
    const run = (): number[][] => {
      const [a, b] = simulatedDatagramPair({ aToB: parseLineSpec('jitter=60ms,dup=20%,burst=2%/30%,seed=11') });
      const ticks: number[][] = [];
      for (let t = 0; t < 200; t++) {
        a.send(datagram(t), t * 20);
        ticks.push(take(b, t * 20));
      }
      ticks.push(take(b, 200 * 20 + 100));
      return ticks;
    };
    const first = run();
    expect(run()).toEqual(first);
    const all = first.flat();
    // 60 ms of jitter over 20 ms sends reorders some; 20 % duplication repeats some.
    expect(all.some((v, i) => i > 0 && v < all[i - 1])).toBe(true);
    expect(new Set(all).size).toBeLessThan(all.length);
    // Nothing arrives before its send time plus the 20 ms latency: datagram t is sent at 20·t
    // (polled at 20·tick, so index ≤ tick − 1).
    first.slice(0, 200).forEach((got, tick) => got.forEach((index) => expect(index).toBeLessThanOrEqual(tick - 1)));
  });

  it('uses a PacketImpairment as given: its delivery times plus the latency', () => {
    // Drops every third datagram (indices 2, 5, ...) and delays the others by 5 ms.
    let count = 0;
    let closed = 0;
    const everyThird: PacketImpairment = {
      processAudio: () => undefined,
      deliveries(nowMs, out) {
        if (count++ % 3 === 2) return 0;
        out[0] = nowMs + 5;
        return 1;
      },
      close: () => void closed++,
    };
    const [a, b] = simulatedDatagramPair({ aToB: everyThird, latencyMs: 10 });
    for (let i = 0; i < 8; i++) a.send(datagram(i), 0);
    // Sent at 0, delayed 5 and 10 more: due at 15. Indices 2 and 5 are dropped.
    expect(take(b, 14)).toEqual([]);
    expect(take(b, 15)).toEqual([0, 1, 3, 4, 6, 7]);
    // b→a has no impairment.
    b.send(datagram(9), 0);
    expect(take(a, 10)).toEqual([9]);
    void a.close();
    void b.close();
    expect(closed).toBe(0); // not ours to close
  });
});

describe('hanging up', () => {
  it('ends the other side with hangup and stops carrying datagrams', () => {
    const [a, b] = simulatedDatagramPair({ latencyMs: 0 });
    expect(a.ended).toBeNull();
    a.hangUp('BYE received');
    expect(b.ended).toEqual({ reason: 'hangup', detail: 'BYE received' });
    expect(a.ended).toBeNull(); // a ended the call itself
    a.send(datagram(1), 0);
    b.send(datagram(2), 0);
    expect(take(b, 0)).toEqual([]);
    expect(take(a, 0)).toEqual([]);
    b.hangUp();
    expect(a.ended).toBeNull(); // the call was already over
  });

  it('gives a default detail', () => {
    const [a, b] = simulatedDatagramPair();
    b.hangUp();
    expect(a.ended).toEqual({ reason: 'hangup', detail: 'the far end hung up' });
  });
});

describe('closing and options', () => {
  it('closes idempotently; a closed end neither polls nor receives', async () => {
    const [a, b] = simulatedDatagramPair({ line: parseLineSpec('loss=1%,seed=3'), latencyMs: 0 });
    a.send(datagram(1), 0);
    await b.close();
    await b.close();
    expect(take(b, 100)).toEqual([]);
    a.send(datagram(2), 0);
    expect(a.stats().sent).toBe(1);
    await a.close();
  });

  it('rejects bad options', () => {
    expect(() => simulatedDatagramPair({ latencyMs: -1 })).toThrow(/latencyMs/);
    expect(() => simulatedDatagramPair({ latencyMs: Number.NaN })).toThrow(/latencyMs/);
    expect(() => simulatedDatagramPair({ aToB: 5 as unknown as PacketImpairment })).toThrow(/aToB/);
    expect(() => simulatedDatagramPair({ bToA: { ...parseLineSpec(''), jitterMs: -5 } })).toThrow(/jitterMs/);
    expect(() => simulatedDatagramPair(null as unknown as object)).toThrow(/options/);
  });
});
