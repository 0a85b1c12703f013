import * as fs from 'node:fs';
import * as path from 'node:path';
import { ResultCode, resultText, runLoopback, writeTiffF, type FaxPage } from '../../lib';
import { tempDir, writeTextDocument } from '../helpers/pages';

let tmp: ReturnType<typeof tempDir>;
beforeAll(() => (tmp = tempDir()));
afterAll(() => tmp.cleanup());

async function sendFile(file: string, pages?: { first?: number; last?: number }) {
  const call = await runLoopback({ document: file, pages });
  expect(call.sender.success).toBe(false);
  expect(call.sender.pages).toBe(0);
  expect(call.sender.text).toBe(resultText(call.sender.code));
  expect(call.senderEvents.filter((e) => e.type === 'finished')).toHaveLength(1);
  return call.sender;
}

describe('a TIFF that cannot be sent fails the fax with SpanDSP’s file code and a detail', () => {
  test('a missing file: file error', async () => {
    const r = await sendFile(path.join(tmp.dir, 'absent.tif'));
    expect(r.code).toBe(ResultCode.FILE_ERROR);
    expect(r.detail).toMatch(/absent\.tif/);
  });

  test('a file that is not a TIFF: file error', async () => {
    const file = path.join(tmp.dir, 'not.tif');
    fs.writeFileSync(file, '%PDF-1.4 not a tiff');
    const r = await sendFile(file);
    expect(r.code).toBe(ResultCode.FILE_ERROR);
    expect(r.detail).not.toBe('');
  });

  test('a page range beyond the file: no page', async () => {
    const { file } = writeTextDocument(tmp.dir, 2, { name: 'two.tif' });
    const r = await sendFile(file, { first: 3 });
    expect(r.code).toBe(ResultCode.NO_PAGE);
    expect(r.detail).toMatch(/3/);
  });

  test('a width fax cannot carry: bad tag', async () => {
    const page: FaxPage = { width: 1000, height: 100, xDpi: 204, yDpi: 196, data: new Uint8Array(125 * 100) };
    const file = path.join(tmp.dir, 'narrow.tif');
    writeTiffF(file, [page]);
    const r = await sendFile(file);
    expect(r.code).toBe(ResultCode.BAD_TAG);
    expect(r.detail).toMatch(/1000/);
  });

  test('a truncated TIFF never hangs or crashes', async () => {
    const { file } = writeTextDocument(tmp.dir, 1, { name: 'whole.tif' });
    const cut = path.join(tmp.dir, 'cut.tif');
    fs.writeFileSync(cut, fs.readFileSync(file).subarray(0, 200));
    const r = await sendFile(cut);
    expect([ResultCode.FILE_ERROR, ResultCode.BAD_TIFF, ResultCode.BAD_TIFF_HEADER, ResultCode.NO_PAGE]).toContain(
      r.code,
    );
  });
});
