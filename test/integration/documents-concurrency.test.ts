import * as os from 'node:os';
import {
  InvalidOptionError,
  defaultRenderConcurrency,
  preparePdf,
  readTiffPages,
  renderConcurrency,
  setRenderConcurrency,
} from '../../lib';
import { acquireRenderSlot } from '../../lib/document/render-slots';
import { makePdf, usePrivateTmpdir } from '../helpers/pdfs';

usePrivateTmpdir('faxline-documents-concurrency-');
afterEach(() => setRenderConcurrency(defaultRenderConcurrency()));

const textPages = (count: number, seed: number): Promise<Uint8Array> =>
  makePdf(Array.from({ length: count }, (_, i) => ({ text: { seed: seed + i, lines: 5 } })));

describe('render concurrency', () => {
  test('defaults to one render per CPU', () => {
    expect(defaultRenderConcurrency()).toBe(Math.max(1, os.availableParallelism()));
    expect(renderConcurrency()).toBe(defaultRenderConcurrency());
  });

  test('refuses a limit that is not a whole number from 1', () => {
    for (const bad of [0, -1, 1.5, Number.NaN, Infinity, '2' as unknown as number]) {
      expect(() => setRenderConcurrency(bad)).toThrow(InvalidOptionError);
    }
    expect(renderConcurrency()).toBe(defaultRenderConcurrency());
  });

  test('at 1, one document renders only once the other has finished', async () => {
    setRenderConcurrency(1);
    const order: string[] = [];
    const [first, second] = await Promise.all([
      preparePdf(await textPages(3, 1), { onPage: (page) => order.push(`first ${page}`) }),
      preparePdf(await textPages(2, 10), { onPage: (page) => order.push(`second ${page}`) }),
    ]);
    try {
      // Whichever takes the slot first (each reads its PDF before asking), the renders never
      // interleave: one document's pages all come before the other's.
      const firstThenSecond = ['first 1', 'first 2', 'first 3', 'second 1', 'second 2'];
      const secondThenFirst = ['second 1', 'second 2', 'first 1', 'first 2', 'first 3'];
      expect([firstThenSecond, secondThenFirst]).toContainEqual(order);
      expect(readTiffPages(first.file)).toHaveLength(3);
      expect(readTiffPages(second.file)).toHaveLength(2);
    } finally {
      await first.cleanup();
      await second.cleanup();
    }
  });

  test('a document aborted while it waits rejects with the reason and leaves the queue moving', async () => {
    setRenderConcurrency(1);
    const controller = new AbortController();
    const reason = new Error('caller gave up');
    const pages: string[] = [];
    // Aborted once the first is rendering, so the second is waiting for its slot by then.
    const first = preparePdf(await textPages(2, 20), {
      onPage: (page) => {
        pages.push(`first ${page}`);
        controller.abort(reason);
      },
    });
    const waiting = preparePdf(await textPages(2, 30), {
      signal: controller.signal,
      onPage: (page) => pages.push(`aborted ${page}`),
    });
    const third = preparePdf(await textPages(1, 40), { onPage: (page) => pages.push(`third ${page}`) });
    await expect(waiting).rejects.toBe(reason);
    const [done, last] = await Promise.all([first, third]);
    try {
      expect(pages).toEqual(['first 1', 'first 2', 'third 1']);
      expect(done.pages).toBe(2);
      expect(last.pages).toBe(1);
    } finally {
      await done.cleanup();
      await last.cleanup();
    }
  });

  test('raising the limit starts the renders waiting; a slot given back twice counts once', async () => {
    setRenderConcurrency(1);
    const first = await acquireRenderSlot();
    let secondStarted = false;
    const second = acquireRenderSlot().then((release) => ((secondStarted = true), release));
    await new Promise((resolve) => setImmediate(resolve));
    expect(secondStarted).toBe(false);
    setRenderConcurrency(2);
    const releaseSecond = await second;
    expect(secondStarted).toBe(true);
    first();
    first(); // a second call must not free a slot that is not its own
    const third = await acquireRenderSlot(); // 1 running (second) of 2: starts at once
    let fourthStarted = false;
    const fourth = acquireRenderSlot().then((release) => ((fourthStarted = true), release));
    await new Promise((resolve) => setImmediate(resolve));
    expect(fourthStarted).toBe(false);
    releaseSecond();
    (await fourth)();
    third();
  });
});
