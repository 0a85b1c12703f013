/**
 * Holds lib/native.ts's declared shapes against what the addon really returns. Each table
 * below mirrors one interface of lib/native.ts, written by reading it: every key and the kind
 * of its value. A key the addon adds or drops, or a value of another kind, fails here; when
 * native.ts changes, its table here changes with it.
 */
import * as path from 'node:path';
import { native, type NativeFaxSession, type NativePage } from '../../lib/native';
import { tempDir, textPage } from '../helpers/pages';

/** A value's kind: typeof, refined for null, arrays, Buffers and typed arrays (by name). */
type Kind =
  | 'number'
  | 'string'
  | 'boolean'
  | 'function'
  | 'object'
  | 'undefined'
  | 'null'
  | 'array'
  | 'Buffer'
  | 'Uint8Array'
  | 'Uint16Array'
  | 'Int16Array'
  | 'Uint32Array'
  | 'Float64Array';

/** A table: each key of a declared interface and the kind of its value. */
type Shape = Record<string, Kind>;

function kindOf(value: unknown): Kind {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (Buffer.isBuffer(value)) return 'Buffer';
  // By tag, not instanceof: the addon's values may come from another realm than jest's.
  if (ArrayBuffer.isView(value)) return Object.prototype.toString.call(value).slice(8, -1) as Kind;
  return typeof value as Kind;
}

/** The shape of `value` as the addon made it: its own keys and their kinds. */
function shapeOf(value: unknown): Shape {
  expect(kindOf(value)).toBe('object');
  const o = value as Record<string, unknown>;
  return Object.fromEntries(
    Object.keys(o)
      .sort()
      .map((k) => [k, kindOf(o[k])]),
  );
}

/**
 * Expects `value` to have exactly the keys of `declared`, each of its kind. A declared
 * Uint8Array is satisfied by a Buffer, which is one (TypeScript accepts it too).
 */
function expectShape(value: unknown, declared: Shape): void {
  const actual = shapeOf(value);
  const expected = Object.fromEntries(
    Object.keys(declared)
      .sort()
      .map((k) => [k, declared[k] === 'Uint8Array' && actual[k] === 'Buffer' ? 'Buffer' : declared[k]]),
  );
  expect(actual).toEqual(expected);
}

/** The methods on a class's prototype, sorted. */
function methodsOf(constructor: unknown): string[] {
  const prototype = (constructor as { prototype: object }).prototype;
  return Object.getOwnPropertyNames(prototype)
    .filter((k) => k !== 'constructor')
    .sort();
}

// --- The tables: one per interface of lib/native.ts -------------------------------------

/** NativeAddon. */
const ADDON: Shape = {
  T38Gateway: 'function',
  Udptl: 'function',
  FaxSession: 'function',
  SessionGroup: 'function',
  completionCodes: 'function',
  writeTiffF: 'function',
  readTiff: 'function',
  checkTiff: 'function',
  checkTiffAsync: 'function',
  grayToBilevel: 'function',
  TiffFWriter: 'function',
  g711Encode: 'function',
  g711Decode: 'function',
  NoiseGenerator: 'function',
  constants: 'object',
  spandspRelease: 'string',
};

/** The keys of NativeAddon['constants'], each a number. */
const CONSTANTS = [
  'T30_ERR_OK',
  'T30_ERR_T0_EXPIRED',
  'T30_ERR_T1_EXPIRED',
  'T30_ERR_FILEERROR',
  'T30_ERR_NOPAGE',
  'T30_ERR_BADTIFF',
  'T30_ERR_BADPAGE',
  'T30_ERR_BADTAG',
  'T30_ERR_BADTIFFHDR',
  'T30_ERR_CALLDROPPED',
  'T30_SUPPORT_V27TER',
  'T30_SUPPORT_V29',
  'T30_SUPPORT_V17',
  'T30_SUPPORT_T4_1D_COMPRESSION',
  'T30_SUPPORT_T4_2D_COMPRESSION',
  'T30_SUPPORT_T6_COMPRESSION',
  'T4_COMPRESSION_ITU_T4_1D',
  'T4_COMPRESSION_ITU_T4_2D',
  'T4_COMPRESSION_ITU_T6',
  'T4_Y_RESOLUTION_STANDARD',
  'T4_Y_RESOLUTION_FINE',
  'T4_Y_RESOLUTION_SUPERFINE',
  'MAX_IDENTITY_LENGTH',
  'MAX_HEADER_INFO_LENGTH',
  'SAMPLE_RATE',
  'SAMPLES_PER_FRAME',
  'UDPTL_MAX_DATAGRAM',
  'UDPTL_MIN_MAX_DATAGRAM',
  'UDPTL_MAX_IFP',
  'UDPTL_MAX_REDUNDANCY',
  'UDPTL_MAX_FEC_SPAN',
  'UDPTL_MAX_FEC_ENTRIES',
];

/** The methods of NativeFaxSession. */
const FAX_SESSION_METHODS = [
  'medium',
  'datagramBuffers',
  'switchToT38',
  'udptlStats',
  'process',
  'frameBuffers',
  'receive',
  'receiveMissing',
  'transmit',
  'takeEvents',
  'hangUp',
  'close',
  'closed',
  'finished',
  'result',
  'elapsedMs',
];

/** The methods of NativeT38Gateway, NativeUdptl, NativeTiffFWriter and NativeNoiseGenerator. */
const T38_GATEWAY_METHODS = [
  'frameBuffers',
  'datagramBuffers',
  'takeEvents',
  'stats',
  'udptlStats',
  'elapsedMs',
  'close',
  'closed',
];
const UDPTL_METHODS = ['encode', 'decode', 'stats', 'nextSequence', 'setNextSequence', 'setMaxDatagram', 'close'];
const TIFF_F_WRITER_METHODS = ['addPage', 'close', 'pagesWritten'];
const SESSION_GROUP_METHODS = ['add', 'remove', 'buffers', 'deliver', 'tick', 'size', 'close'];
/** NativeGroupBuffers. */
const GROUP_BUFFERS: Shape = {
  capacity: 'number',
  samplesPerFrame: 'number',
  datagramStride: 'number',
  received: 'Int16Array',
  transmit: 'Int16Array',
  heard: 'Uint8Array',
  inbound: 'Uint8Array',
  inboundSlots: 'Uint32Array',
  inboundLengths: 'Uint16Array',
  outbox: 'Uint8Array',
  outboxSlots: 'Uint32Array',
  outboxLengths: 'Uint16Array',
  eventSlots: 'Uint32Array',
  counts: 'Float64Array',
};
const NOISE_GENERATOR_METHODS = ['add', 'close'];

/** NativeStats: FaxStats (lib/engine/result.ts) without `resolution`. */
const STATS: Shape = {
  bitRate: 'number',
  ecm: 'boolean',
  pagesTransferred: 'number',
  pagesInFile: 'number',
  xResolution: 'number',
  yResolution: 'number',
  width: 'number',
  length: 'number',
  imageSize: 'number',
  compression: 'string',
  encoding: 'number',
  badRows: 'number',
  longestBadRowRun: 'number',
  ecmRetries: 'number',
  remoteIdentity: 'string',
  remoteCountry: 'string',
  remoteVendor: 'string',
  remoteModel: 'string',
};

/** NativeResult. */
const RESULT: Shape = {
  code: 'number',
  text: 'string',
  success: 'boolean',
  pages: 'number',
  detail: 'string',
  stats: 'object',
};

/** NativeEvent, by type. */
const EVENTS: Record<string, Shape> = {
  negotiated: { type: 'string', timeMs: 'number', stats: 'object' },
  page: { type: 'string', timeMs: 'number', page: 'number', stats: 'object' },
  finished: { type: 'string', timeMs: 'number', code: 'number', text: 'string', pages: 'number', stats: 'object' },
  frame: { type: 'string', timeMs: 'number', direction: 'string', name: 'string', bytes: 'Buffer' },
};

/** NativeFrameLine. */
const FRAME_LINE: Shape = {
  received: 'Int16Array',
  transmit: 'Int16Array',
  process: 'function',
  processLost: 'function',
};

/** NativeDatagramPort. */
const DATAGRAM_PORT: Shape = {
  inbound: 'Uint8Array',
  outbox: 'Uint8Array',
  lengths: 'Uint16Array',
  receive: 'function',
  tick: 'function',
  pendingEvents: 'function',
};

/** NativeGatewayDatagramPort. */
const GATEWAY_DATAGRAM_PORT: Shape = {
  inbound: 'Uint8Array',
  outbox: 'Uint8Array',
  lengths: 'Uint16Array',
  receive: 'function',
  take: 'function',
  pendingEvents: 'function',
};

/** NativeGatewayFrame. */
const GATEWAY_FRAME: Shape = {
  type: 'string',
  timeMs: 'number',
  from: 'string',
  name: 'string',
  bytes: 'Buffer',
};

/** NativeT38Gateway['stats'] return value. */
const GATEWAY_STATS: Shape = { bitRate: 'number', ecm: 'boolean', pagesTransferred: 'number' };

/** NativeUdptlStats. */
const UDPTL_STATS: Shape = {
  sent: 'number',
  received: 'number',
  delivered: 'number',
  recoveredByRedundancy: 'number',
  recoveredByFec: 'number',
  lost: 'number',
  duplicates: 'number',
  late: 'number',
  malformed: 'number',
  outboxOverflows: 'number',
};
/** A codec's statistics: a UDPTL port's without the outbox it does not have. */
const UDPTL_CODEC_STATS: Shape = Object.fromEntries(
  Object.entries(UDPTL_STATS).filter(([key]) => key !== 'outboxOverflows'),
);

/** An element of NativeUdptl['decode']'s array. */
const UDPTL_DELIVERY: Shape = { seq: 'number', ifp: 'Uint8Array' };

/** NativePage. */
const PAGE: Shape = { width: 'number', height: 'number', xDpi: 'number', yDpi: 'number', data: 'Uint8Array' };

/** NativeTiffCheck. */
const TIFF_CHECK: Shape = { code: 'number', detail: 'string', pages: 'number' };

/** An element of NativeAddon['completionCodes']'s array. */
const COMPLETION_CODE: Shape = { code: 'number', text: 'string' };

// --- Running the addon for real ---------------------------------------------------------

const FRAME = native.constants.SAMPLES_PER_FRAME;
const MAX_DATAGRAM = native.constants.UDPTL_MAX_DATAGRAM;
/** Ten minutes of 20 ms frames: far more than any call here needs. */
const MAX_FRAMES = 30_000;

const dir = tempDir();
afterAll(() => dir.cleanup());
const pages: NativePage[] = [textPage(1, { height: 240 })];
const document = path.join(dir.dir, 'document.tif');
beforeAll(() => native.writeTiffF(document, pages, 't6'));

/** A sender and receiver run frame by frame to the end, with every event they emitted. */
function audioCall(): { sender: NativeFaxSession; receiver: NativeFaxSession; events: unknown[] } {
  const sender = new native.FaxSession({ direction: 'send', txFile: document });
  const receiver = new native.FaxSession({ direction: 'receive', rxFile: path.join(dir.dir, 'audio.tif') });
  const a = sender.frameBuffers();
  const b = receiver.frameBuffers();
  const events: unknown[] = [];
  for (let frames = 0; !(sender.finished() && receiver.finished()) && frames < MAX_FRAMES; frames++) {
    a.process();
    b.process();
    a.received.set(b.transmit);
    b.received.set(a.transmit);
    events.push(...sender.takeEvents(), ...receiver.takeEvents());
  }
  return { sender, receiver, events };
}

function expectEvents(events: readonly unknown[]): void {
  const seen = new Set<string>();
  for (const event of events) {
    const type = (event as { type: string }).type;
    expect(Object.keys(EVENTS)).toContain(type);
    expectShape(event, EVENTS[type]!);
    if (type !== 'frame') expectShape((event as { stats: unknown }).stats, STATS);
    seen.add(type);
  }
  expect([...seen].sort()).toEqual(Object.keys(EVENTS).sort());
}

function expectResult(result: unknown): void {
  expectShape(result, RESULT);
  expectShape((result as { stats: unknown }).stats, STATS);
}

describe('the addon as lib/native.ts declares it', () => {
  test('exports exactly NativeAddon', () => {
    expectShape(native, ADDON);
  });

  test('constants: exactly the declared names, each a number', () => {
    expectShape(native.constants, Object.fromEntries(CONSTANTS.map((k) => [k, 'number'])));
  });

  test('completionCodes(): an array of { code, text }, code equal to its index', () => {
    const codes = native.completionCodes();
    expect(kindOf(codes)).toBe('array');
    expect(codes.length).toBeGreaterThan(native.constants.T30_ERR_CALLDROPPED);
    codes.forEach((c, i) => {
      expectShape(c, COMPLETION_CODE);
      expect(c.code).toBe(i);
    });
  });

  test('the classes have exactly the declared methods', () => {
    expect(methodsOf(native.FaxSession)).toEqual([...FAX_SESSION_METHODS].sort());
    expect(methodsOf(native.T38Gateway)).toEqual([...T38_GATEWAY_METHODS].sort());
    expect(methodsOf(native.Udptl)).toEqual([...UDPTL_METHODS].sort());
    expect(methodsOf(native.TiffFWriter)).toEqual([...TIFF_F_WRITER_METHODS].sort());
    expect(methodsOf(native.NoiseGenerator)).toEqual([...NOISE_GENERATOR_METHODS].sort());
    expect(methodsOf(native.SessionGroup)).toEqual([...SESSION_GROUP_METHODS].sort());
  });
});

describe('a FaxSession as NativeFaxSession declares it', () => {
  test('an audio call: takeEvents() events, result(), frameBuffers() and the primitives', () => {
    const { sender, receiver, events } = audioCall();
    expectEvents(events);
    expectResult(sender.result());
    expectResult(receiver.result());
    expectShape(sender.frameBuffers(), FRAME_LINE);
    expect(sender.medium()).toBe('audio');
    expect(sender.udptlStats()).toBeNull();
    expect(kindOf(sender.process(null, new Int16Array(FRAME)))).toBe('number');
    expect(kindOf(sender.receive(new Int16Array(FRAME)))).toBe('number');
    expect(kindOf(sender.receiveMissing(FRAME))).toBe('number');
    expect(kindOf(sender.transmit(new Int16Array(FRAME)))).toBe('number');
    expect(kindOf(sender.elapsedMs())).toBe('number');
    expect(kindOf(sender.finished())).toBe('boolean');
    expect(kindOf(sender.closed())).toBe('boolean');
    expect(kindOf(sender.hangUp())).toBe('undefined');
    expect(kindOf(sender.close())).toBe('undefined');
    receiver.close();
  });

  test('result() is null until the call has finished', () => {
    const s = new native.FaxSession({ direction: 'send', txFile: document });
    expect(s.result()).toBeNull();
    s.close();
  });

  test('a T.38 session: datagramBuffers() and udptlStats()', () => {
    const s = new native.FaxSession({ direction: 'send', txFile: document, t38: {} as never });
    expect(s.medium()).toBe('t38');
    const port = s.datagramBuffers();
    expectShape(port, DATAGRAM_PORT);
    expect(kindOf(port.tick(FRAME))).toBe('number');
    expect(kindOf(port.pendingEvents())).toBe('number');
    expectShape(s.udptlStats(), UDPTL_STATS);
    s.close();
  });

  test('switchToT38() turns an audio session into a T.38 one, with udptlStats()', () => {
    const s = new native.FaxSession({ direction: 'send', txFile: document });
    expect(kindOf(s.switchToT38({} as never))).toBe('undefined');
    expect(s.medium()).toBe('t38');
    expectShape(s.udptlStats(), UDPTL_STATS);
    s.close();
  });
});

describe('a SessionGroup as NativeSessionGroup declares it', () => {
  test('buffers(), add(), tick() and size() return what is declared', () => {
    const group = new native.SessionGroup(3);
    expectShape(group.buffers(), GROUP_BUFFERS);
    const session = new native.FaxSession({ direction: 'receive', rxFile: path.join(dir.dir, 'group-shape.tif') });
    expect(kindOf(group.add(session))).toBe('number');
    expect(kindOf(group.tick(0))).toBe('number');
    expect(group.size()).toBe(1);
    expect(kindOf(group.remove(0))).toBe('undefined');
    expect(kindOf(group.deliver(0))).toBe('undefined');
    expect(kindOf(group.close())).toBe('undefined');
    session.close();
  });
});

describe('a T38Gateway as NativeT38Gateway declares it', () => {
  test('frameBuffers(), datagramBuffers(), takeEvents() frames, stats() and udptlStats()', () => {
    // An audio sender through the gateway to a T.38 receiver, until the gateway relays a frame.
    const sender = new native.FaxSession({ direction: 'send', txFile: document });
    const rxFile = path.join(dir.dir, 'gateway.tif');
    const receiver = new native.FaxSession({ direction: 'receive', rxFile, t38: {} as never });
    const gateway = new native.T38Gateway({ ecm: true });
    const audio = sender.frameBuffers();
    const leg = gateway.frameBuffers();
    const port = gateway.datagramBuffers();
    const receiverPort = receiver.datagramBuffers();
    expectShape(leg, FRAME_LINE);
    expectShape(port, GATEWAY_DATAGRAM_PORT);
    const frames: unknown[] = [];
    for (let tick = 0; tick < MAX_FRAMES && frames.length === 0 && !sender.finished(); tick++) {
      audio.received.set(leg.transmit);
      audio.process();
      leg.received.set(audio.transmit);
      if (leg.process() > 0) frames.push(...gateway.takeEvents());
      for (let i = 0, n = port.take(); i < n; i++) {
        const at = i * MAX_DATAGRAM;
        receiverPort.inbound.set(port.outbox.subarray(at, at + port.lengths[i]!));
        receiverPort.receive(port.lengths[i]!);
      }
      // tick() returns the datagram count plus 65536 per pending event.
      for (let i = 0, n = receiverPort.tick(FRAME) & 0xffff; i < n; i++) {
        const at = i * MAX_DATAGRAM;
        port.inbound.set(receiverPort.outbox.subarray(at, at + receiverPort.lengths[i]!));
        port.receive(receiverPort.lengths[i]!);
      }
      sender.takeEvents();
      receiver.takeEvents();
    }
    expect(frames.length).toBeGreaterThan(0);
    for (const frame of frames) expectShape(frame, GATEWAY_FRAME);
    expect(kindOf(port.pendingEvents())).toBe('number');
    expect(kindOf(gateway.elapsedMs())).toBe('number');
    expect(kindOf(gateway.closed())).toBe('boolean');
    expectShape(gateway.stats(), GATEWAY_STATS);
    expectShape(gateway.udptlStats(), UDPTL_STATS);
    sender.close();
    receiver.close();
    expect(kindOf(gateway.close())).toBe('undefined');
  });
});

describe('a Udptl endpoint as NativeUdptl declares it', () => {
  test('encode() a Uint8Array, decode() { seq, ifp } entries, stats() NativeUdptlStats', () => {
    const a = new native.Udptl({});
    const b = new native.Udptl({});
    const datagram = a.encode(new Uint8Array([1, 2, 3]));
    expect(kindOf(datagram)).toBe('Uint8Array');
    const delivered = b.decode(datagram);
    expect(kindOf(delivered)).toBe('array');
    expect(delivered).toHaveLength(1);
    expectShape(delivered[0], UDPTL_DELIVERY);
    expect(kindOf(a.nextSequence())).toBe('number');
    expectShape(a.stats(), UDPTL_CODEC_STATS);
    expectShape(b.stats(), UDPTL_CODEC_STATS);
    a.close();
    b.close();
  });
});

describe('the image functions as lib/native.ts declares them', () => {
  test('readTiff() and grayToBilevel() return NativePage objects', () => {
    const read = native.readTiff(document);
    expect(kindOf(read)).toBe('array');
    expect(read).toHaveLength(1);
    expectShape(read[0], PAGE);
    expectShape(native.grayToBilevel(new Uint8Array(1728 * 10).fill(255), 1728, 10), PAGE);
  });

  test('checkTiff() and checkTiffAsync() return NativeTiffCheck objects', async () => {
    expectShape(native.checkTiff(document, 1, 0), TIFF_CHECK);
    expectShape(await native.checkTiffAsync(document, 1, 0), TIFF_CHECK);
  });

  test('a TiffFWriter writes a file readTiff() reads back', () => {
    const file = path.join(dir.dir, 'written.tif');
    const writer = new native.TiffFWriter(file, 't6');
    expect(kindOf(writer.addPage(pages[0]!))).toBe('undefined');
    writer.close();
    expectShape(native.readTiff(file)[0], PAGE);
  });
});
