import * as os from 'node:os';
import {
  InvalidOptionError,
  defaultRenderConcurrency,
  preparePdf,
  readTiffPages,
  renderConcurrency,
  setRenderConcurrency,
} from '../../lib';
import { closeIdleRenderWorkers, renderWorkerCounts } from '../../lib/document/render';
import { acquireRenderSlot } from '../../lib/document/render-slots';
import { outputOf, startNode } from '../helpers/cli';
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

describe('render workers', () => {
  const counts = renderWorkerCounts;
  beforeEach(() => closeIdleRenderWorkers());
  afterAll(() => closeIdleRenderWorkers());

  const pagesOf = async (pdf: Uint8Array, options: Parameters<typeof preparePdf>[1] = {}) => {
    const prepared = await preparePdf(pdf, options);
    try {
      return readTiffPages(prepared.file);
    } finally {
      await prepared.cleanup();
    }
  };

  test('a worker that rendered a document well renders the next, with the pages a fresh worker gives', async () => {
    const first = await textPages(2, 50);
    const second = await textPages(3, 60);
    const before = counts().started;
    await pagesOf(first);
    expect(counts()).toEqual({ started: before + 1, idle: 1 });
    const reused = await pagesOf(second);
    expect(counts()).toEqual({ started: before + 1, idle: 1 });
    await closeIdleRenderWorkers();
    expect(counts().idle).toBe(0);
    const fresh = await pagesOf(second);
    expect(counts().started).toBe(before + 2);
    expect(reused).toHaveLength(3);
    // PDFium starts anew for each document: what the first left behind changes nothing.
    expect(reused.map((page) => Buffer.from(page.data))).toEqual(fresh.map((page) => Buffer.from(page.data)));
  });

  test('a document that breaks the renderer ends its worker; the next document gets a new one', async () => {
    await pagesOf(await textPages(1, 70));
    const before = counts();
    expect(before.idle).toBe(1);
    const corrupt = Buffer.concat([Buffer.from('%PDF-1.7\n'), Buffer.alloc(4096, 0x5a)]);
    await expect(preparePdf(corrupt)).rejects.toMatchObject({ reason: 'corrupt' });
    expect(counts()).toEqual({ started: before.started, idle: 0 });
    expect(await pagesOf(await textPages(1, 71))).toHaveLength(1);
    expect(counts()).toEqual({ started: before.started + 1, idle: 1 });
  });

  test('an abort mid-render ends the worker; a thrown onPage too', async () => {
    await pagesOf(await textPages(1, 80));
    const started = counts().started;
    const controller = new AbortController();
    const reason = new Error('hung up');
    await expect(
      preparePdf(await textPages(3, 81), { signal: controller.signal, onPage: () => controller.abort(reason) }),
    ).rejects.toBe(reason);
    expect(counts()).toEqual({ started, idle: 0 });
    const thrown = new Error('progress bar broke');
    await expect(
      preparePdf(await textPages(3, 82), {
        onPage: () => {
          throw thrown;
        },
      }),
    ).rejects.toBe(thrown);
    expect(counts()).toEqual({ started: started + 1, idle: 0 });
  });

  test('no more idle workers are kept than documents may render at once', async () => {
    setRenderConcurrency(1);
    const [a, b] = await Promise.all([textPages(1, 90), textPages(1, 91)]);
    // Two documents at once with a limit of 1: one worker, reused by the second.
    const before = counts().started;
    await Promise.all([pagesOf(a), pagesOf(b)]);
    expect(counts()).toEqual({ started: before + 1, idle: 1 });
  });

  test('an idle worker does not keep the process alive', async () => {
    // A process that prepares a document and returns: it exits while its worker is still idle.
    const script = `
      const documents = require('./lib/document');
      const render = require('./lib/document/render');
      process.on('exit', () => console.log(JSON.stringify(render.renderWorkerCounts())));
      documents.prepareDocument(${JSON.stringify(`data:application/pdf;base64,${Buffer.from(await textPages(1, 95)).toString('base64')}`)})
        .then((prepared) => prepared.cleanup());`;
    const child = await outputOf(startNode(['-r', 'ts-node/register/transpile-only', '-e', script]));
    expect(child.stderr).toBe('');
    expect(child.status).toBe(0);
    expect(JSON.parse(child.stdout)).toEqual({ started: 1, idle: 1 });
  });
});
