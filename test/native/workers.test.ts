import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { tempDir, writeTextDocument } from '../helpers/pages';

const root = path.resolve(__dirname, '../..');
let tmp: ReturnType<typeof tempDir>;
let document: string;
beforeAll(() => {
  tmp = tempDir();
  document = writeTextDocument(tmp.dir, 1).file;
});
afterAll(() => tmp.cleanup());

function run(script: string, rxName: string): { worker: Worker; message: Promise<unknown> } {
  const worker = new Worker(path.join(__dirname, '../fixtures', script), {
    workerData: { root, document, rxFile: path.join(tmp.dir, rxName) },
  });
  const message = new Promise((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  return { worker, message };
}

describe('the addon in worker threads', () => {
  test('two workers each load it and complete a fax at the same time', async () => {
    const a = run('worker-session.js', 'a.tif');
    const b = run('worker-session.js', 'b.tif');
    expect(await Promise.all([a.message, b.message])).toEqual([
      { code: 0, pages: 1 },
      { code: 0, pages: 1 },
    ]);
    await Promise.all([a.worker.terminate(), b.worker.terminate()]);
  });

  test('a worker that exits with a session and a call still open is cleaned up', async () => {
    const w = run('worker-leave-open.js', 'c.tif');
    expect(await w.message).toBe('ready');
    const exitCode = await w.worker.terminate();
    expect(exitCode).toBe(1);
  });
});
