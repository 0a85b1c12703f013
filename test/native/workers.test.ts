import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { ResultCode } from '../../lib';
import { native, type NativePage } from '../../lib/native';
import { differingRows, tempDir, writeTextDocument } from '../helpers/pages';

const root = path.resolve(__dirname, '../..');
/** Ten minutes of 20 ms frames: far more than a one-page fax needs. */
const MAX_FRAMES = 30_000;
/** Bound on every wait for a worker; a one-page fax runs in well under a second unpaced. */
const WORKER_WAIT_MS = 60_000;

const state = { dir: '', document: '', pages: [] as NativePage[] };
let cleanup = (): void => undefined;
beforeAll(() => {
  const tmp = tempDir();
  cleanup = tmp.cleanup;
  const doc = writeTextDocument(tmp.dir, 1);
  Object.assign(state, { dir: tmp.dir, document: doc.file, pages: doc.pages });
});
afterAll(() => cleanup());

/** What worker-session.js posts back for each of its two faxes. */
interface WorkerFax {
  sender: { code: number; pages: number };
  receiver: { code: number; pages: number };
  received: NativePage[];
  senderEvents?: string[];
}

function start(script: string, data: object): { worker: Worker; message: Promise<unknown>; exited: Promise<number> } {
  const worker = new Worker(path.join(__dirname, '../fixtures', script), {
    workerData: { root, document: state.document, dir: state.dir, ...data },
  });
  const exited = new Promise<number>((resolve) => worker.once('exit', resolve));
  const message = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${script} sent nothing in ${WORKER_WAIT_MS} ms`)), WORKER_WAIT_MS);
    worker.once('message', (m) => {
      clearTimeout(timer);
      resolve(m);
    });
    worker.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
  return { worker, message, exited };
}

/** Expects `received` to be the document's pages, row for row. */
function expectSentPages(received: readonly NativePage[]): void {
  expect(received.map((p) => [p.width, p.height])).toEqual(state.pages.map((p) => [p.width, p.height]));
  received.forEach((page, i) => expect(differingRows(page, state.pages[i]!)).toBe(0));
}

function expectCompleted(fax: WorkerFax): void {
  expect(fax.sender).toEqual({ code: ResultCode.OK, pages: 1 });
  expect(fax.receiver).toEqual({ code: ResultCode.OK, pages: 1 });
  expectSentPages(fax.received);
}

describe('the addon in worker threads', () => {
  test('two workers each load it and complete a fax frame by frame and in a session group, at the same time', async () => {
    const a = start('worker-session.js', { name: 'a' });
    const b = start('worker-session.js', { name: 'b' });
    const results = (await Promise.all([a.message, b.message])) as { frames: WorkerFax; group: WorkerFax }[];
    for (const { frames, group } of results) {
      expectCompleted(frames);
      expect(frames.senderEvents).toEqual(['negotiated', 'page', 'finished']);
      expectCompleted(group);
    }
    // Each worker wrote its own files: the two copies of the addon did not share state.
    for (const name of ['a-frames', 'a-group', 'b-frames', 'b-group'])
      expect(fs.existsSync(path.join(state.dir, `${name}.tif`))).toBe(true);
    // Nothing of the addon keeps a worker alive once its work is done: each ends by itself.
    expect(await Promise.all([a.exited, b.exited])).toEqual([0, 0]);
  });

  test('a worker terminated with its objects open is cleaned up, and a call on the main thread goes on to complete', async () => {
    // A call in progress on the main thread while the worker goes away.
    const rxFile = path.join(state.dir, 'main.tif');
    const sender = new native.FaxSession({ direction: 'send', txFile: state.document });
    const receiver = new native.FaxSession({ direction: 'receive', rxFile });
    const a = sender.frameBuffers();
    const b = receiver.frameBuffers();
    let frames = 0;
    const step = (): void => {
      a.process();
      b.process();
      a.received.set(b.transmit);
      b.received.set(a.transmit);
      frames++;
    };
    // 10 s of line time: past the handshake, before the page.
    while (frames < 500) step();
    expect(sender.takeEvents().map((e) => e.type)).toContain('negotiated');
    expect(sender.finished()).toBe(false);

    const partialFile = path.join(state.dir, 'partial.tif');
    const w = start('worker-leave-open.js', { rxFile: path.join(state.dir, 'c.tif'), partialFile });
    expect(await w.message).toBe('ready');
    expect(fs.existsSync(partialFile)).toBe(true);
    // 1: the worker was terminated, not ended by itself or by an error.
    expect(await w.worker.terminate()).toBe(1);
    expect(await w.exited).toBe(1);
    // The environment's cleanup hook closed the writer it left open, which deletes its partial file.
    expect(fs.existsSync(partialFile)).toBe(false);

    while (!(sender.finished() && receiver.finished()) && frames < MAX_FRAMES) step();
    expect(sender.result()).toMatchObject({ code: ResultCode.OK, success: true, pages: 1 });
    expect(receiver.result()).toMatchObject({ code: ResultCode.OK, success: true, pages: 1 });
    sender.close();
    receiver.close();
    expectSentPages(native.readTiff(rxFile));
  });

  test('workers terminated in the middle of busy group ticks never take the process down', () => {
    // In a child process: if a termination inside a native call aborted the process, it would be the child.
    const child = spawnSync(
      process.execPath,
      [path.join(__dirname, '../fixtures/terminate-busy-workers.js'), root, state.dir, '30'],
      { encoding: 'utf8', timeout: 120_000 },
    );
    expect(child.stderr).toBe('');
    expect(child.status).toBe(0);
    expect(child.stdout).toBe('survived 30\n');
  });
});
