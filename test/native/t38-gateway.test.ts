import * as path from 'node:path';
import { ResultCode } from '../../lib';
import { native, type NativePage } from '../../lib/native';
import { tempDir, textPage } from '../helpers/pages';
import { expectNativeError } from '../helpers/native-errors';

const FRAME = native.constants.SAMPLES_PER_FRAME;
const MAX_DATAGRAM = native.constants.UDPTL_MAX_DATAGRAM;
const MAX_TICKS = 30_000;

const dir = tempDir();
afterAll(() => dir.cleanup());
const pages: NativePage[] = [4, 5, 6].map((seed) => textPage(seed, { height: 240 }));
const document = path.join(dir.dir, 'document.tif');
beforeAll(() => native.writeTiffF(document, pages, 't4-2d'));

describe('native.T38Gateway', () => {
  test('relays an audio sender to a T.38 receiver, pages bit for bit', () => {
    const sender = new native.FaxSession({ direction: 'send', txFile: document });
    const file = path.join(dir.dir, 'received.tif');
    const receiver = new native.FaxSession({ direction: 'receive', rxFile: file, t38: {} as never });
    const gateway = new native.T38Gateway({ ecm: true });
    const audio = sender.frameBuffers();
    const leg = gateway.frameBuffers();
    const gatewayPort = gateway.datagramBuffers();
    const receiverPort = receiver.datagramBuffers();
    const frames: { from: string; name: string }[] = [];
    for (let tick = 0; tick < MAX_TICKS && !(sender.finished() && receiver.finished()); tick++) {
      audio.received.set(leg.transmit);
      audio.process();
      leg.received.set(audio.transmit);
      if (leg.process() > 0) frames.push(...gateway.takeEvents());
      // The gateway's datagrams: made as its audio advanced, taken once per frame.
      for (let i = 0, n = gatewayPort.take(); i < n; i++) {
        const at = i * MAX_DATAGRAM;
        receiverPort.inbound.set(gatewayPort.outbox.subarray(at, at + gatewayPort.lengths[i]!));
        receiverPort.receive(gatewayPort.lengths[i]!);
      }
      // tick() returns the datagram count plus 65536 per pending event.
      for (let i = 0, n = receiverPort.tick(FRAME) & 0xffff; i < n; i++) {
        const at = i * MAX_DATAGRAM;
        gatewayPort.inbound.set(receiverPort.outbox.subarray(at, at + receiverPort.lengths[i]!));
        gatewayPort.receive(receiverPort.lengths[i]!);
      }
    }
    expect(sender.result()).toMatchObject({ code: ResultCode.OK, pages: 3 });
    expect(receiver.result()).toMatchObject({ code: ResultCode.OK, pages: 3 });
    const got = native.readTiff(file);
    expect(got).toHaveLength(3);
    got.forEach((p, i) => expect(Buffer.from(p.data).equals(Buffer.from(pages[i]!.data))).toBe(true));

    expect(gateway.stats()).toEqual({ bitRate: 14400, ecm: true, pagesTransferred: 3 });
    const udptl = gateway.udptlStats();
    expect(udptl.sent).toBeGreaterThan(0);
    expect(udptl.received).toBeGreaterThan(0);
    expect(udptl.malformed).toBe(0);
    expect(gateway.elapsedMs()).toBe(sender.elapsedMs());
    // The receiver, on the T.38 leg, sends DIS and MCF; the sender, on the audio leg, DCS.
    expect(frames).toContainEqual(expect.objectContaining({ from: 't38', name: 'DIS' }));
    expect(frames).toContainEqual(expect.objectContaining({ from: 't38', name: 'MCF' }));
    expect(frames).toContainEqual(expect.objectContaining({ from: 'audio', name: 'DCS' }));
    expect(frames.filter((f) => f.name === 'DIS').every((f) => f.from === 't38')).toBe(true);
    sender.close();
    receiver.close();
    gateway.close();
  });

  test('counts malformed datagrams on its T.38 leg', () => {
    const gateway = new native.T38Gateway();
    const port = gateway.datagramBuffers();
    port.inbound.set([0x00, 0x00, 0x09, 0x01]);
    expect(port.receive(4)).toBe(0);
    expect(gateway.udptlStats().malformed).toBe(1);
    expect(port.take()).toBe(0);
    gateway.close();
  });

  test.each([
    ['a number for options', [7], 'TypeError', /Expected an object for options but got number/],
    ['T.38 version 5', [{ t38: { version: 5 } }], 'RangeError', /options\.t38\.version/],
    ['no modems', [{ modems: 0 }], 'RangeError', /modems must be a non-empty set/],
    ['a string for ecm', [{ ecm: 'on' }], 'TypeError', /options\.ecm/],
    ['V.17 alone at 4800', [{ modems: 4, t38: { maxBitRate: 4800 } }], 'RangeError', /none of the allowed modems/],
  ] as const)('the constructor throws for %s', (_name, args, type, message) => {
    expectNativeError(
      () => new (native.T38Gateway as unknown as new (...a: unknown[]) => unknown)(...args),
      type,
      message,
    );
  });

  test('throws when called without new, and on a forged this', () => {
    expectNativeError(() => (native.T38Gateway as unknown as () => unknown)(), 'TypeError', /new/);
    const gateway = new native.T38Gateway();
    expectNativeError(() => gateway.stats.call({}), 'TypeError', /Illegal invocation/);
    gateway.close();
  });

  test('every call throws after close, which is idempotent', () => {
    const gateway = new native.T38Gateway();
    const leg = gateway.frameBuffers();
    const port = gateway.datagramBuffers();
    expect(leg.process()).toBe(0);
    gateway.close();
    gateway.close();
    expect(gateway.closed()).toBe(true);
    expectNativeError(() => leg.process(), 'Error', /The T\.38 gateway is closed/);
    expectNativeError(() => leg.processLost(), 'Error', /closed/);
    expectNativeError(() => port.take(), 'Error', /closed/);
    expectNativeError(() => port.receive(0), 'Error', /closed/);
    expectNativeError(() => port.pendingEvents(), 'Error', /closed/);
    expectNativeError(() => gateway.stats(), 'Error', /closed/);
    expectNativeError(() => gateway.takeEvents(), 'Error', /closed/);
    expectNativeError(() => gateway.datagramBuffers(), 'Error', /closed/);
  });

  test('checks the datagram length', () => {
    const gateway = new native.T38Gateway();
    const port = gateway.datagramBuffers();
    expectNativeError(() => port.receive(MAX_DATAGRAM + 1), 'RangeError', /from 0 to 1500/);
    expectNativeError(() => (port.receive as (v: unknown) => number)(null), 'TypeError', /Expected a number/);
    gateway.close();
  });
});
