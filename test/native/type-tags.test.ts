/**
 * Two copies of the addon in one process (two .node files: a package and another copy of it
 * bundled by a dependency, say) each tag their objects with tags drawn at random when the
 * copy is loaded, so each refuses the other's objects with a TypeError instead of treating
 * them as its own.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { NativeAddon } from '../../lib/native';
import { expectNativeError } from '../helpers/native-errors';
import { tempDir, writeTextDocument } from '../helpers/pages';

const built = path.resolve(__dirname, '../../build/Release/faxline.node');

let tmp: ReturnType<typeof tempDir>;
let document = '';
let copyA: NativeAddon;
let copyB: NativeAddon;
/** Everything made here, closed after all tests. */
const made: { close(): unknown }[] = [];

/** Loads a fresh copy of the built addon from its own file. */
function loadCopy(name: string): NativeAddon {
  const file = path.join(tmp.dir, `${name}.node`);
  fs.copyFileSync(built, file);
  const module = { exports: {} as NativeAddon };
  process.dlopen(module, file);
  return module.exports;
}

beforeAll(() => {
  tmp = tempDir();
  document = writeTextDocument(tmp.dir, 1).file;
  copyA = loadCopy('copy-a');
  copyB = loadCopy('copy-b');
});

afterAll(() => {
  for (const object of made) {
    try {
      object.close();
    } catch {
      // A writer with no pages refuses to close; it is discarded all the same.
    }
  }
  tmp.cleanup();
});

let files = 0;
const tempFile = (): string => path.join(tmp.dir, `file-${++files}.tif`);

/** A tagged class: how to make one of its objects, and a method to call on it. */
interface TaggedCase {
  name: string;
  make(addon: NativeAddon): object;
  method: string;
  args?: unknown[];
  /** What the method returns on an object of its own copy. */
  expected: unknown;
}

const cases: TaggedCase[] = [
  {
    name: 'FaxSession',
    make: (addon) => new addon.FaxSession({ direction: 'send', txFile: document }),
    method: 'closed',
    expected: false,
  },
  {
    name: 'TiffFWriter',
    make: (addon) => new addon.TiffFWriter(tempFile(), 't6'),
    method: 'pagesWritten',
    expected: 0,
  },
  {
    name: 'T38Gateway',
    make: (addon) => new addon.T38Gateway(),
    method: 'closed',
    expected: false,
  },
  {
    name: 'Udptl',
    make: (addon) => new addon.Udptl({}),
    method: 'nextSequence',
    expected: 0,
  },
  {
    name: 'NoiseGenerator',
    make: (addon) => new addon.NoiseGenerator(1, -30),
    method: 'add',
    args: [new Int16Array(160)],
    expected: undefined,
  },
];

/** Makes an object of `name` with `addon`, kept for closing after all tests. */
function make(c: TaggedCase, addon: NativeAddon): object {
  const object = c.make(addon);
  made.push(object as { close(): unknown });
  return object;
}

type Method = (this: object, ...args: unknown[]) => unknown;

/** Calls the prototype method `c.method` of `addon`'s class with `self` as `this`. */
function callOn(c: TaggedCase, addon: NativeAddon, self: object): unknown {
  const ctor = (addon as unknown as Record<string, { prototype: Record<string, Method> }>)[c.name];
  return ctor!.prototype[c.method]!.call(self, ...(c.args ?? []));
}

describe('two loaded copies of the addon', () => {
  test('are two modules, each with its own classes', () => {
    expect(copyA).not.toBe(copyB);
    expect(copyA.FaxSession).not.toBe(copyB.FaxSession);
    expect(copyA.completionCodes()).toEqual(copyB.completionCodes());
  });

  describe.each(cases)('$name', (c) => {
    test('a method of one copy works on an object of the same copy', () => {
      expect(callOn(c, copyA, make(c, copyA))).toBe(c.expected);
      expect(callOn(c, copyB, make(c, copyB))).toBe(c.expected);
    });

    test('a method of one copy called on an object of the other throws an Illegal invocation TypeError', () => {
      const fromA = make(c, copyA);
      const fromB = make(c, copyB);
      const illegal = new RegExp(`^Illegal invocation: \`this\` is not a ${c.name}$`);
      expectNativeError(() => callOn(c, copyA, fromB), 'TypeError', illegal);
      expectNativeError(() => callOn(c, copyB, fromA), 'TypeError', illegal);
      // The refused calls left both objects as they were.
      expect(callOn(c, copyA, fromA)).toBe(c.expected);
      expect(callOn(c, copyB, fromB)).toBe(c.expected);
    });
  });

  test('an object of one copy is refused by a different class of the other copy', () => {
    const session = make(cases[0]!, copyB);
    expectNativeError(
      () => callOn(cases[1]!, copyA, session),
      'TypeError',
      /Illegal invocation: `this` is not a TiffFWriter/,
    );
  });
});
