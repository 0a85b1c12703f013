import { JitterBuffer } from '../../lib/transports/rtp/jitter-buffer';
import { encodeRed, redEncodedLength, type RedBlock } from '../../lib/transports/rtp/red';

/** A hand-built RTP packet (RFC 3550 §5.1): V=2, no CSRC, the payload filled with `fill`. */
function rtp(seq: number, ts: number, { pt = 0, ssrc = 0x01020304, fill = seq & 0xff, size = 160 } = {}): Uint8Array {
  const buf = Buffer.alloc(12 + size, fill);
  buf[0] = 0x80;
  buf[1] = pt;
  buf.writeUInt16BE(seq & 0xffff, 2);
  buf.writeUInt32BE(ts >>> 0, 4);
  buf.writeUInt32BE(ssrc >>> 0, 8);
  return buf;
}

/** A RED packet (PT 99) whose primary is `seq`'s frame and whose blocks are the `back` earlier ones. */
function redPacket(seq: number, ts: number, back: number[], fills: (s: number) => number): Uint8Array {
  const blocks: RedBlock[] = back.map((k) => ({
    payloadType: 0,
    timestampOffset: k * 160,
    data: new Uint8Array(160).fill(fills(seq - k)),
  }));
  const primary = { payloadType: 0, data: new Uint8Array(160).fill(fills(seq)) };
  const payload = new Uint8Array(redEncodedLength(blocks, primary));
  encodeRed(blocks, primary, payload);
  const buf = Buffer.alloc(12 + payload.length);
  buf[0] = 0x80;
  buf[1] = 99;
  buf.writeUInt16BE(seq & 0xffff, 2);
  buf.writeUInt32BE(ts >>> 0, 4);
  buf.writeUInt32BE(0x01020304, 8);
  buf.set(payload, 12);
  return buf;
}

/** Pops `n` ticks of 20 ms from `startMs`; each entry is the frame's first byte or null. */
function play(jb: JitterBuffer, startMs: number, n: number): (number | null)[] {
  const out: (number | null)[] = [];
  for (let i = 0; i < n; i++) {
    const frame = jb.pop(startMs + i * 20);
    out.push(frame === null ? null : frame[0]);
  }
  return out;
}

describe('JitterBuffer plays in sequence order', () => {
  it('plays an in-order stream after the playout delay, one frame per pop', () => {
    const jb = new JitterBuffer({ payloadType: 0, playoutDelayMs: 60 });
    expect(jb.push(rtp(100, 16000), 0)).toBe('accepted');
    // Before playout starts nothing is consumed.
    expect(jb.pop(0)).toBeNull();
    expect(jb.pop(59)).toBeNull();
    for (let i = 1; i < 5; i++) expect(jb.push(rtp(100 + i, 16000 + 160 * i), 20 * i)).toBe('accepted');
    expect(play(jb, 60, 5)).toEqual([100, 101, 102, 103, 104]);
    expect(jb.stats()).toMatchObject({ received: 5, lost: 0, late: 0, duplicate: 0 });
  });

  it('puts packets reordered within the delay back in order', () => {
    const jb = new JitterBuffer({ payloadType: 0 });
    const order = [10, 12, 11, 14, 13];
    order.forEach((s, i) => expect(jb.push(rtp(s, s * 160), i * 20)).toBe('accepted'));
    expect(play(jb, 60, 5)).toEqual([10, 11, 12, 13, 14]);
  });

  it('takes a packet that belongs before the first one if it comes before playout starts', () => {
    const jb = new JitterBuffer({ payloadType: 0 });
    jb.push(rtp(11, 1760), 0);
    expect(jb.push(rtp(10, 1600), 5)).toBe('accepted');
    expect(play(jb, 60, 2)).toEqual([10, 11]);
  });

  it('drops a duplicate', () => {
    const jb = new JitterBuffer({ payloadType: 0 });
    expect(jb.push(rtp(1, 160), 0)).toBe('accepted');
    expect(jb.push(rtp(1, 160), 1)).toBe('duplicate');
    jb.push(rtp(2, 320), 20);
    expect(play(jb, 60, 3)).toEqual([1, 2, null]);
    expect(jb.stats()).toMatchObject({ received: 3, duplicate: 1, lost: 1 });
  });

  it('reports a gap as a missing frame (null) and counts it lost', () => {
    const jb = new JitterBuffer({ payloadType: 0 });
    for (const s of [1, 2, 4, 5]) jb.push(rtp(s, s * 160), s * 20);
    expect(play(jb, 80, 5)).toEqual([1, 2, null, 4, 5]);
    expect(jb.stats().lost).toBe(1);
  });

  it('drops a packet whose frame was already played as missing (late)', () => {
    const jb = new JitterBuffer({ payloadType: 0, playoutDelayMs: 40 });
    jb.push(rtp(1, 160), 0);
    jb.push(rtp(3, 480), 40);
    expect(play(jb, 40, 2)).toEqual([1, null]);
    expect(jb.push(rtp(2, 320), 70)).toBe('late');
    expect(jb.push(rtp(1, 160), 71)).toBe('late');
    expect(play(jb, 80, 1)).toEqual([3]);
    expect(jb.stats()).toMatchObject({ late: 2, lost: 1, received: 4 });
  });

  it('runs through the sequence number wrap (65535 → 0) mid-stream', () => {
    const jb = new JitterBuffer({ payloadType: 0 });
    const seqs = [65533, 65534, 0, 65535, 1, 2]; // one reordered across the wrap
    seqs.forEach((s, i) => expect(jb.push(rtp(s, 1000 + ((s + 3) & 0xffff) * 160), i * 20)).toBe('accepted'));
    expect(play(jb, 100, 6)).toEqual([65533, 65534, 65535, 0, 1, 2].map((s) => s & 0xff));
    expect(jb.stats().lost).toBe(0);
  });

  it('runs through the timestamp wrap (2^32 − 1 → …) with the jitter still zero for a steady stream', () => {
    const jb = new JitterBuffer({ payloadType: 0 });
    // Timestamps 2^32 − 320, 2^32 − 160, 0, 160: steady 160 apart across the wrap, sent every 20 ms.
    const ts = [0xfffffec0, 0xffffff60, 0, 160];
    ts.forEach((t, i) => expect(jb.push(rtp(7 + i, t), i * 20)).toBe('accepted'));
    expect(play(jb, 60, 4)).toEqual([7, 8, 9, 10]);
    expect(jb.stats().jitterMs).toBe(0);
  });
});

describe('JitterBuffer ignores what is not our stream', () => {
  it('counts another payload type (telephone-event 101, comfort noise 13) as foreign', () => {
    const jb = new JitterBuffer({ payloadType: 0 });
    expect(jb.push(rtp(1, 160, { pt: 101, size: 4 }), 0)).toBe('foreign');
    expect(jb.push(rtp(1, 160, { pt: 13, size: 1 }), 0)).toBe('foreign');
    expect(jb.push(rtp(1, 160, { pt: 8 }), 0)).toBe('foreign');
    // Foreign packets do not start the playout.
    expect(jb.anchored).toBe(false);
    expect(jb.stats()).toMatchObject({ foreign: 3, received: 0 });
  });

  it('locks to the first SSRC and counts others as foreign', () => {
    const jb = new JitterBuffer({ payloadType: 0 });
    expect(jb.push(rtp(1, 160, { ssrc: 1 }), 0)).toBe('accepted');
    expect(jb.push(rtp(2, 320, { ssrc: 2 }), 20)).toBe('foreign');
    expect(jb.push(rtp(2, 320, { ssrc: 1 }), 21)).toBe('accepted');
  });

  it('counts bad bytes, a bad RED payload and a wrong-sized payload as malformed', () => {
    const jb = new JitterBuffer({ payloadType: 0, redPayloadType: 99 });
    expect(jb.push(new Uint8Array([1, 2, 3]), 0)).toBe('malformed');
    expect(jb.push(rtp(1, 160, { size: 80 }), 0)).toBe('malformed');
    const badRed = Buffer.from(rtp(1, 160, { pt: 99, size: 3 }));
    badRed.set([0x80, 0x02, 0x80], 12); // a block header cut short
    expect(jb.push(badRed, 0)).toBe('malformed');
    expect(jb.stats().malformed).toBe(3);
  });

  it('never throws on thousands of random buffers', () => {
    const jb = new JitterBuffer({ payloadType: 0, redPayloadType: 99 });
    let seed = 7;
    const rand = (): number => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 16) & 0xff;
    const results = new Set<string>();
    for (let i = 0; i < 4000; i++) {
      const buf = new Uint8Array(rand() + (i % 3 === 0 ? 160 : 0));
      for (let j = 0; j < buf.length; j++) buf[j] = rand();
      if (buf.length > 1 && i % 2 === 0) {
        buf[0] = 0x80 | (buf[0] & 0x0f);
        buf[1] = i % 4 === 0 ? 99 : 0;
      }
      expect(() => results.add(jb.push(buf, i))).not.toThrow();
      if (i % 5 === 0) expect(() => jb.pop(i)).not.toThrow();
    }
    expect(results.has('malformed')).toBe(true);
    const s = jb.stats();
    expect(s.malformed + s.foreign + s.received).toBe(4000);
  });
});

describe('JitterBuffer re-anchors on a stream that jumped', () => {
  it('starts again on a packet beyond its capacity, with a fresh playout delay', () => {
    const jb = new JitterBuffer({ payloadType: 0, capacityFrames: 10, playoutDelayMs: 40 });
    jb.push(rtp(1, 160), 0);
    jb.push(rtp(2, 320), 20);
    expect(play(jb, 40, 2)).toEqual([1, 2]);
    expect(jb.push(rtp(30001, 5000), 60)).toBe('accepted');
    expect(jb.stats().resets).toBe(1);
    expect(jb.pop(80)).toBeNull(); // within the new delay, nothing consumed
    jb.push(rtp(30002, 5160), 80);
    expect(play(jb, 100, 2)).toEqual([30001 & 0xff, 30002 & 0xff]);
    expect(jb.stats().lost).toBe(0);
  });
});

describe('JitterBuffer recovers lost frames from RFC 2198 redundancy', () => {
  it('fills a lost frame from the next packet and counts it recovered', () => {
    const fills = (s: number): number => 0x40 + s;
    const jb = new JitterBuffer({ payloadType: 0, redPayloadType: 99 });
    expect(jb.push(redPacket(1, 160, [], fills), 0)).toBe('accepted');
    // Packet 2 is lost; packet 3 carries frames 1 and 2 (offsets 320 and 160).
    expect(jb.push(redPacket(3, 480, [2, 1], fills), 40)).toBe('accepted');
    expect(jb.push(redPacket(4, 640, [2, 1], fills), 60)).toBe('accepted');
    expect(play(jb, 60, 4)).toEqual([0x41, 0x42, 0x43, 0x44]);
    expect(jb.stats()).toMatchObject({ recovered: 1, lost: 0, received: 3 });
  });

  it('prefers the primary when it comes after the redundant copy', () => {
    const jb = new JitterBuffer({ payloadType: 0, redPayloadType: 99 });
    jb.push(
      redPacket(1, 160, [], () => 1),
      0,
    );
    jb.push(
      redPacket(3, 480, [1], (s) => (s === 2 ? 0x22 : 3)),
      20,
    ); // frame 2 from redundancy
    expect(jb.push(rtp(2, 320, { fill: 0x99 }), 30)).toBe('accepted'); // then its own packet
    expect(play(jb, 60, 3)).toEqual([1, 0x99, 3]);
    expect(jb.stats().recovered).toBe(0);
  });

  it('ignores redundant blocks that are not whole frames back or were already played', () => {
    const jb = new JitterBuffer({ payloadType: 0, redPayloadType: 99, playoutDelayMs: 0 });
    jb.push(rtp(1, 160), 0);
    expect(play(jb, 0, 2)).toEqual([1, null]); // frame 2 played as missing
    const blocks: RedBlock[] = [
      { payloadType: 0, timestampOffset: 80, data: new Uint8Array(160).fill(5) },
      { payloadType: 0, timestampOffset: 160, data: new Uint8Array(160).fill(2) },
    ];
    const primary = { payloadType: 0, data: new Uint8Array(160).fill(3) };
    const payload = new Uint8Array(redEncodedLength(blocks, primary));
    encodeRed(blocks, primary, payload);
    const pkt = Buffer.concat([Buffer.from(rtp(3, 480, { pt: 99, size: 0 })), payload]);
    expect(jb.push(pkt, 30)).toBe('accepted');
    expect(play(jb, 40, 1)).toEqual([3]);
    expect(jb.stats()).toMatchObject({ recovered: 0, lost: 1 });
  });
});

describe('JitterBuffer measures RFC 3550 interarrival jitter', () => {
  it('matches a hand-computed arrival pattern', () => {
    const jb = new JitterBuffer({ payloadType: 0 });
    // Timestamps 160 apart (20 ms at 8 kHz); arrivals at 0, 20, 45, 60 ms, i.e. 8 units per ms.
    // D(1,0) = 20×8 − 160 = 0        → J = 0
    // D(2,1) = 25×8 − 160 = 40       → J = 0 + (40 − 0)/16 = 2.5
    // D(3,2) = 15×8 − 160 = −40      → J = 2.5 + (40 − 2.5)/16 = 4.84375 units = 0.60546875 ms
    [0, 20, 45, 60].forEach((t, i) => jb.push(rtp(i, i * 160), t));
    expect(jb.stats().jitterMs).toBeCloseTo(0.60546875, 10);
  });

  it('leaves duplicates, late and foreign packets out of the jitter', () => {
    const jb = new JitterBuffer({ payloadType: 0 });
    jb.push(rtp(0, 0), 0);
    jb.push(rtp(0, 0), 15); // duplicate
    jb.push(rtp(1, 160, { pt: 8 }), 3); // foreign
    jb.push(rtp(1, 160), 20);
    expect(jb.stats().jitterMs).toBe(0);
  });
});

describe('JitterBuffer checks its options', () => {
  it('rejects bad values', () => {
    expect(() => new JitterBuffer({ payloadType: -1 })).toThrow(/payloadType/);
    expect(() => new JitterBuffer({ payloadType: 0, redPayloadType: 0 })).toThrow(/differ/);
    expect(() => new JitterBuffer({ payloadType: 0, capacityFrames: 1 })).toThrow(/capacityFrames/);
    expect(() => new JitterBuffer({ payloadType: 0, playoutDelayMs: -5 })).toThrow(/playoutDelayMs/);
  });
});
