import { LineImpairment, lossPattern, parseLineSpec, type PacketImpairment } from '../../lib/transports/impairments';
import { UdptlLine, UdptlLineError } from '../../lib/transports/t38/udptl-line';
import { rawSocket as rawUdpSocket, sendTo, until, useClosables } from '../helpers/udp';

const LOCAL = { host: '127.0.0.1', port: 0 };
const track = useClosables();
const line = (options: ConstructorParameters<typeof UdptlLine>[0]): UdptlLine => track(new UdptlLine(options));
const rawSocket = () => rawUdpSocket(track);

/** Everything `l` has queued, copied out. */
function drain(l: UdptlLine, nowMs = 0): number[][] {
  const got: number[][] = [];
  l.poll((d) => got.push(Array.from(d)), nowMs);
  return got;
}

/** A datagram that says which it is: its index as 16-bit big-endian, then a filler byte. */
function tagged(index: number): Uint8Array {
  return Uint8Array.of(index >> 8, index & 0xff, 0x5a);
}

/**
 * A UDPTL datagram carrying a CNG indicator, worked out from T.38 Annex A (aligned PER):
 *   seq-number 1, INTEGER (0..65535): two octets                          00 01
 *   primary-ifp-packet, an open type: length determinant 1, then the IFP:  01
 *     IFPPacket: data-field absent (optional bit 0), type-of-msg choice
 *     t30-indicator (index bit 0), extensible ENUMERATED in its root
 *     (extension bit 0), cng = 1 in 4 bits (16 root values) → 0000001, padded  02
 *   error-recovery: choice secondary-ifp-packets (index bit 0, padded to the
 *     octet before the length), SEQUENCE OF with 0 entries                 00 00
 */
const CNG_DATAGRAM = Uint8Array.of(0x00, 0x01, 0x01, 0x02, 0x00, 0x00);

describe('two UdptlLines over 127.0.0.1', () => {
  it('carry datagrams both ways, in order, the answering side latching the caller', async () => {
    const b = line({ local: LOCAL }); // no remote: latches the first source
    const bAddress = await b.bound();
    const a = line({ local: LOCAL, remote: bAddress });
    await a.ready();
    expect(a.localAddress?.port).toBeGreaterThan(0);
    for (let i = 0; i < 10; i++) a.send(tagged(i), i * 20);
    await b.ready();
    expect(b.remoteAddress).toEqual(a.localAddress);
    await until(() => b.stats().received === 10, 'ten datagrams at b');
    expect(drain(b)).toEqual(Array.from({ length: 10 }, (_, i) => Array.from(tagged(i))));
    expect(drain(b)).toEqual([]); // each datagram is handed over once
    for (let i = 0; i < 10; i++) b.send(tagged(100 + i), i * 20);
    await until(() => a.stats().received === 10, 'ten datagrams at a');
    expect(drain(a)).toEqual(Array.from({ length: 10 }, (_, i) => Array.from(tagged(100 + i))));
    expect(b.stats()).toEqual({
      kind: 'udptl',
      local: `127.0.0.1:${bAddress.port}`,
      remote: `127.0.0.1:${a.localAddress!.port}`,
      sent: 10,
      received: 10,
      foreign: 0,
      oversize: 0,
      empty: 0,
      overflow: 0,
      relatched: 0,
      sendErrors: 0,
      sendDropped: 0,
      sendOversize: 0,
      impairedLost: 0,
    });
    expect(a.kind).toBe('udptl');
    expect(a.ended).toBeNull();
    expect(b.ended).toBeNull();
  });

  it('put a UDPTL datagram on the wire byte for byte, and hand one over as it came', async () => {
    const raw = await rawSocket();
    const l = line({ local: LOCAL, remote: raw.address });
    await l.ready();
    l.send(CNG_DATAGRAM, 0);
    await until(() => raw.received.length === 1, 'the datagram');
    expect(Array.from(raw.received[0])).toEqual([0x00, 0x01, 0x01, 0x02, 0x00, 0x00]);
    await sendTo(raw.socket, CNG_DATAGRAM, await l.bound());
    await until(() => l.stats().received === 1, 'the reply');
    expect(drain(l)).toEqual([[0x00, 0x01, 0x01, 0x02, 0x00, 0x00]]);
  });
});

describe('latching the far end', () => {
  it('without a remote, waits for the first datagram and sends back to its source', async () => {
    const raw = await rawSocket();
    const l = line({ local: LOCAL });
    let ready = false;
    void l.ready().then(() => (ready = true));
    const address = await l.bound();
    expect(l.remoteAddress).toBeNull();
    l.send(tagged(0), 0); // nowhere to send yet
    expect(l.stats().sendDropped).toBe(1);
    expect(ready).toBe(false);
    await sendTo(raw.socket, tagged(1), address);
    await l.ready();
    expect(l.remoteAddress).toEqual(raw.address);
    l.send(tagged(2), 20);
    await until(() => raw.received.length === 1, 'the answer');
    expect(Array.from(raw.received[0])).toEqual(Array.from(tagged(2)));
  });

  it('counts datagrams from another source as foreign and drops them', async () => {
    const first = await rawSocket();
    const other = await rawSocket();
    const l = line({ local: LOCAL });
    const address = await l.bound();
    await sendTo(first.socket, tagged(1), address);
    await l.ready();
    await sendTo(other.socket, tagged(2), address);
    await sendTo(first.socket, tagged(3), address);
    await until(() => l.stats().received === 2 && l.stats().foreign === 1, 'two datagrams and a foreign one');
    expect(drain(l)).toEqual([Array.from(tagged(1)), Array.from(tagged(3))]);
    expect(l.remoteAddress).toEqual(first.address);
  });

  it('with a given remote, counts every other source as foreign', async () => {
    const peer = await rawSocket();
    const other = await rawSocket();
    const l = line({ local: LOCAL, remote: peer.address });
    await l.ready();
    await sendTo(other.socket, tagged(1), await l.bound());
    await sendTo(peer.socket, tagged(2), await l.bound());
    await until(() => l.stats().received === 1 && l.stats().foreign === 1, 'one datagram and a foreign one');
    expect(drain(l)).toEqual([Array.from(tagged(2))]);
  });

  it('symmetric: follows the latest source and sends there', async () => {
    const first = await rawSocket();
    const moved = await rawSocket();
    const l = line({ local: LOCAL, symmetric: true });
    const address = await l.bound();
    await sendTo(first.socket, tagged(1), address);
    await l.ready();
    expect(l.remoteAddress).toEqual(first.address);
    await sendTo(moved.socket, tagged(2), address);
    await until(() => l.stats().received === 2, 'the datagram from the new source');
    expect(l.remoteAddress).toEqual(moved.address);
    expect(l.stats()).toMatchObject({ relatched: 1, foreign: 0 });
    l.send(tagged(3), 0);
    await until(() => moved.received.length === 1, 'the datagram at the new source');
    expect(first.received).toHaveLength(0);
    expect(drain(l)).toEqual([Array.from(tagged(1)), Array.from(tagged(2))]);
  });
});

describe('what the line refuses', () => {
  it('drops oversize and empty datagrams, which neither latch nor count as received', async () => {
    const raw = await rawSocket();
    const l = line({ local: LOCAL, maxDatagramBytes: 10 });
    const address = await l.bound();
    await sendTo(raw.socket, new Uint8Array(11), address);
    await sendTo(raw.socket, new Uint8Array(0), address);
    await until(() => l.stats().oversize === 1 && l.stats().empty === 1, 'the refused datagrams');
    expect(l.remoteAddress).toBeNull();
    await sendTo(raw.socket, new Uint8Array(10).fill(7), address);
    await l.ready();
    expect(drain(l)).toEqual([Array(10).fill(7)]);
    l.send(new Uint8Array(11), 0); // too long to send as well
    expect(l.stats()).toMatchObject({ received: 1, oversize: 1, empty: 1, sendOversize: 1, sent: 0 });
  });

  it('refuses datagrams over 1500 octets by default', async () => {
    const raw = await rawSocket();
    const l = line({ local: LOCAL, remote: raw.address });
    await l.ready();
    const address = await l.bound();
    await sendTo(raw.socket, new Uint8Array(1501), address);
    await sendTo(raw.socket, new Uint8Array(1500), address);
    await until(() => l.stats().oversize === 1 && l.stats().received === 1, 'both datagrams');
    expect(drain(l)[0]).toHaveLength(1500);
  });

  it('keeps 256 datagrams between polls and counts the rest as overflow', async () => {
    const raw = await rawSocket();
    const l = line({ local: LOCAL, remote: raw.address });
    await l.ready();
    const address = await l.bound();
    // In batches, each awaited at the line, so that no kernel socket buffer overflows first.
    for (let batch = 0; batch < 3; batch++) {
      for (let i = batch * 100; i < (batch + 1) * 100; i++) await sendTo(raw.socket, tagged(i), address);
      const total = (batch + 1) * 100;
      await until(() => l.stats().received + l.stats().overflow === total, `${total} datagrams`);
    }
    expect(l.stats()).toMatchObject({ received: 256, overflow: 44 });
    const got = drain(l);
    expect(got).toHaveLength(256);
    expect(got[255]).toEqual(Array.from(tagged(255)));
  });
});

describe('the line simulator on what we send', () => {
  it('drops exactly the datagrams the loss pattern names for the seed', async () => {
    const raw = await rawSocket();
    const spec = parseLineSpec('loss=20%,seed=5');
    const l = line({ local: LOCAL, remote: raw.address, impairment: new LineImpairment(spec, 0) });
    await l.ready();
    const n = 100;
    const pattern = lossPattern(5, spec.loss, 0, n);
    const expected = Array.from(pattern.keys()).filter((i) => pattern[i] === 0);
    // In batches of 20, each awaited at the far end: the line's 64 send buffers are never all busy.
    for (let i = 0; i < n; i++) {
      l.send(tagged(i), i * 20);
      if (i % 20 === 19) {
        const due = expected.filter((index) => index <= i).length;
        await until(() => raw.received.length === due, `the datagrams up to ${i}`);
      }
    }
    expect(raw.received.map((d) => d.readUInt16BE(0))).toEqual(expected);
    expect(l.stats()).toMatchObject({ sent: expected.length, impairedLost: n - expected.length });
    expect(n - expected.length).toBeGreaterThan(5);
  });

  it('holds a delayed datagram until a later send or poll reaches its time', async () => {
    const raw = await rawSocket();
    let calls = 0;
    // The first datagram is due 100 ms after it is sent; the others go at once.
    const delayFirst: PacketImpairment = {
      processAudio: () => undefined,
      deliveries(nowMs, out) {
        out[0] = calls++ === 0 ? nowMs + 100 : nowMs;
        return 1;
      },
    };
    const l = line({ local: LOCAL, remote: raw.address, impairment: delayFirst });
    await l.ready();
    l.send(tagged(1), 0);
    l.send(tagged(2), 20);
    await until(() => raw.received.length === 1, 'the undelayed datagram');
    l.poll(() => undefined, 99);
    l.poll(() => undefined, 100);
    await until(() => raw.received.length === 2, 'the delayed datagram');
    expect(raw.received.map((d) => d.readUInt16BE(0))).toEqual([2, 1]);
  });
});

describe('how the line ends', () => {
  it("ends with 'silence' when nothing came for silenceTimeoutMs after the first datagram", async () => {
    const raw = await rawSocket();
    const l = line({ local: LOCAL, silenceTimeoutMs: 100 });
    expect(l.ended).toBeNull();
    await sendTo(raw.socket, tagged(1), await l.bound());
    await l.ready();
    await until(() => l.ended !== null, 'the silence end');
    expect(l.ended).toEqual({
      reason: 'silence',
      detail: `no UDPTL to or from 127.0.0.1:${raw.address.port} for 0.1 s`,
    });
  });

  it('stays up while only we send (a page going one way), and ends once both ways are quiet', async () => {
    const raw = await rawSocket();
    const l = line({ local: LOCAL, silenceTimeoutMs: 100 });
    await sendTo(raw.socket, tagged(1), await l.bound());
    await l.ready();
    // 400 ms of our own datagrams every 20 ms, four times the timeout, with nothing coming back.
    for (let i = 0; i < 20; i++) {
      l.send(tagged(100 + i), i * 20);
      l.poll(() => undefined, i * 20);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(l.ended).toBeNull();
    await until(() => l.ended !== null, 'the silence end');
    expect(l.ended?.reason).toBe('silence');
  });

  it("ends with 'error' and rejects ready() when the socket cannot bind", async () => {
    const first = line({ local: LOCAL });
    const taken = await first.bound();
    const l = line({ local: { host: '127.0.0.1', port: taken.port }, remote: { host: '127.0.0.1', port: 9 } });
    const error = await l.ready().then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(UdptlLineError);
    expect((error as UdptlLineError).code).toBe('ERR_FAXLINE_UDPTL_LINE');
    await expect(l.bound()).rejects.toBeInstanceOf(UdptlLineError);
    expect(l.ended?.reason).toBe('error');
    l.send(tagged(1), 0); // never throws
  });

  it('closes idempotently; ready() rejects when closed first; a closed line is inert', async () => {
    const l = line({ local: LOCAL });
    const closing = l.close();
    expect(l.close()).toBe(closing);
    await closing;
    await expect(l.ready()).rejects.toThrow(/closed before it was ready/);
    l.send(tagged(1), 0);
    expect(drain(l)).toEqual([]);
    expect(l.stats().sent).toBe(0);
  });
});

describe('options', () => {
  it('rejects what cannot work', () => {
    expect(() => new UdptlLine({ remote: { host: 'example.com', port: 5000 } })).toThrow(/IPv4/);
    expect(() => new UdptlLine({ remote: { host: '127.0.0.1', port: 0 } })).toThrow(/remote.port/);
    expect(() => new UdptlLine({ local: { host: '127.0.0.1', port: 70000 } })).toThrow(/local.port/);
    expect(() => new UdptlLine({ silenceTimeoutMs: 0 })).toThrow(/silenceTimeoutMs/);
    expect(() => new UdptlLine({ maxDatagramBytes: 0 })).toThrow(/maxDatagramBytes/);
    expect(() => new UdptlLine({ symmetric: 'yes' as unknown as boolean })).toThrow(/symmetric/);
    expect(() => new UdptlLine({ impairment: {} as PacketImpairment })).toThrow(/PacketImpairment/);
  });
});
