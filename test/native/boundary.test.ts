import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { ResultCode } from '../../lib';
import { native, type NativeFaxSession, type NativeResult } from '../../lib/native';
import { differingRows, useTempDocument } from '../helpers/pages';
import { expectNativeError, type NativeErrorName } from '../helpers/native-errors';

const fixture = useTempDocument();
const FRAME = native.constants.SAMPLES_PER_FRAME;
/** Ten minutes of 20 ms frames: far more than a one-page fax needs. */
const MAX_FRAMES = 30_000;

const send = () => new native.FaxSession({ direction: 'send', txFile: fixture.document });

/** Expects `s` to take a frame as before: a refused call must not have consumed line time. */
function expectStillRuns(s: NativeFaxSession, elapsedBefore = 0): void {
  expect(s.elapsedMs()).toBe(elapsedBefore);
  s.process(null, new Int16Array(FRAME));
  expect(s.elapsedMs()).toBe(elapsedBefore + 20);
}

let received = 0;
/** Runs `sender` against a fresh receiver to the end, frame by frame (bounded). */
function completeFax(sender: NativeFaxSession): { sender: NativeResult | null; receiver: NativeResult | null } {
  const file = path.join(fixture.dir, `boundary-${++received}.tif`);
  const receiver = new native.FaxSession({ direction: 'receive', rxFile: file });
  const a = sender.frameBuffers();
  const b = receiver.frameBuffers();
  for (let frames = 0; !(sender.finished() && receiver.finished()) && frames < MAX_FRAMES; frames++) {
    a.process();
    b.process();
    a.received.set(b.transmit);
    b.received.set(a.transmit);
  }
  const outcome = { sender: sender.result(), receiver: receiver.result() };
  receiver.close();
  const [sent] = native.readTiff(fixture.document);
  const got = native.readTiff(file);
  expect(got).toHaveLength(1);
  expect(differingRows(got[0]!, sent!)).toBe(0);
  return outcome;
}

describe('the native FaxSession constructor', () => {
  test.each([
    ['no options', [], 'TypeError', /^Expected an object for options but got undefined$/],
    ['a number for options', [42], 'TypeError', /^Expected an object for options but got number$/],
    [
      'a number for identity',
      [{ direction: 'send', txFile: 'x', identity: 5 }],
      'TypeError',
      /^Expected a string for options\.identity but got number$/,
    ],
    [
      'an unknown direction',
      [{ direction: 'sideways' }],
      'RangeError',
      /^options\.direction must be 'send' or 'receive'$/,
    ],
    [
      'an identity of 21 characters',
      [{ direction: 'send', txFile: 'x', identity: '1'.repeat(21) }],
      'RangeError',
      /^identity is 21 characters; T\.30 allows at most 20$/,
    ],
    [
      'letters in the identity',
      [{ direction: 'send', txFile: 'x', identity: 'ACME' }],
      'RangeError',
      /only digits, '\+' and space .*got 'ACME'$/,
    ],
    [
      'a header of 51 characters',
      [{ direction: 'send', txFile: 'x', headerInfo: 'x'.repeat(51) }],
      'RangeError',
      /^header_info is 51 characters; at most 50/,
    ],
    ['no modems', [{ direction: 'send', txFile: 'x', modems: 0 }], 'RangeError', /^modems must be a non-empty set/],
    [
      'a fractional page',
      [{ direction: 'send', txFile: 'x', firstPage: 1.5 }],
      'RangeError',
      /^options\.firstPage must be an integer$/,
    ],
    ['a send without a file', [{ direction: 'send' }], 'RangeError', /^a sending terminal needs a TIFF-F file/],
    [
      'T.6 alone without ECM',
      [{ direction: 'send', txFile: 'x', ecm: false, compressions: 8 }],
      'RangeError',
      /^T\.6 compression needs ECM/,
    ],
  ] as const)('throws for %s, and the next session made works', (_name, args, type, message) => {
    expectNativeError(
      () => new (native.FaxSession as unknown as new (...a: unknown[]) => unknown)(...args),
      type,
      message,
    );
    const s = send();
    expectStillRuns(s);
    s.close();
  });

  test('throws when called without new', () => {
    expectNativeError(
      () => (native.FaxSession as unknown as (o: unknown) => unknown)({ direction: 'send', txFile: fixture.document }),
      'TypeError',
      /^Class constructors cannot be invoked without 'new'$/,
    );
  });
});

describe('native per-frame calls', () => {
  test.each([
    [
      'a plain array',
      [Array(160).fill(0), new Int16Array(160)],
      /^Expected an Int16Array or null for the received samples but got an array$/,
    ],
    [
      'a Float32Array',
      [new Float32Array(160), new Int16Array(160)],
      /^Expected an Int16Array or null for the received samples but got a Float32Array$/,
    ],
    [
      'a Uint8Array transmit buffer',
      [new Int16Array(160), new Uint8Array(320)],
      /^Expected an Int16Array for the transmit buffer but got a Uint8Array$/,
    ],
    [
      'a string',
      ['audio', new Int16Array(160)],
      /^Expected an Int16Array or null for the received samples but got string$/,
    ],
  ])('throw TypeError for %s and leave the session as it was', (_name, args, message) => {
    const s = send();
    s.process(null, new Int16Array(FRAME));
    expectNativeError(() => (s.process as (...a: unknown[]) => number)(...args), 'TypeError', message);
    expectStillRuns(s, 20);
    s.close();
  });

  test('throw RangeError for received and transmit buffers of different lengths, consuming nothing', () => {
    const s = send();
    const transmit = new Int16Array(80).fill(7);
    expectNativeError(
      () => s.process(new Int16Array(160), transmit),
      'RangeError',
      /^the received samples \(160\) and the transmit buffer \(80\) must have the same length$/,
    );
    expect(transmit.every((v) => v === 7)).toBe(true);
    expectStillRuns(s);
    s.close();
  });

  test('throw RangeError for a batch longer than 10 s, consuming nothing', () => {
    const s = send();
    expectNativeError(
      () => s.transmit(new Int16Array(80001)),
      'RangeError',
      /^the transmit buffer holds 80001 samples; at most 80000 \(10 s\) per call$/,
    );
    expectNativeError(
      () => s.receiveMissing(-1),
      'RangeError',
      /^the missing sample count must be an integer from 0 to 80000$/,
    );
    expectStillRuns(s);
    s.close();
  });

  test('accept batches of several frames and odd lengths', () => {
    const s = send();
    const out = new Int16Array(160 * 5);
    s.process(new Int16Array(160 * 5), out);
    s.process(null, new Int16Array(37));
    expect(s.elapsedMs()).toBeCloseTo(((160 * 5 + 37) * 1000) / 8000, 5);
    s.close();
  });

  test('throw a clear error after close, and close is idempotent', () => {
    const s = send();
    s.close();
    s.close();
    expect(s.closed()).toBe(true);
    for (const call of [
      () => s.process(null, new Int16Array(160)),
      () => s.takeEvents(),
      () => s.hangUp(),
      () => s.result(),
      () => s.finished(),
      () => s.elapsedMs(),
      () => s.frameBuffers(),
    ]) {
      expectNativeError(call, 'Error', /^The fax session is closed$/);
    }
    expect(s.closed()).toBe(true);
  });

  test('the frame line runs frames through its shared buffers and throws once the session is closed', () => {
    const s = send();
    const line = s.frameBuffers();
    expect(line.received).toHaveLength(160);
    expect(s.frameBuffers()).toBe(line);
    line.process();
    line.processLost();
    expect(s.elapsedMs()).toBe(40);
    const { process } = line;
    s.close();
    expectNativeError(() => process(), 'Error', /^The fax session is closed$/);
    expectNativeError(() => line.processLost(), 'Error', /^The fax session is closed$/);
    expect(s.closed()).toBe(true);
  });

  test('the frame line keeps its buffers alive when JS drops them from the object it handed out', () => {
    // In a child with --expose-gc: freed buffers would be written by the next frame (a
    // heap corruption that aborts or crashes the process), so the child must exit cleanly
    // after 250 frames, with the session's clock showing every one of them.
    const script = `
      const addon = require('node-gyp-build')(process.cwd());
      const s = new addon.FaxSession({ direction: 'send', txFile: ${JSON.stringify(fixture.document)} });
      const line = s.frameBuffers();
      line.received = null;
      line.transmit = null;
      for (let round = 0; round < 5; round++) {
        gc();
        const churn = [];
        for (let i = 0; i < 2000; i++) churn.push(new Int16Array(160).fill(i));
        for (let i = 0; i < 50; i++) line.process();
      }
      const ms = s.elapsedMs();
      s.close();
      process.stdout.write(String(ms));`;
    const r = spawnSync(process.execPath, ['--expose-gc', '-e', script], {
      cwd: path.resolve(__dirname, '../..'),
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(r.stderr).toBe('');
    expect(r.signal).toBeNull();
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(String(250 * 20));
  });

  test('throw TypeError when called on a forged this, and the real session is untouched', () => {
    const s = send();
    const forged = Object.create(Object.getPrototypeOf(s)) as typeof s;
    const illegal = /^Illegal invocation: `this` is not a FaxSession$/;
    expectNativeError(() => forged.process(null, new Int16Array(160)), 'TypeError', illegal);
    expectNativeError(() => forged.closed(), 'TypeError', illegal);
    expectNativeError(() => s.close.call({} as typeof s), 'TypeError', illegal);
    expectNativeError(() => s.close.call(new Date() as unknown as typeof s), 'TypeError', illegal);
    expect(s.closed()).toBe(false);
    expectStillRuns(s);
    s.close();
  });

  test('a session that refused every kind of bad call still sends its fax to the end', () => {
    const s = send();
    const bad: [() => unknown, NativeErrorName, RegExp][] = [
      [
        () => (s.process as (...a: unknown[]) => number)(new Float32Array(160), new Int16Array(160)),
        'TypeError',
        /but got a Float32Array$/,
      ],
      [() => s.process(new Int16Array(160), new Int16Array(80)), 'RangeError', /must have the same length$/],
      [() => s.transmit(new Int16Array(80001)), 'RangeError', /at most 80000 \(10 s\) per call$/],
      [() => s.receiveMissing(-1), 'RangeError', /must be an integer from 0 to 80000$/],
      [
        () => (s.receive as (a: unknown) => number)('audio'),
        'TypeError',
        /^Expected an Int16Array for .* but got string$/,
      ],
    ];
    for (const [call, type, message] of bad) expectNativeError(call, type, message);
    expect(s.elapsedMs()).toBe(0);
    expect(completeFax(s)).toMatchObject({
      sender: { code: ResultCode.OK, success: true, pages: 1 },
      receiver: { code: ResultCode.OK, success: true, pages: 1 },
    });
    s.close();
  });
});

describe('the native TIFF check on a libuv thread', () => {
  test('throws for wrong arguments before it starts, and answers a missing file with the file code', async () => {
    expectNativeError(
      () => native.checkTiffAsync(7 as never, 1, 0),
      'TypeError',
      /^Expected a string for path but got number$/,
    );
    expectNativeError(
      () => native.checkTiffAsync(fixture.document, 0, 0),
      'RangeError',
      /^firstPage must be an integer from 1 to/,
    );
    expectNativeError(
      () => native.checkTiffAsync(fixture.document, 1, -1),
      'RangeError',
      /^lastPage must be an integer from 0 to/,
    );
    const missing = await native.checkTiffAsync('/nonexistent/x.tif', 1, 0);
    expect(missing).toMatchObject({ code: ResultCode.FILE_ERROR, pages: 0 });
    expect(await native.checkTiffAsync(fixture.document, 1, 0)).toMatchObject({ code: ResultCode.OK, pages: 1 });
  });
});

describe('the native G.711 calls', () => {
  type Args = readonly unknown[] | (() => unknown[]);
  const run = (fn: 'g711Encode' | 'g711Decode', args: readonly unknown[]) => () =>
    (native[fn] as (...a: unknown[]) => void)(...args);

  test.each([
    ['no arguments', 'g711Encode', [], 'TypeError', /^Expected a number for law but got undefined$/],
    [
      'a string law',
      'g711Decode',
      ['pcmu', new Uint8Array(1), new Int16Array(1)],
      'TypeError',
      /^Expected a number for law but got string$/,
    ],
    [
      'law 2',
      'g711Encode',
      [2, new Int16Array(1), new Uint8Array(1)],
      'RangeError',
      /^law must be an integer from 0 to 1$/,
    ],
    [
      'law 0.5',
      'g711Encode',
      [0.5, new Int16Array(1), new Uint8Array(1)],
      'RangeError',
      /^law must be an integer from 0 to 1$/,
    ],
    [
      'law NaN',
      'g711Decode',
      [NaN, new Uint8Array(1), new Int16Array(1)],
      'RangeError',
      /^law must be an integer from 0 to 1$/,
    ],
    [
      'a Uint16Array for pcm',
      'g711Encode',
      [0, new Uint16Array(1), new Uint8Array(1)],
      'TypeError',
      /^Expected an Int16Array for pcm but got a Uint16Array$/,
    ],
    [
      'a Uint8ClampedArray for out',
      'g711Encode',
      [1, new Int16Array(1), new Uint8ClampedArray(1)],
      'TypeError',
      /^Expected a Uint8Array for out but got a Uint8ClampedArray$/,
    ],
    [
      'an ArrayBuffer for payload',
      'g711Decode',
      [0, new ArrayBuffer(2), new Int16Array(2)],
      'TypeError',
      /^Expected a Uint8Array for payload but got an ArrayBuffer$/,
    ],
    [
      'a DataView for payload',
      'g711Decode',
      [0, new DataView(new ArrayBuffer(2)), new Int16Array(2)],
      'TypeError',
      /^Expected a Uint8Array for payload but got an object$/,
    ],
    [
      'a missing out',
      'g711Decode',
      [1, new Uint8Array(2)],
      'TypeError',
      /^Expected an Int16Array for out but got undefined$/,
    ],
    [
      'lengths that differ',
      'g711Decode',
      [1, new Uint8Array(2), new Int16Array(3)],
      'RangeError',
      /^out holds 3 samples but payload holds 2$/,
    ],
    [
      '80001 samples',
      'g711Encode',
      [0, new Int16Array(80001), new Uint8Array(80001)],
      'RangeError',
      /^pcm must hold at most 80000 samples but holds 80001$/,
    ],
    [
      'overlapping arrays',
      'g711Decode',
      () => {
        const shared = new ArrayBuffer(8);
        return [0, new Uint8Array(shared, 2, 2), new Int16Array(shared, 0, 2)];
      },
      'RangeError',
      /must not share memory/,
    ],
  ] as const)('throw for %s, writing nothing', (_name, fn, given: Args, type, message) => {
    const args = typeof given === 'function' ? given() : given;
    // The output array is filled with a marker first: a refused call must leave it as it was.
    const out = args[2];
    if (out instanceof Int16Array || out instanceof Uint8Array || out instanceof Uint8ClampedArray) out.fill(0x55);
    const before = ArrayBuffer.isView(out) ? Buffer.from(out.buffer.slice(0)) : undefined;
    expectNativeError(run(fn, args), type, message);
    if (before && ArrayBuffer.isView(out)) expect(Buffer.from(out.buffer.slice(0)).equals(before)).toBe(true);
  });

  test('code exactly 80000 samples, and arrays over a detached buffer as empty', () => {
    const pcm = new Int16Array(80000).fill(-32768);
    const out = new Uint8Array(80000);
    native.g711Encode(0, pcm, out);
    expect(out.every((b) => b === 0)).toBe(true);
    const buffer = new ArrayBuffer(16);
    const detached = new Uint8Array(buffer);
    structuredClone(buffer, { transfer: [buffer] });
    expect(detached.length).toBe(0);
    native.g711Decode(1, detached, new Int16Array(0));
    expectNativeError(
      () => native.g711Decode(1, detached, new Int16Array(1)),
      'RangeError',
      /^out holds 1 samples but payload holds 0$/,
    );
  });

  test('decode arrays at odd offsets into shared buffers without touching bytes around them', () => {
    const bytes = new Uint8Array(11).fill(0xaa);
    const samples = new Int16Array(7).fill(123);
    native.g711Decode(1, bytes.subarray(3, 8), samples.subarray(1, 6));
    expect([...samples]).toEqual([123, 32256, 32256, 32256, 32256, 32256, 123]);
  });
});

describe('the native NoiseGenerator', () => {
  const make =
    (...args: unknown[]) =>
    () =>
      new (native.NoiseGenerator as unknown as new (...a: unknown[]) => unknown)(...args);

  /** Expects `n` to add noise: a silent frame comes back with non-zero samples. */
  function expectAddsNoise(n: { add(frame: Int16Array): void }): void {
    const frame = new Int16Array(FRAME);
    n.add(frame);
    expect(frame.some((v) => v !== 0)).toBe(true);
  }

  test.each([
    ['no arguments', make(), 'TypeError', /^Expected a number for seed but got undefined$/],
    ['a string seed', make('1', 0), 'TypeError', /^Expected a number for seed but got string$/],
    ['a negative seed', make(-1, 0), 'RangeError', /^seed must be an integer from 0 to 4294967295$/],
    ['a seed of 2^32', make(2 ** 32, 0), 'RangeError', /^seed must be an integer from 0 to 4294967295$/],
    ['a fractional seed', make(0.5, 0), 'RangeError', /^seed must be an integer from 0 to 4294967295$/],
    ['no level', make(1), 'TypeError', /^Expected a number for levelDbm0 but got undefined$/],
    ['an infinite level', make(1, Infinity), 'RangeError', /^levelDbm0 must be from -100 to 10$/],
    ['a level of +10.5 dBm0', make(1, 10.5), 'RangeError', /^levelDbm0 must be from -100 to 10$/],
  ] as const)('the constructor throws for %s, and a good one works after', (_name, fn, type, message) => {
    expectNativeError(fn, type, message);
    const n = new native.NoiseGenerator(1, -30);
    expectAddsNoise(n);
    n.close();
  });

  test('throws when called without new', () => {
    expectNativeError(
      () => (native.NoiseGenerator as unknown as (s: number, l: number) => unknown)(1, 0),
      'TypeError',
      /^Class constructors cannot be invoked without 'new'$/,
    );
  });

  test('add checks its frame and still works after refusing one; after close it throws, and close is idempotent', () => {
    const n = new native.NoiseGenerator(1, -30);
    expectNativeError(
      () => n.add(new Float64Array(160) as never),
      'TypeError',
      /^Expected an Int16Array for frame but got a Float64Array$/,
    );
    expectNativeError(
      () => n.add(new Int16Array(80001)),
      'RangeError',
      /^frame must hold at most 80000 samples but holds 80001$/,
    );
    n.add(new Int16Array(0));
    expectAddsNoise(n);
    n.close();
    n.close();
    expectNativeError(() => n.add(new Int16Array(160)), 'Error', /^The noise generator is closed$/);
  });

  test('throws TypeError when called on a forged or foreign this, and both real objects still work', () => {
    const n = new native.NoiseGenerator(1, -30);
    const forged = Object.create(Object.getPrototypeOf(n)) as typeof n;
    expectNativeError(
      () => forged.add(new Int16Array(160)),
      'TypeError',
      /^Illegal invocation: `this` is not a NoiseGenerator$/,
    );
    const session = send();
    expectNativeError(
      () => n.add.call(session as never, new Int16Array(160)),
      'TypeError',
      /^Illegal invocation: `this` is not a NoiseGenerator$/,
    );
    expectAddsNoise(n);
    expectStillRuns(session);
    session.close();
    n.close();
  });
});
