import { setTimeout as sleep } from 'node:timers/promises';
import { g711Decode, g711Encode, type G711Law } from '../../lib/transports/g711';
import { LineImpairment, parseLineSpec } from '../../lib/transports/impairments';
import { RtpLine } from '../../lib/transports/rtp/rtp-line';
import { rawSocket as rawUdpSocket, sendTo, until, useClosables } from '../helpers/udp';

const LOCAL = { host: '127.0.0.1', port: 0 };
const track = useClosables();
const line = (options: ConstructorParameters<typeof RtpLine>[0]): RtpLine => track(new RtpLine(options));
const rawSocket = () => rawUdpSocket(track);

/** A frame whose shape tells which it is: a sawtooth scaled by the index. */
function frame(index: number): Int16Array {
  const f = new Int16Array(160);
  for (let i = 0; i < 160; i++) f[i] = ((i * 97 + index * 31) % 200) * (50 + index) - 5000;
  return f;
}

/** What a frame becomes after G.711 coding and decoding. */
function roundTrip(law: G711Law, f: Int16Array): Int16Array {
  const coded = new Uint8Array(f.length);
  const out = new Int16Array(f.length);
  g711Encode(law, f, coded);
  g711Decode(law, coded, out);
  return out;
}

/** A hand-built RTP packet: V=2, PT, seq, ts, SSRC, then the payload. */
function rtp(pt: number, seq: number, ts: number, ssrc: number, payload: Uint8Array): Buffer {
  const buf = Buffer.alloc(12 + payload.length);
  buf[0] = 0x80;
  buf[1] = pt;
  buf.writeUInt16BE(seq, 2);
  buf.writeUInt32BE(ts, 4);
  buf.writeUInt32BE(ssrc, 8);
  buf.set(payload, 12);
  return buf;
}

describe.each<[G711Law]>([['pcmu'], ['pcma']])('two RtpLines exchange %s frames over 127.0.0.1', (codec) => {
  it('each side decodes exactly the G.711 round trip of what the other sent, in order', async () => {
    const frames = 20;
    const b = line({ local: LOCAL, codec, playoutDelayMs: 40 }); // latches its peer from the first packet
    const bAddress = await b.bound();
    const a = line({ local: LOCAL, remote: bAddress, codec, playoutDelayMs: 40 });
    await a.ready();
    expect(a.localAddress?.port).toBeGreaterThan(0);

    // A plain loop: A sends, and once B has latched A, B answers.
    for (let i = 0; i < frames; i++) {
      a.write(frame(i), i * 20);
      await sleep(2);
    }
    await b.ready();
    expect(b.remoteAddress).toEqual(a.localAddress);
    for (let i = 0; i < frames; i++) {
      b.write(frame(100 + i), i * 20);
      await sleep(2);
    }
    await until(() => b.stats().packetsReceived === frames && a.stats().packetsReceived === frames, 'all packets');
    await sleep(50); // past the 40 ms playout delay on each line's own clock

    const heard = new Int16Array(160);
    for (let i = 0; i < frames; i++) {
      expect(b.read(heard, i * 20)).toBe(true);
      expect(Array.from(heard)).toEqual(Array.from(roundTrip(codec, frame(i))));
      expect(a.read(heard, i * 20)).toBe(true);
      expect(Array.from(heard)).toEqual(Array.from(roundTrip(codec, frame(100 + i))));
    }
    // The next frame has not been sent: missing, for SpanDSP to fill in.
    expect(b.read(heard, frames * 20)).toBe(false);
    expect(b.stats()).toMatchObject({
      kind: 'rtp',
      codec,
      packetsSent: frames,
      packetsReceived: frames,
      late: 0,
      duplicate: 0,
      foreign: 0,
      malformed: 0,
      lost: 1,
      remote: `127.0.0.1:${a.localAddress!.port}`,
    });
    expect(a.stats().packetsSent).toBe(frames);
    expect(a.ended).toBeNull();
    expect(b.ended).toBeNull();
  });
});

describe('the RTP header on the wire', () => {
  it('has V=2, M=1 on the first packet only, the PT, seq +1 and ts +160, one SSRC (hand-checked)', async () => {
    const raw = await rawSocket();
    const l = line({ local: LOCAL, remote: raw.address, codec: 'pcmu' });
    await l.ready();
    const silence = new Int16Array(160);
    l.write(silence, 0);
    l.write(silence, 20);
    await until(() => raw.received.length === 2, 'two packets');
    const [p1, p2] = raw.received;
    expect(p1.length).toBe(12 + 160);
    expect(p1[0]).toBe(0x80); // V=2 (0b10), P=0, X=0, CC=0
    expect(p1[1]).toBe(0x80); // M=1, PT=0 (PCMU)
    expect(p2[1]).toBe(0x00); // M=0 after the first packet
    expect(p2.readUInt16BE(2)).toBe((p1.readUInt16BE(2) + 1) & 0xffff);
    expect(p2.readUInt32BE(4)).toBe((p1.readUInt32BE(4) + 160) >>> 0);
    expect(p2.readUInt32BE(8)).toBe(p1.readUInt32BE(8));
    // G.711 µ-law codes a zero sample as 0xff (code 0 for the top of the positive range, inverted).
    expect(p1.subarray(12).every((b) => b === 0xff)).toBe(true);
  });

  it('carries PT 8 and A-law code 0xd5 for silence with PCMA', async () => {
    const raw = await rawSocket();
    const l = line({ local: LOCAL, remote: raw.address, codec: 'pcma' });
    await l.ready();
    l.write(new Int16Array(160), 0);
    await until(() => raw.received.length === 1, 'one packet');
    expect(raw.received[0][1]).toBe(0x88); // M=1, PT=8
    // A-law: zero is segment 0, step 0, positive sign bit 1 → 0x80, then the even bits inverted (^ 0x55).
    expect(raw.received[0].subarray(12).every((b) => b === 0xd5)).toBe(true);
  });
});

describe('bad and foreign packets are counted, never a crash', () => {
  it('counts malformed bytes, other payload types, other SSRCs and other sources', async () => {
    const raw = await rawSocket();
    const stranger = await rawSocket();
    const l = line({ local: LOCAL, remote: raw.address, codec: 'pcmu' });
    const to = await l.bound();
    await l.ready();
    const payload = new Uint8Array(160).fill(0xff);
    await sendTo(raw.socket, Buffer.from([1, 2, 3]), to); // malformed: 3 bytes
    await sendTo(raw.socket, rtp(0, 1, 160, 7, payload).fill(0x40, 0, 1), to); // malformed: version 1
    await sendTo(raw.socket, rtp(101, 1, 160, 7, new Uint8Array(4)), to); // foreign: telephone-event
    await sendTo(raw.socket, rtp(13, 1, 160, 7, new Uint8Array(1)), to); // foreign: comfort noise
    await sendTo(raw.socket, rtp(0, 1, 160, 7, payload), to); // accepted: locks SSRC 7
    await sendTo(raw.socket, rtp(0, 2, 320, 8, payload), to); // foreign: SSRC 8
    await sendTo(stranger.socket, rtp(0, 2, 320, 7, payload), to); // foreign: another source
    await sendTo(raw.socket, rtp(0, 2, 320, 7, new Uint8Array(80)), to); // malformed: 80 bytes
    await until(() => {
      const s = l.stats();
      return (s.malformed as number) + (s.foreign as number) + (s.packetsReceived as number) === 8;
    }, 'eight packets counted');
    expect(l.stats()).toMatchObject({ malformed: 3, foreign: 4, packetsReceived: 1 });
    expect(l.ended).toBeNull();
  });

  it('latches the first valid source when no remote is given, and re-latches only when symmetric', async () => {
    const first = await rawSocket();
    const second = await rawSocket();
    const payload = new Uint8Array(160).fill(0xff);
    const fixed = line({ local: LOCAL });
    const sym = line({ local: LOCAL, symmetric: true });
    for (const [l, n] of [
      [fixed, 0],
      [sym, 1],
    ] as const) {
      const to = await l.bound();
      await sendTo(first.socket, Buffer.from([0x80]), to); // malformed: no latch
      await sendTo(first.socket, rtp(0, 10, 1600, 5, payload), to);
      await l.ready();
      expect(l.remoteAddress).toEqual(first.address);
      await sendTo(second.socket, rtp(0, 11, 1760, 5, payload), to);
      await until(() => (l.stats().packetsReceived as number) + (l.stats().foreign as number) === 2, 'two packets');
      expect(l.stats().foreign).toBe(1 - n);
      expect(l.remoteAddress).toEqual(n ? second.address : first.address);
      l.write(new Int16Array(160), 0);
    }
    await until(() => first.received.length === 1 && second.received.length === 1, 'the answers');
  });
});

describe('a line that ends on its own side', () => {
  it('ends with reason silence when the peer stops sending', async () => {
    const raw = await rawSocket();
    const l = line({ local: LOCAL, remote: raw.address, silenceTimeoutMs: 200 });
    const to = await l.bound();
    await sleep(300);
    expect(l.ended).toBeNull(); // silence counts only after the first packet
    await sendTo(raw.socket, rtp(0, 1, 160, 9, new Uint8Array(160)), to);
    await until(() => l.ended !== null, 'the silence');
    expect(l.ended).toEqual({ reason: 'silence', detail: `no RTP from 127.0.0.1:${raw.address.port} for 0.2 s` });
  });

  it('ends with reason error when the socket fails, and ready() rejects', async () => {
    const taken = await rawSocket();
    const l = line({ local: taken.address, remote: { host: '127.0.0.1', port: 9 } });
    await expect(l.ready()).rejects.toMatchObject({ code: 'ERR_FAXLINE_RTP_LINE' });
    expect(l.ended?.reason).toBe('error');
    expect(l.ended?.detail).toMatch(/EADDRINUSE/);
    l.write(new Int16Array(160), 0); // never throws after the error
    expect(l.read(new Int16Array(160), 0)).toBe(false);
  });

  it('rejects bad options', () => {
    expect(() => new RtpLine({ remote: { host: 'example.org', port: 5 } })).toThrow(/IPv4/);
    expect(() => new RtpLine({ remote: { host: '127.0.0.1', port: 0 } })).toThrow(/port/);
    expect(() => new RtpLine({ codec: 'g722' as G711Law })).toThrow(/codec/);
    expect(() => new RtpLine({ silenceTimeoutMs: 0 })).toThrow(/silenceTimeoutMs/);
  });
});

describe('the line simulator on our sending side', () => {
  it('loses, duplicates and delays packets as the impairment says, flushing the held ones', async () => {
    const impairment = new LineImpairment(parseLineSpec('loss=20%,dup=20%,jitter=60ms,seed=11'), 0);
    const b = line({ local: LOCAL, playoutDelayMs: 0 });
    const a = line({ local: LOCAL, remote: await b.bound(), impairment });
    await a.ready();
    const frames = 40;
    for (let i = 0; i < frames; i++) a.write(frame(i), i * 20);
    await a.close(); // sends what is still held back
    const imp = impairment.stats();
    impairment.close();
    expect(imp.packets).toBe(frames);
    expect(imp.lost).toBeGreaterThan(0);
    expect(imp.duplicated).toBeGreaterThan(0);
    const delivered = frames - imp.lost + imp.duplicated;
    expect(a.stats().packetsSent).toBe(delivered);
    await until(() => b.stats().packetsReceived === delivered, 'every delivered copy');
    expect(b.stats()).toMatchObject({ duplicate: imp.duplicated, late: 0 });
    const heard = new Int16Array(160);
    let played = 0;
    for (let i = 0; i < frames; i++) if (b.read(heard, i * 20)) played++;
    // Every frame that was not lost plays exactly once; the lost ones are missing frames.
    expect(played).toBe(frames - imp.lost);
  });
});
