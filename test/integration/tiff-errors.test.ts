import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  checkTiffForSending,
  FaxSession,
  ResultCode,
  resultText,
  runLoopback,
  writeTiffF,
  type FaxPage,
} from '../../lib';
import { tempDir, writeDamagedTiff, writeTextDocument } from '../helpers/pages';

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

describe('checkTiffForSending: the session’s own check, on a libuv thread', () => {
  test('passes every page of a good file and counts them', async () => {
    const { file } = writeTextDocument(tmp.dir, 3, { name: 'good.tif' });
    expect(await checkTiffForSending(file)).toEqual({
      code: ResultCode.OK,
      detail: 'pages 1 to 3 can be sent',
      pages: 3,
    });
    expect(await checkTiffForSending(file, { first: 2, last: 2 })).toEqual({
      code: ResultCode.OK,
      detail: 'page 2 can be sent',
      pages: 3,
    });
  });

  test('names the page whose data cannot be decoded, as the session does when it is made', async () => {
    const file = writeDamagedTiff(tmp.dir);
    const check = await checkTiffForSending(file);
    expect(check).toMatchObject({ code: ResultCode.FILE_ERROR, pages: 2 });
    expect(check.detail).toMatch(/^page 2 cannot be decoded at row \d+/);
    expect(await checkTiffForSending(file, { first: 1, last: 1 })).toMatchObject({ code: ResultCode.OK });

    const session = new FaxSession({ direction: 'send', document: file });
    const result = await session.done;
    session.close();
    expect(result).toMatchObject({ code: check.code, detail: check.detail });
  });

  test('refuses a page range like the session: no page', async () => {
    const { file } = writeTextDocument(tmp.dir, 2, { name: 'range.tif' });
    expect(await checkTiffForSending(file, { first: 3 })).toMatchObject({ code: ResultCode.NO_PAGE, pages: 2 });
  });
});

describe('a sending FaxSession made with pagesChecked', () => {
  test('reads only the tags: damaged page data does not fail it when it is made', async () => {
    const file = writeDamagedTiff(tmp.dir);
    const checked = new FaxSession({ direction: 'send', document: file, pagesChecked: true });
    const unchecked = new FaxSession({ direction: 'send', document: file });
    await new Promise((resolve) => setImmediate(resolve));
    expect(unchecked.finished).toBe(true);
    expect(checked.finished).toBe(false);
    checked.close();
    unchecked.close();
  });

  test('still refuses a bad tag when it is made', async () => {
    const page: FaxPage = { width: 1000, height: 100, xDpi: 204, yDpi: 196, data: new Uint8Array(125 * 100) };
    const file = path.join(tmp.dir, 'narrow-checked.tif');
    writeTiffF(file, [page]);
    const session = new FaxSession({ direction: 'send', document: file, pagesChecked: true });
    expect((await session.done).code).toBe(ResultCode.BAD_TAG);
    session.close();
  });
});
