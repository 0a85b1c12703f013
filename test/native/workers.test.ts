import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { useTempDocument } from '../helpers/pages';

const root = path.resolve(__dirname, '../..');
const fixture = useTempDocument();

function run(script: string, rxName: string): { worker: Worker; message: Promise<unknown> } {
  const worker = new Worker(path.join(__dirname, '../fixtures', script), {
    workerData: { root, document: fixture.document, rxFile: path.join(fixture.dir, rxName) },
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
