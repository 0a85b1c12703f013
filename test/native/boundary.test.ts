import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { native } from '../../lib/native';
import { useTempDocument } from '../helpers/pages';
import { expectNativeError } from '../helpers/native-errors';

const fixture = useTempDocument();

const send = () => new native.FaxSession({ direction: 'send', txFile: fixture.document });

describe('the native FaxSession constructor', () => {
  test.each([
    ['no options', [], 'TypeError', /Expected an object for options but got undefined/],
    ['a number for options', [42], 'TypeError', /Expected an object for options but got number/],
    ['a number for identity', [{ direction: 'send', txFile: 'x', identity: 5 }], 'TypeError', /options\.identity/],
    ['an unknown direction', [{ direction: 'sideways' }], 'RangeError', /direction/],
    [
      'an identity of 21 characters',
      [{ direction: 'send', txFile: 'x', identity: '1'.repeat(21) }],
      'RangeError',
      /at most 20/,
    ],
    ['letters in the identity', [{ direction: 'send', txFile: 'x', identity: 'ACME' }], 'RangeError', /digits/],
    [
      'a header of 51 characters',
      [{ direction: 'send', txFile: 'x', headerInfo: 'x'.repeat(51) }],
      'RangeError',
      /at most 50/,
    ],
    ['no modems', [{ direction: 'send', txFile: 'x', modems: 0 }], 'RangeError', /modems/],
    ['a fractional page', [{ direction: 'send', txFile: 'x', firstPage: 1.5 }], 'RangeError', /integer/],
    ['a send without a file', [{ direction: 'send' }], 'RangeError', /TIFF-F file/],
    [
      'T.6 alone without ECM',
      [{ direction: 'send', txFile: 'x', ecm: false, compressions: 8 }],
      'RangeError',
      /needs ECM/,
    ],
  ] as const)('throws for %s', (_name, args, type, message) => {
    expectNativeError(
      () => new (native.FaxSession as unknown as new (...a: unknown[]) => unknown)(...args),
      type,
      message,
    );
  });

  test('throws when called without new', () => {
    expectNativeError(
      () => (native.FaxSession as unknown as (o: unknown) => unknown)({ direction: 'send', txFile: fixture.document }),
      'TypeError',
      /new/,
    );
  });
});

describe('native per-frame calls', () => {
  test.each([
    ['a plain array', [Array(160).fill(0), new Int16Array(160)]],
    ['a Float32Array', [new Float32Array(160), new Int16Array(160)]],
    ['a Uint8Array transmit buffer', [new Int16Array(160), new Uint8Array(320)]],
    ['a string', ['audio', new Int16Array(160)]],
  ])('throw TypeError for %s', (_name, args) => {
    const s = send();
    expectNativeError(
      () => (s.process as (...a: unknown[]) => number)(...args),
      'TypeError',
      /^Expected an Int16Array( or null)? for .* but got (an array|a Float32Array|a Uint8Array|string)$/,
    );
    s.close();
  });

  test('throw RangeError for received and transmit buffers of different lengths', () => {
    const s = send();
    expectNativeError(() => s.process(new Int16Array(160), new Int16Array(80)), 'RangeError', /same length/);
    s.close();
  });

  test('throw RangeError for a batch longer than 10 s', () => {
    const s = send();
    expectNativeError(() => s.transmit(new Int16Array(80001)), 'RangeError', /at most 80000/);
    expectNativeError(() => s.receiveMissing(-1), 'RangeError', /integer from 0/);
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
    ]) {
      expectNativeError(call, 'Error', 'The fax session is closed');
    }
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
    expectNativeError(() => process(), 'Error', 'The fax session is closed');
    expectNativeError(() => line.processLost(), 'Error', 'The fax session is closed');
  });

  test('the frame line keeps its buffers alive when JS drops them from the object it handed out', () => {
    // In a child with --expose-gc: freed buffers would be written by the next frame (a
    // heap corruption that aborts or crashes the process), so the child must exit cleanly.
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
      s.close();
      process.stdout.write('ok');`;
    const r = spawnSync(process.execPath, ['--expose-gc', '-e', script], {
      cwd: path.resolve(__dirname, '../..'),
      encoding: 'utf8',
    });
    expect(r.stderr).toBe('');
    expect(r.signal).toBeNull();
    expect(r.status).toBe(0);
    expect(r.stdout).toBe('ok');
  });

  test('throw TypeError when called on a forged this', () => {
    const s = send();
    const forged = Object.create(Object.getPrototypeOf(s)) as typeof s;
    expectNativeError(() => forged.process(null, new Int16Array(160)), 'TypeError', /Illegal invocation/);
    expectNativeError(() => forged.closed(), 'TypeError', /Illegal invocation/);
    expectNativeError(() => s.close.call({} as typeof s), 'TypeError', /Illegal invocation/);
    expectNativeError(() => s.close.call(new Date() as unknown as typeof s), 'TypeError', /Illegal invocation/);
    s.close();
  });
});

describe('the native loopback', () => {
  test('rejects options with the wrong types before starting', () => {
    expectNativeError(() => native.startLoopback(undefined as never), 'TypeError', /options/);
    expectNativeError(
      () => native.startLoopback({ sender: { direction: 'receive', rxFile: 'x' } } as never),
      'RangeError',
      /'send'/,
    );
    expectNativeError(
      () =>
        native.startLoopback({
          sender: { direction: 'send', txFile: fixture.document },
          receiver: { direction: 'receive', rxFile: 'x.tif' },
          hangUpAtMs: 'soon',
        } as never),
      'TypeError',
      /hangUpAtMs/,
    );
  });
});

describe('the native TIFF check on a libuv thread', () => {
  test('throws for wrong arguments before it starts, and answers a missing file with the file code', async () => {
    expectNativeError(() => native.checkTiffAsync(7 as never, 1, 0), 'TypeError', /path/);
    expectNativeError(() => native.checkTiffAsync(fixture.document, 0, 0), 'RangeError', /firstPage/);
    expectNativeError(() => native.checkTiffAsync(fixture.document, 1, -1), 'RangeError', /lastPage/);
    const missing = await native.checkTiffAsync('/nonexistent/x.tif', 1, 0);
    expect(missing).toMatchObject({ code: native.constants.T30_ERR_FILEERROR, pages: 0 });
  });
});

describe('the native G.711 calls', () => {
  const call =
    (fn: 'g711Encode' | 'g711Decode', ...args: unknown[]) =>
    () =>
      (native[fn] as (...a: unknown[]) => void)(...args);

  test.each([
    ['no arguments', call('g711Encode'), 'TypeError', /^Expected a number for law but got undefined$/],
    ['a string law', call('g711Decode', 'pcmu', new Uint8Array(1), new Int16Array(1)), 'TypeError', /for law/],
    ['law 2', call('g711Encode', 2, new Int16Array(1), new Uint8Array(1)), 'RangeError', /law must be an integer/],
    ['law 0.5', call('g711Encode', 0.5, new Int16Array(1), new Uint8Array(1)), 'RangeError', /law/],
    ['law NaN', call('g711Decode', NaN, new Uint8Array(1), new Int16Array(1)), 'RangeError', /law/],
    [
      'a Uint16Array for pcm',
      call('g711Encode', 0, new Uint16Array(1), new Uint8Array(1)),
      'TypeError',
      /^Expected an Int16Array for pcm but got a Uint16Array$/,
    ],
    [
      'a Uint8ClampedArray for out',
      call('g711Encode', 1, new Int16Array(1), new Uint8ClampedArray(1)),
      'TypeError',
      /^Expected a Uint8Array for out but got a Uint8ClampedArray$/,
    ],
    [
      'an ArrayBuffer for payload',
      call('g711Decode', 0, new ArrayBuffer(2), new Int16Array(2)),
      'TypeError',
      /^Expected a Uint8Array for payload but got an ArrayBuffer$/,
    ],
    [
      'a DataView for payload',
      call('g711Decode', 0, new DataView(new ArrayBuffer(2)), new Int16Array(2)),
      'TypeError',
      /for payload/,
    ],
    ['a missing out', call('g711Decode', 1, new Uint8Array(2)), 'TypeError', /for out but got undefined/],
    [
      'lengths that differ',
      call('g711Decode', 1, new Uint8Array(2), new Int16Array(3)),
      'RangeError',
      /^out holds 3 samples but payload holds 2$/,
    ],
    [
      '80001 samples',
      call('g711Encode', 0, new Int16Array(80001), new Uint8Array(80001)),
      'RangeError',
      /at most 80000/,
    ],
    [
      'overlapping arrays',
      ((shared) => call('g711Decode', 0, new Uint8Array(shared, 2, 2), new Int16Array(shared, 0, 2)))(
        new ArrayBuffer(8),
      ),
      'RangeError',
      /must not share memory/,
    ],
  ] as const)('throw for %s', (_name, fn, type, message) => {
    expectNativeError(fn, type, message);
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
    expectNativeError(() => native.g711Decode(1, detached, new Int16Array(1)), 'RangeError', /holds 1 samples/);
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

  test.each([
    ['no arguments', make(), 'TypeError', /^Expected a number for seed but got undefined$/],
    ['a string seed', make('1', 0), 'TypeError', /for seed but got string/],
    ['a negative seed', make(-1, 0), 'RangeError', /seed must be an integer from 0 to 4294967295/],
    ['a seed of 2^32', make(2 ** 32, 0), 'RangeError', /seed/],
    ['a fractional seed', make(0.5, 0), 'RangeError', /seed/],
    ['no level', make(1), 'TypeError', /^Expected a number for levelDbm0 but got undefined$/],
    ['an infinite level', make(1, Infinity), 'RangeError', /levelDbm0 must be from -100 to 10/],
    ['a level of +10.5 dBm0', make(1, 10.5), 'RangeError', /levelDbm0/],
  ] as const)('the constructor throws for %s', (_name, fn, type, message) => {
    expectNativeError(fn, type, message);
  });

  test('throws when called without new', () => {
    expectNativeError(
      () => (native.NoiseGenerator as unknown as (s: number, l: number) => unknown)(1, 0),
      'TypeError',
      /new/,
    );
  });

  test('add checks its frame, and throws after close; close is idempotent', () => {
    const n = new native.NoiseGenerator(1, -30);
    expectNativeError(() => n.add(new Float64Array(160) as never), 'TypeError', /for frame but got a Float64Array/);
    expectNativeError(() => n.add(new Int16Array(80001)), 'RangeError', /at most 80000/);
    n.add(new Int16Array(0));
    n.close();
    n.close();
    expectNativeError(() => n.add(new Int16Array(160)), 'Error', 'The noise generator is closed');
  });

  test('throws TypeError when called on a forged or foreign this', () => {
    const n = new native.NoiseGenerator(1, -30);
    const forged = Object.create(Object.getPrototypeOf(n)) as typeof n;
    expectNativeError(() => forged.add(new Int16Array(160)), 'TypeError', /Illegal invocation/);
    const session = send();
    expectNativeError(() => n.add.call(session as never, new Int16Array(160)), 'TypeError', /Illegal invocation/);
    session.close();
    n.close();
  });
});

describe('the process', () => {
  test('is still alive after all the above', () => {
    const s = send();
    const out = new Int16Array(160);
    s.process(null, out);
    expect(s.finished()).toBe(false);
    s.close();
  });
});
