import * as path from 'node:path';
import { ResultCode } from '../../lib';
import { native, type NativeDatagramPort, type NativeFaxSession, type NativePage } from '../../lib/native';
import { tempDir, textPage } from '../helpers/pages';
import { expectNativeError } from '../helpers/native-errors';

const FRAME = native.constants.SAMPLES_PER_FRAME;
const MAX_DATAGRAM = native.constants.UDPTL_MAX_DATAGRAM;
/** Ten minutes of 20 ms ticks: far more than any call here needs. */
const MAX_TICKS = 30_000;

const dir = tempDir();
afterAll(() => dir.cleanup());

/** Three short pages, so the calls are quick. */
const pages: NativePage[] = [1, 2, 3].map((seed) => textPage(seed, { height: 260 }));
const document = path.join(dir.dir, 'document.tif');
beforeAll(() => native.writeTiffF(document, pages, 't4-2d'));

let received = 0;
function sender(extra: object = {}): NativeFaxSession {
  return new native.FaxSession({ direction: 'send', txFile: document, identity: '+1 555 0100', ...extra });
}
function receiver(extra: object = {}): { session: NativeFaxSession; file: string } {
  const file = path.join(dir.dir, `received-${++received}.tif`);
  return { session: new native.FaxSession({ direction: 'receive', rxFile: file, ...extra }), file };
}

/** Hands every datagram of `from`'s outbox to `to`; `ticked` is what tick() returned. */
function carry(from: NativeDatagramPort, ticked: number, to: NativeDatagramPort): void {
  // tick() returns the datagram count plus 65536 per pending event.
  for (let i = 0; i < (ticked & 0xffff); i++) {
    const start = i * MAX_DATAGRAM;
    to.inbound.set(from.outbox.subarray(start, start + from.lengths[i]!));
    to.receive(from.lengths[i]!);
  }
}

/** Ticks two T.38 sessions every 20 ms until both finish (bounded). */
function runT38(a: NativeFaxSession, b: NativeFaxSession): number {
  const pa = a.datagramBuffers();
  const pb = b.datagramBuffers();
  let ticks = 0;
  while (!(a.finished() && b.finished()) && ticks < MAX_TICKS) {
    carry(pa, pa.tick(FRAME), pb);
    carry(pb, pb.tick(FRAME), pa);
    ticks++;
  }
  return ticks;
}

function expectSamePages(file: string): void {
  const got = native.readTiff(file);
  expect(got.map((p) => [p.width, p.height])).toEqual(pages.map((p) => [p.width, p.height]));
  got.forEach((p, i) => expect(Buffer.from(p.data).equals(Buffer.from(pages[i]!.data))).toBe(true));
}

describe('a T.38 FaxSession', () => {
  test('is made with the t38 option and reports its medium', () => {
    const s = sender({ t38: {} });
    expect(s.medium()).toBe('t38');
    expect(s.udptlStats()).toEqual({
      sent: 0,
      received: 0,
      delivered: 0,
      recoveredByRedundancy: 0,
      recoveredByFec: 0,
      lost: 0,
      duplicates: 0,
      late: 0,
      malformed: 0,
      outboxOverflows: 0,
    });
    s.close();
    const audio = sender();
    expect(audio.medium()).toBe('audio');
    expect(audio.udptlStats()).toBeNull();
    audio.close();
  });

  test('gives the same datagram buffers every time, sized by the UDPTL limits', () => {
    const s = sender({ t38: {} });
    const port = s.datagramBuffers();
    expect(s.datagramBuffers()).toBe(port);
    expect(port.inbound.length).toBe(MAX_DATAGRAM);
    expect(port.outbox.length).toBe(port.lengths.length * MAX_DATAGRAM);
    expect(port.lengths.length).toBeGreaterThanOrEqual(16);
    s.close();
  });

  test('sends its first datagram as T.38 Annex A frames it, worked by hand', () => {
    // The calling terminal starts with the no-signal indicator. IFPPacket: data-field absent
    // (0), type-of-msg t30-indicator (0), extension bit (0), no-signal = 0 in 4 bits, pad: 0x00.
    // UDPTLPacket: seq-number 0 (00 00), the IFP as an open type (length 01, then 00), the
    // error-recovery choice secondary-ifp-packets (a 0 bit padded: 00) with none (count 00).
    const s = sender({ t38: {} });
    const port = s.datagramBuffers();
    const ticked = port.tick(FRAME);
    expect(ticked & 0xffff).toBeGreaterThanOrEqual(1);
    expect(Array.from(port.outbox.subarray(0, port.lengths[0]))).toEqual([0x00, 0x00, 0x01, 0x00, 0x00, 0x00]);
    s.close();
  });

  test('carries a 3-page fax between two sessions, pages bit for bit', () => {
    const a = sender({ t38: { redundancy: 3 } });
    const { session: b, file } = receiver({ t38: { redundancy: 3 } });
    runT38(a, b);
    expect(a.result()).toMatchObject({ code: ResultCode.OK, success: true, pages: 3 });
    expect(b.result()).toMatchObject({ code: ResultCode.OK, success: true, pages: 3 });
    const events = b.takeEvents();
    expect(events.filter((e) => e.type === 'page').map((e) => (e as { page: number }).page)).toEqual([1, 2, 3]);
    expect(events.at(-1)?.type).toBe('finished');
    expect(a.udptlStats()!.sent).toBeGreaterThan(0);
    expect(b.udptlStats()!.received).toBeGreaterThan(0);
    expectSamePages(file);
    a.close();
    b.close();
  });

  test('counts a malformed datagram and keeps going', () => {
    const { session } = receiver({ t38: {} });
    const port = session.datagramBuffers();
    port.inbound.set([0xff, 0xff, 0xff]);
    expect(port.receive(3)).toBe(0);
    expect(port.receive(0)).toBe(0);
    expect(session.udptlStats()!.malformed).toBe(2);
    expect(session.finished()).toBe(false);
    session.close();
  });
});

describe('switchToT38', () => {
  test('moves both ends of an audio call to T.38 before phase B, and the fax succeeds', () => {
    const a = sender();
    const { session: b, file } = receiver();
    const fa = a.frameBuffers();
    const fb = b.frameBuffers();
    // One second of audio: CNG and CED, long before DIS.
    for (let i = 0; i < 50; i++) {
      fa.received.set(fb.transmit);
      fa.process();
      fb.received.set(fa.transmit);
      fb.process();
    }
    expect(a.takeEvents().some((e) => e.type === 'negotiated')).toBe(false);
    a.switchToT38({} as never);
    b.switchToT38({} as never);
    expect(a.medium()).toBe('t38');
    // The session clock carries on.
    expect(a.elapsedMs()).toBe(1000);
    expectNativeError(() => fa.process(), 'Error', /in T\.38 mode/);
    expectNativeError(() => a.process(null, new Int16Array(FRAME)), 'Error', /in T\.38 mode/);
    runT38(a, b);
    expect(a.result()).toMatchObject({ code: ResultCode.OK, pages: 3 });
    expect(b.result()).toMatchObject({ code: ResultCode.OK, pages: 3 });
    expect(a.elapsedMs()).toBeGreaterThan(1000);
    expectSamePages(file);
    a.close();
    b.close();
  });

  test('keeps the events not yet taken', () => {
    const a = sender();
    const { session: b } = receiver();
    const fa = a.frameBuffers();
    const fb = b.frameBuffers();
    // Run the audio call until the receiver has traced a frame (its DIS), then switch it with
    // the events still queued: they come out of takeEvents after the switch.
    let pending = 0;
    for (let i = 0; i < 1000 && pending === 0; i++) {
      fa.received.set(fb.transmit);
      fa.process();
      fb.received.set(fa.transmit);
      pending = fb.process();
    }
    expect(pending).toBeGreaterThan(0);
    b.switchToT38({} as never);
    expect(b.datagramBuffers().pendingEvents()).toBe(pending);
    const events = b.takeEvents();
    expect(events.length).toBe(pending);
    expect(events.some((e) => e.type === 'frame' && e.name === 'DIS')).toBe(true);
    a.close();
    b.close();
  });

  test('refuses a T.38 session, a finished one, and bad settings', () => {
    const t = sender({ t38: {} });
    expectNativeError(() => t.switchToT38({} as never), 'Error', /already in T\.38 mode/);
    t.close();
    const a = sender();
    expectNativeError(
      () => a.switchToT38(5 as never),
      'TypeError',
      /Expected an object for the T\.38 settings but got number/,
    );
    expectNativeError(() => a.switchToT38({ version: 9 } as never), 'RangeError', /version/);
    expect(a.medium()).toBe('audio');
    a.hangUp();
    expectNativeError(() => a.switchToT38({} as never), 'Error', /has finished/);
    a.close();
    expectNativeError(() => a.switchToT38({} as never), 'Error', /closed/);
  });
});

describe('T.38 argument checks', () => {
  test.each([
    ['a number for t38', 5, 'TypeError', /Expected an object for options\.t38 but got number/],
    ['version 4', { version: 4 }, 'RangeError', /options\.t38\.version must be an integer from 0 to 3/],
    ['9601 bit/s', { maxBitRate: 9601 }, 'RangeError', /maximum bit rate must be 2400/],
    ['rate management 3', { rateManagement: 3 }, 'RangeError', /rateManagement/],
    ['error correction 3', { errorCorrection: 3 }, 'RangeError', /errorCorrection/],
    ['redundancy 8', { redundancy: 8 }, 'RangeError', /redundancy/],
    ['a datagram of 31', { maxDatagram: 31 }, 'RangeError', /maxDatagram/],
    ['a string for fill bit removal', { fillBitRemoval: 'yes' }, 'TypeError', /options\.t38\.fillBitRemoval/],
    ['a fractional buffer', { maxBuffer: 2000.5 }, 'RangeError', /maxBuffer must be an integer from 64/],
    ['V.17 alone at 9600', { maxBitRate: 9600 }, 'RangeError', /none of the allowed modems/],
  ] as const)('the constructor throws for %s', (name, t38, type, message) => {
    const extra = name === 'V.17 alone at 9600' ? { modems: native.constants.T30_SUPPORT_V17 } : {};
    expectNativeError(() => sender({ t38, ...extra }), type, message);
  });

  test('audio calls throw on a T.38 session', () => {
    const s = sender({ t38: {} });
    expectNativeError(() => s.frameBuffers(), 'Error', /in T\.38 mode/);
    expectNativeError(() => s.process(null, new Int16Array(FRAME)), 'Error', /in T\.38 mode/);
    expectNativeError(() => s.receive(new Int16Array(FRAME)), 'Error', /in T\.38 mode/);
    expectNativeError(() => s.receiveMissing(FRAME), 'Error', /in T\.38 mode/);
    expectNativeError(() => s.transmit(new Int16Array(FRAME)), 'Error', /in T\.38 mode/);
    s.close();
  });

  test('datagram calls throw on an audio session', () => {
    const s = sender();
    expectNativeError(() => s.datagramBuffers(), 'Error', /in audio mode/);
    s.close();
  });

  test('receive and tick check their numbers', () => {
    const s = sender({ t38: {} });
    const port = s.datagramBuffers();
    expectNativeError(() => port.receive(-1), 'RangeError', /datagram length must be an integer from 0 to 1500/);
    expectNativeError(() => port.receive(MAX_DATAGRAM + 1), 'RangeError', /from 0 to 1500/);
    expectNativeError(() => port.receive(1.5), 'RangeError', /integer/);
    expectNativeError(() => (port.receive as (v: unknown) => number)('1'), 'TypeError', /Expected a number/);
    expectNativeError(() => port.tick(0), 'RangeError', /tick's samples must be an integer from 1 to 80000/);
    expectNativeError(() => port.tick(80_001), 'RangeError', /from 1 to 80000/);
    expectNativeError(() => (port.tick as (v: unknown) => number)(undefined), 'TypeError', /Expected a number/);
    s.close();
  });

  test('every call throws after close, the bound functions too', () => {
    const s = sender({ t38: {} });
    const port = s.datagramBuffers();
    s.close();
    s.close();
    expectNativeError(() => port.tick(FRAME), 'Error', /The fax session is closed/);
    expectNativeError(() => port.receive(0), 'Error', /The fax session is closed/);
    expectNativeError(() => port.pendingEvents(), 'Error', /The fax session is closed/);
    expectNativeError(() => s.datagramBuffers(), 'Error', /The fax session is closed/);
    expectNativeError(() => s.medium(), 'Error', /The fax session is closed/);
    expectNativeError(() => s.udptlStats(), 'Error', /The fax session is closed/);
    expect(s.closed()).toBe(true);
  });

  test('a forged this throws a TypeError', () => {
    const s = sender({ t38: {} });
    expectNativeError(() => s.medium.call({}), 'TypeError', /Illegal invocation/);
    expectNativeError(() => s.switchToT38.call({}, {} as never), 'TypeError', /Illegal invocation/);
    s.close();
  });
});
