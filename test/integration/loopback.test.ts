import {
  DEFAULT_CALL_LIMIT_MS,
  LoopbackMedia,
  ResultCode,
  resultText,
  runLoopback,
  writeTiffF,
  type FaxEvent,
  type FaxPage,
  type LoopbackCall,
} from '../../lib';
import { native } from '../../lib/native';
import { differingRows, rowHasInk, tempDir, textPage, writeTextDocument } from '../helpers/pages';

let tmp: ReturnType<typeof tempDir>;
beforeAll(() => (tmp = tempDir()));
afterAll(() => tmp.cleanup());

function pageEvents(events: FaxEvent[]): number[] {
  return events.flatMap((e) => (e.type === 'page' ? [e.page] : []));
}

function expectBitExact(call: LoopbackCall, sent: FaxPage[]): void {
  expect(call.receivedPages).toHaveLength(sent.length);
  sent.forEach((page, i) => expect(differingRows(call.receivedPages[i]!, page)).toBe(0));
}

describe('a loopback fax with ECM', () => {
  test.each([1, 3, 10])('delivers %i page(s) bit-identical to what was sent', async (n) => {
    const doc = writeTextDocument(tmp.dir, n, { name: `ecm-${n}.tif`, firstSeed: 10 * n });
    const call = await runLoopback({ document: doc.file });
    expect(call.sender).toMatchObject({ code: 0, text: 'OK', success: true, pages: n });
    expect(call.receiver).toMatchObject({ code: 0, success: true, pages: n });
    expect(call.sender.stats.ecm).toBe(true);
    expectBitExact(call, doc.pages);
    expect(pageEvents(call.senderEvents)).toEqual(Array.from({ length: n }, (_, i) => i + 1));
    expect(pageEvents(call.receiverEvents)).toEqual(Array.from({ length: n }, (_, i) => i + 1));
    const finished = call.senderEvents.filter((e) => e.type === 'finished');
    expect(finished).toHaveLength(1);
    expect(call.senderEvents.at(-1)?.type).toBe('finished');
    expect(call.receivedTiff?.subarray(0, 2).toString('latin1')).toMatch(/^(II|MM)$/);
  });
});

describe('a loopback fax without ECM on a clean line', () => {
  test('delivers pages bit-identical with zero bad rows', async () => {
    const doc = writeTextDocument(tmp.dir, 2, { name: 'no-ecm.tif', firstSeed: 77 });
    const call = await runLoopback({ document: doc.file, ecm: false });
    expect(call.sender).toMatchObject({ code: 0, success: true, pages: 2 });
    expect(call.sender.stats.ecm).toBe(false);
    expect(call.receiver?.stats.badRows).toBe(0);
    expectBitExact(call, doc.pages);
  });
});

describe('forcing one modem', () => {
  test.each([
    ['v17', 14400],
    ['v29', 9600],
    ['v27ter', 4800],
  ] as const)('%s succeeds and the stats report its top rate', async (modem, bitRate) => {
    const doc = writeTextDocument(tmp.dir, 1, { name: `modem-${modem}.tif`, firstSeed: 3 });
    const call = await runLoopback({ document: doc.file, modems: [modem] });
    expect(call.sender.success).toBe(true);
    expect(call.sender.stats.bitRate).toBe(bitRate);
    expect(call.receiver?.stats.bitRate).toBe(bitRate);
    expectBitExact(call, doc.pages);
  });
});

describe('forcing one compression', () => {
  const c = native.constants;
  test.each([
    ['t4-1d', c.T4_COMPRESSION_ITU_T4_1D],
    ['t4-2d', c.T4_COMPRESSION_ITU_T4_2D],
    ['t6', c.T4_COMPRESSION_ITU_T6],
  ] as const)('%s succeeds and the stats report it', async (compression, encoding) => {
    const doc = writeTextDocument(tmp.dir, 1, { name: `comp-${compression}.tif`, firstSeed: 4 });
    const call = await runLoopback({ document: doc.file, compressions: [compression] });
    expect(call.sender.success).toBe(true);
    expect(call.sender.stats.encoding).toBe(encoding);
    expect(call.receiver?.stats.encoding).toBe(encoding);
    expectBitExact(call, doc.pages);
  });
});

describe('station identities', () => {
  test('our identity arrives as the receiver’s remote identity, and theirs as ours', async () => {
    const doc = writeTextDocument(tmp.dir, 1, { name: 'ident.tif', firstSeed: 5 });
    const call = await runLoopback({
      document: doc.file,
      identity: '+1 555 0100',
      receiver: { identity: '+44 20 7946 0000' },
    });
    expect(call.receiver?.remoteIdentity).toBe('+1 555 0100');
    expect(call.sender.remoteIdentity).toBe('+44 20 7946 0000');
  });
});

describe('header_info', () => {
  test('adds a header line with ink above the sent image, which follows unchanged', async () => {
    const doc = writeTextDocument(tmp.dir, 1, { name: 'header.tif', firstSeed: 6 });
    const call = await runLoopback({ document: doc.file, headerInfo: 'ACME Corp invoices' });
    expect(call.sender.success).toBe(true);
    const received = call.receivedPages[0]!;
    const sent = doc.pages[0]!;
    const extra = received.height - sent.height;
    expect(extra).toBeGreaterThan(0);
    const headerRows = Array.from({ length: extra }, (_, y) => rowHasInk(received, y));
    expect(headerRows.some(Boolean)).toBe(true);
    const body = { ...received, height: sent.height, data: received.data.subarray(extra * 216) };
    expect(differingRows(body, sent)).toBe(0);
  });
});

describe('a receiver that never answers', () => {
  test('ends with T0 expired (no answer) after T0’s 60 s, not a hang', async () => {
    const doc = writeTextDocument(tmp.dir, 1, { name: 'silent.tif', firstSeed: 7 });
    const call = await runLoopback({ document: doc.file, receiver: { answers: false } });
    expect(call.sender).toMatchObject({ code: ResultCode.T0_EXPIRED, success: false, pages: 0 });
    expect(call.receiver).toBeNull();
    expect(call.receiverEvents).toEqual([]);
    expect(call.receivedTiff).toBeNull();
    expect(call.durationMs).toBe(60_000);
  });
});

describe('a hang-up mid-page', () => {
  test('gives the call-dropped code and the pages confirmed before it', async () => {
    const doc = writeTextDocument(tmp.dir, 3, { name: 'hangup.tif', firstSeed: 8 });
    const full = await runLoopback({ document: doc.file });
    const pageTimes = full.senderEvents.flatMap((e) => (e.type === 'page' ? [e.timeMs] : []));
    expect(pageTimes).toHaveLength(3);
    // Halfway through the second page's transmission.
    const hangUpAtMs = (pageTimes[0]! + pageTimes[1]!) / 2;
    const call = await runLoopback({ document: doc.file, hangUpAtMs });
    expect(call.sender.code).toBe(ResultCode.CALL_DROPPED);
    expect(call.sender.text).toBe(resultText(ResultCode.CALL_DROPPED));
    expect(call.sender.pages).toBe(1);
    expect(call.receiver?.code).toBe(ResultCode.CALL_DROPPED);
    expect(call.receiver?.pages).toBe(1);
    const detail = `both ends hung up at ${hangUpAtMs / 1000} s of line time (hangUpAtMs)`;
    expect(call.sender.detail).toBe(detail);
    expect(call.receiver?.detail).toBe(detail);
    expect(pageEvents(call.senderEvents)).toEqual([1]);
    expect(call.senderEvents.filter((e) => e.type === 'finished')).toHaveLength(1);
    expect(call.durationMs).toBeCloseTo(hangUpAtMs, -2);
  });

  test('an AbortSignal aborted before the call starts: no line time, no page, call-dropped on both ends', async () => {
    const doc = writeTextDocument(tmp.dir, 2, { name: 'abort.tif', firstSeed: 9 });
    const controller = new AbortController();
    const promise = runLoopback({ document: doc.file, signal: controller.signal });
    controller.abort();
    const call = await promise;
    const dropped = { code: ResultCode.CALL_DROPPED, success: false, pages: 0, detail: 'the call was cancelled' };
    expect(call.sender).toMatchObject(dropped);
    expect(call.receiver).toMatchObject(dropped);
    expect(call.durationMs).toBe(0);
    expect(call.senderEvents.map((e) => e.type)).toEqual(['finished']);
    expect(call.receiverEvents.map((e) => e.type)).toEqual(['finished']);
    expect(call.receivedPages).toEqual([]);
    expect(call.receivedTiff).toBeNull();
  });

  test('an AbortSignal aborted as page 1 is confirmed: exactly that page on both ends, call-dropped', async () => {
    const doc = writeTextDocument(tmp.dir, 3, { name: 'abort-page.tif', firstSeed: 12 });
    const controller = new AbortController();
    const media = new LoopbackMedia();
    const events: FaxEvent[] = [];
    const outcome = await media.send(
      { document: doc.file },
      {
        signal: controller.signal,
        // Events arrive as they happen, so the abort lands right after the sender's page 1.
        onEvent: (e) => {
          events.push(e);
          if (e.type === 'page') controller.abort();
        },
      },
    );
    const dropped = { code: ResultCode.CALL_DROPPED, success: false, pages: 1, detail: 'the call was cancelled' };
    expect(outcome.result).toMatchObject(dropped);
    expect(media.call!.receiver).toMatchObject(dropped);
    expect(pageEvents(events)).toEqual([1]);
    expect(pageEvents(media.call!.receiverEvents)).toEqual([1]);
    expect(events.at(-1)).toMatchObject({ type: 'finished', result: dropped });
    expect(outcome.durationMs).toBe(events.find((e) => e.type === 'page')!.timeMs + 20);
    expectBitExact(media.call!, doc.pages.slice(0, 1));
  });

  test('a time limit ends the call with code 49 and names itself in detail, on both ends and the finished event', async () => {
    const doc = writeTextDocument(tmp.dir, 2, { name: 'limit.tif', firstSeed: 10 });
    const call = await runLoopback({ document: doc.file, timeLimitMs: 20_000 });
    const detail = 'the call reached its time limit of 20 s of line time without a page';
    expect(call.sender).toMatchObject({ code: ResultCode.CALL_DROPPED, detail });
    expect(call.receiver).toMatchObject({ code: ResultCode.CALL_DROPPED, detail });
    expect(call.senderEvents.at(-1)).toMatchObject({ type: 'finished', result: { detail } });
    expect(call.durationMs).toBe(20_000);
  });

  test('the limit counts from each page: a fax three times as long as its limit is delivered', async () => {
    const doc = writeTextDocument(tmp.dir, 3, { name: 'limit-pages.tif', firstSeed: 20 });
    const call = await runLoopback({ document: doc.file, timeLimitMs: 70_000 });
    expect(call.sender).toMatchObject({ code: ResultCode.OK, pages: 3, detail: '' });
    expect(call.receiver).toMatchObject({ code: ResultCode.OK, pages: 3 });
    expect(call.durationMs).toBeGreaterThan(140_000);
    expectBitExact(call, doc.pages);
  });

  test('a page that takes longer than the limit ends the call, the detail counting from the last page', async () => {
    // A short first page gets through well within the limit; the full second page does not.
    const pages = [textPage(31, { height: 200 }), textPage(32)];
    const file = `${tmp.dir}/limit-last-page.tif`;
    writeTiffF(file, pages, 't6');
    const call = await runLoopback({ document: file, timeLimitMs: 40_000 });
    const detail = 'the call reached its time limit of 40 s of line time since its last page';
    expect(call.sender).toMatchObject({ code: ResultCode.CALL_DROPPED, pages: 1, detail });
    expect(call.receiver).toMatchObject({ code: ResultCode.CALL_DROPPED, pages: 1, detail });
    // The limit counts from the later of the two ends' page events: the sender's, on the MCF.
    const lastPageMs = Math.max(
      ...[...call.senderEvents, ...call.receiverEvents].flatMap((e) => (e.type === 'page' ? [e.timeMs] : [])),
    );
    expect(call.durationMs).toBe(lastPageMs + 40_000);
    expectBitExact(call, pages.slice(0, 1));
  });

  test('a fax of more than an hour of line time (80 pages) is delivered: the default limit is four hours', async () => {
    expect(DEFAULT_CALL_LIMIT_MS).toBe(4 * 3_600_000);
    const doc = writeTextDocument(tmp.dir, 80, { name: 'long.tif', firstSeed: 100 });
    const call = await runLoopback({ document: doc.file });
    expect(call.durationMs).toBeGreaterThan(3_600_000);
    expect(call.sender).toMatchObject({ code: ResultCode.OK, pages: 80, detail: '' });
    expect(call.receiver).toMatchObject({ code: ResultCode.OK, pages: 80 });
    expect(call.receivedPages).toHaveLength(80);
    await expect(runLoopback({ document: 'x.tif', timeLimitMs: -1 })).rejects.toThrow(
      /timeLimitMs must be a positive number/,
    );
  });
});

describe('line audio', () => {
  test('is recorded for both directions when asked, 8000 samples per second of line time', async () => {
    const doc = writeTextDocument(tmp.dir, 1, { name: 'audio.tif', firstSeed: 11 });
    const call = await runLoopback({ document: doc.file, recordAudio: true });
    expect(call.audio?.sent.length).toBe(Math.round((call.durationMs * 8000) / 1000));
    expect(call.audio?.received.length).toBe(call.audio?.sent.length);
    expect(call.audio?.sent.some((s) => Math.abs(s) > 1000)).toBe(true);
    expect(call.audio?.received.some((s) => Math.abs(s) > 1000)).toBe(true);
  });
});
