import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { native } from '../../lib/native';
import { useTempDocument } from '../helpers/pages';

/**
 * The addon throws errors of the realm that loaded it, not of jest's test realm, so errors
 * are matched by name and message rather than by constructor.
 */
function expectError(fn: () => unknown, name: 'TypeError' | 'RangeError' | 'Error', message?: RegExp | string): void {
  let thrown: unknown;
  try {
    fn();
  } catch (e) {
    thrown = e;
  }
  expect(thrown).toBeDefined();
  expect((thrown as Error).name).toBe(name);
  if (message !== undefined) expect((thrown as Error).message).toMatch(message);
}

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
    expectError(() => new (native.FaxSession as unknown as new (...a: unknown[]) => unknown)(...args), type, message);
  });

  test('throws when called without new', () => {
    expectError(
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
    expectError(
      () => (s.process as (...a: unknown[]) => number)(...args),
      'TypeError',
      /^Expected an Int16Array( or null)? for .* but got (an array|a Float32Array|a Uint8Array|string)$/,
    );
    s.close();
  });

  test('throw RangeError for received and transmit buffers of different lengths', () => {
    const s = send();
    expectError(() => s.process(new Int16Array(160), new Int16Array(80)), 'RangeError', /same length/);
    s.close();
  });

  test('throw RangeError for a batch longer than 10 s', () => {
    const s = send();
    expectError(() => s.transmit(new Int16Array(80001)), 'RangeError', /at most 80000/);
    expectError(() => s.receiveMissing(-1), 'RangeError', /integer from 0/);
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
      expectError(call, 'Error', 'The fax session is closed');
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
    expectError(() => process(), 'Error', 'The fax session is closed');
    expectError(() => line.processLost(), 'Error', 'The fax session is closed');
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
    expectError(() => forged.process(null, new Int16Array(160)), 'TypeError', /Illegal invocation/);
    expectError(() => forged.closed(), 'TypeError', /Illegal invocation/);
    expectError(() => s.close.call({} as typeof s), 'TypeError', /Illegal invocation/);
    expectError(() => s.close.call(new Date() as unknown as typeof s), 'TypeError', /Illegal invocation/);
    s.close();
  });
});

describe('the native loopback', () => {
  test('rejects options with the wrong types before starting', () => {
    expectError(() => native.startLoopback(undefined as never), 'TypeError', /options/);
    expectError(
      () => native.startLoopback({ sender: { direction: 'receive', rxFile: 'x' } } as never),
      'RangeError',
      /'send'/,
    );
    expectError(
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
    expectError(() => native.checkTiffAsync(7 as never, 1, 0), 'TypeError', /path/);
    expectError(() => native.checkTiffAsync(fixture.document, 0, 0), 'RangeError', /firstPage/);
    expectError(() => native.checkTiffAsync(fixture.document, 1, -1), 'RangeError', /lastPage/);
    const missing = await native.checkTiffAsync('/nonexistent/x.tif', 1, 0);
    expect(missing).toMatchObject({ code: native.constants.T30_ERR_FILEERROR, pages: 0 });
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
