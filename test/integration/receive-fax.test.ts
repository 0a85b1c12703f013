import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { PDFDocument } from 'pdf-lib';
import {
  FaxSession,
  InvalidOptionError,
  LoopbackMedia,
  PcmMedia,
  ResultCode,
  SAMPLES_PER_FRAME,
  readTiffPages,
  receiveFax,
  resultText,
  type FaxEvent,
  type FaxMedia,
  type ReceivedFax,
  type ReceiveFaxOptions,
  type ReceiveFaxParams,
  type ReceiveLogKind,
} from '../../lib';
import { startStatusServer, type StatusServer } from '../helpers/status-server';
import { differingRows, random, tempDir, writeTextDocument } from '../helpers/pages';

const context = { project_id: 'p', space_id: 's', call_id: 'c', node_id: 'n', swml_session_id: 'w' };
const MAX_FRAMES = 20_000; // 400 s of line time

let tmp: ReturnType<typeof tempDir>;
let doc: ReturnType<typeof writeTextDocument>;
let storeDir: string;
let server: StatusServer;
beforeAll(async () => {
  tmp = tempDir();
  // Standard resolution: half the line time of fine pages, so the calls run quicker.
  doc = writeTextDocument(tmp.dir, 2, { firstSeed: 81, yDpi: 98 });
  storeDir = path.join(tmp.dir, 'store');
  server = await startStatusServer();
});
afterAll(async () => {
  await server.close();
  tmp.cleanup();
});
beforeEach(() => server.requests.splice(0));

const quiet = (): ReceiveFaxOptions => ({ log: () => undefined, allowPrivate: true, storeDir });
const loopback = (options: ConstructorParameters<typeof LoopbackMedia>[0] = {}): LoopbackMedia =>
  new LoopbackMedia({ sender: { document: doc.file, identity: '+1 555 0100' }, ...options });
const faxBodies = () => server.requests.map((r) => r.json.params.fax);

/** Resolves with `promise`, or fails the test after `ms`: every wait is bounded. */
async function bounded<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`not settled within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, limit]);
  } finally {
    clearTimeout(timer);
  }
}

/** Waits (30 s at most) until the PcmMedia's terminal runs: an unpaced line must not run ahead of it. */
async function untilActive(media: PcmMedia): Promise<void> {
  const by = Date.now() + 30_000;
  while (!media.active && !media.ended && Date.now() < by) await new Promise((resolve) => setTimeout(resolve, 1));
  expect(media.active).toBe(true);
}

let fullRun: Promise<FaxEvent[]> | undefined;
/** The receiver's events of one whole 2-page loopback receive (run once, for the tests that need them). */
function fullRunEvents(): Promise<FaxEvent[]> {
  fullRun ??= (async () => {
    const events: FaxEvent[] = [];
    await receiveFax({}, { media: loopback() }, { ...quiet(), onEvent: (e) => events.push(e) });
    return events;
  })();
  return fullRun;
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('receiveFax from the loopback sender', () => {
  test('two pages: the seven variables, the stored PDF and TIFF, pages bit-exact, the exact status events', async () => {
    const outcome = await receiveFax(
      { identity: '555 0200', status_url: server.url },
      { ...context, media: loopback() },
      quiet(),
    );
    const folder = path.join(storeDir, outcome.controlId);
    const pdfUrl = pathToFileURL(path.join(folder, 'received.pdf')).href;
    expect(outcome.variables).toEqual({
      receive_fax_document: pdfUrl,
      receive_fax_identity: '555 0200',
      receive_fax_remote_identity: '+1 555 0100',
      receive_fax_pages: '2',
      receive_fax_result_code: String(ResultCode.OK),
      receive_fax_result_text: resultText(ResultCode.OK),
      receive_fax_result: 'success',
    });
    expect(outcome.document).toBe(pdfUrl);
    expect(outcome.pagesFile).toBe(path.join(folder, 'received.tif'));
    expect(outcome.result).toMatchObject({
      code: ResultCode.OK,
      success: true,
      pages: 2,
      remoteIdentity: '+1 555 0100',
    });
    expect(outcome.stats).toMatchObject({ ecm: true, pagesTransferred: 2 });
    expect(outcome.durationMs).toBeGreaterThan(10_000);
    expect(fs.readdirSync(folder).sort()).toEqual(['received.pdf', 'received.tif']);

    // TIFF 6.0 section 2: byte order "II" (0x49 0x49, little-endian), then 42 as a 16-bit LE word (0x2a 0x00).
    const tiff = fs.readFileSync(outcome.pagesFile!);
    expect([...tiff.subarray(0, 4)]).toEqual([0x49, 0x49, 0x2a, 0x00]);
    // With ECM every page arrives bit-exact.
    const pages = readTiffPages(outcome.pagesFile!);
    expect(pages.map((p, i) => differingRows(p, doc.pages[i]!))).toEqual([0, 0]);

    // A PDF file starts with "%PDF-" (ISO 32000-1, 7.5.2). Each page is at its real size: the test
    // pages are 1728 dots at 204 dpi by round(297 mm / 25.4 * 98) = 1146 rows at 98 dpi, so
    // 1728 / 204 * 72 = 609.88 pt by 1146 / 98 * 72 = 841.96 pt (A4 is 595.28 by 841.89 pt).
    const pdfBytes = fs.readFileSync(path.join(folder, 'received.pdf'));
    expect(pdfBytes.subarray(0, 5).toString('latin1')).toBe('%PDF-');
    const pdf = await PDFDocument.load(pdfBytes);
    for (const page of pdf.getPages()) {
      expect(page.getWidth()).toBeCloseTo(609.88, 2);
      expect(page.getHeight()).toBeCloseTo(841.96, 2);
    }
    expect(pdf.getPageCount()).toBe(2);

    // Our CSI, as T.30 (5.3.6.2.4, Table 2) frames it: address 0xff, control 0x03 (not the final
    // frame: DIS follows), FCF 0000 0010 sent first bit first, i.e. the byte 0x40; then 20
    // characters with the last digit first: "555 0200" reversed is "0020 555" = 30 30 32 30 20 35
    // 35 35, followed by 12 spaces (0x20).
    expect(outcome.trace.frames.find((f) => f.name === 'CSI' && f.direction === 'sent')?.hex).toBe(
      'ff0340' + '3030323020353535' + '20'.repeat(12),
    );

    expect(server.requests).toHaveLength(3);
    for (const r of server.requests) {
      expect(r.method).toBe('POST');
      expect(r.headers['content-type']).toBe('application/json');
    }
    const envelope = (fax: unknown) => ({
      event_type: 'calling.call.fax',
      event_channel: 'swml:w',
      timestamp: expect.any(Number),
      project_id: 'p',
      space_id: 's',
      params: { call_id: 'c', node_id: 'n', control_id: outcome.controlId, fax },
    });
    expect(server.requests.map((r) => r.json)).toEqual([
      envelope({ type: 'page', params: { direction: 'receive', number: 1 } }),
      envelope({ type: 'page', params: { direction: 'receive', number: 2 } }),
      envelope({
        type: 'finished',
        params: {
          direction: 'receive',
          identity: '555 0200',
          remote_identity: '+1 555 0100',
          document: pdfUrl,
          pages: 2,
          success: true,
          result: ResultCode.OK,
          result_text: 'OK',
          format: 'pdf',
        },
      }),
    ]);
    expect(outcome.callbacks).toMatchObject({ events: 3, delivered: 3, failed: 0 });
  });

  test('without parameters, with a plain { kind: "loopback", sender } media: identity from the caller id', async () => {
    const outcome = await receiveFax(
      undefined,
      { caller_id: 'tel:+1-555-0300', media: { kind: 'loopback', sender: { document: doc.file } } },
      quiet(),
    );
    expect(outcome.variables).toMatchObject({
      receive_fax_identity: '+15550300',
      receive_fax_remote_identity: '',
      receive_fax_pages: '2',
      receive_fax_result: 'success',
    });
    expect(outcome.callbacks).toBeNull();
  });

  test('onEvent hears the receiving terminal: negotiated, page 1, page 2, finished', async () => {
    const events = await fullRunEvents();
    const types = events.filter((e) => e.type !== 'frame').map((e) => (e.type === 'page' ? `page ${e.page}` : e.type));
    expect(types).toEqual(['negotiated', 'page 1', 'page 2', 'finished']);
  });
});

describe('the store hook', () => {
  test('gets the received fax and its URL becomes receive_fax_document and the finished event’s document', async () => {
    const seen: ReceivedFax[] = [];
    let tiffThen: Buffer | null = null;
    const outcome = await receiveFax(
      { status_url: server.url },
      { ...context, media: loopback() },
      {
        log: () => undefined,
        allowPrivate: true,
        store: async (fax) => {
          seen.push(fax);
          tiffThen = fs.readFileSync(fax.tiffFile);
          return `https://files.example.com/faxes/${fax.controlId}.pdf`;
        },
      },
    );
    const url = `https://files.example.com/faxes/${outcome.controlId}.pdf`;
    expect(outcome.variables.receive_fax_document).toBe(url);
    expect(outcome.document).toBe(url);
    expect(outcome.pagesFile).toBeUndefined();
    expect(seen).toHaveLength(1);
    const fax = seen[0]!;
    expect(fax).toMatchObject({ controlId: outcome.controlId, pages: 2 });
    expect(fax.result).toBe(outcome.result);
    expect(Buffer.from(fax.pdf!.subarray(0, 5)).toString('latin1')).toBe('%PDF-');
    expect([...tiffThen!.subarray(0, 4)]).toEqual([0x49, 0x49, 0x2a, 0x00]);
    // The terminal's private folder is gone once the store has resolved.
    expect(fs.existsSync(fax.tiffFile)).toBe(false);
    expect(faxBodies().at(-1)).toMatchObject({ type: 'finished', params: { document: url, pages: 2, success: true } });
    expect(fs.existsSync(path.join(storeDir, outcome.controlId))).toBe(false);
  });

  test('a store that throws: the document is "", the failure is logged, the fax result is unchanged', async () => {
    const logs: [string, ReceiveLogKind][] = [];
    const outcome = await receiveFax(
      { status_url: server.url },
      { ...context, media: loopback() },
      {
        allowPrivate: true,
        log: (message, kind) => logs.push([message, kind]),
        store: async () => {
          throw new Error('bucket is read-only');
        },
      },
    );
    expect(outcome.variables).toMatchObject({
      receive_fax_document: '',
      receive_fax_pages: '2',
      receive_fax_result_code: String(ResultCode.OK),
      receive_fax_result: 'success',
    });
    expect(logs).toEqual([
      [`received fax ${outcome.controlId} (2 pages) was not stored: bucket is read-only`, 'store'],
    ]);
    expect(faxBodies()).toHaveLength(3);
    expect(faxBodies()[2]).toMatchObject({ type: 'finished', params: { document: '', pages: 2, success: true } });
  });

  test('a store that never settles is given up after storeTimeoutMs, like one that throws', async () => {
    const logs: string[] = [];
    const outcome = await receiveFax(
      {},
      { media: loopback() },
      { log: (message) => logs.push(message), store: () => new Promise<string>(() => undefined), storeTimeoutMs: 50 },
    );
    expect(outcome.document).toBe('');
    expect(outcome.result.success).toBe(true);
    expect(logs).toEqual([
      `received fax ${outcome.controlId} (2 pages) was not stored: the store did not finish within 50 ms`,
    ]);
  });
});

describe('a call that ends early', () => {
  test('the sender hangs up in the middle of page 2: call-dropped, page 1 kept and stored, one finished event', async () => {
    // Where page 2 runs on this line: between the receiver's page 1 and page 2 events.
    const times: number[] = [];
    await receiveFax(
      {},
      { media: loopback() },
      { ...quiet(), onEvent: (e) => e.type === 'page' && times.push(e.timeMs) },
    );
    expect(times).toHaveLength(2);
    const hangUpAtMs = Math.round((times[0]! + times[1]!) / 2);

    const outcome = await receiveFax(
      { status_url: server.url },
      { ...context, media: loopback({ hangUpAtMs }) },
      quiet(),
    );
    expect(outcome.result).toMatchObject({ code: ResultCode.CALL_DROPPED, success: false, pages: 1 });
    expect(outcome.variables).toMatchObject({
      receive_fax_pages: '1',
      receive_fax_result_code: String(ResultCode.CALL_DROPPED),
      receive_fax_result_text: resultText(ResultCode.CALL_DROPPED),
      receive_fax_result: 'failed',
    });
    const pdfUrl = pathToFileURL(path.join(storeDir, outcome.controlId, 'received.pdf')).href;
    expect(outcome.document).toBe(pdfUrl);
    const kept = readTiffPages(outcome.pagesFile!);
    expect(kept.map((p, i) => differingRows(p, doc.pages[i]!))).toEqual([0]);
    expect((await PDFDocument.load(fs.readFileSync(fileURLToPath(pdfUrl)))).getPageCount()).toBe(1);
    expect(faxBodies()).toEqual([
      { type: 'page', params: { direction: 'receive', number: 1 } },
      {
        type: 'finished',
        params: {
          direction: 'receive',
          identity: '',
          remote_identity: '+1 555 0100',
          document: pdfUrl,
          pages: 1,
          success: false,
          result: ResultCode.CALL_DROPPED,
          result_text: resultText(ResultCode.CALL_DROPPED),
          format: 'pdf',
        },
      },
    ]);
  });

  test('a far end with no fax tones (a PcmMedia fed noise): T1 expired, no pages, nothing stored, one finished event', async () => {
    const media = new PcmMedia();
    const pending = receiveFax({ status_url: server.url }, { ...context, media }, quiet());
    await untilActive(media);
    const rnd = random(7);
    const heard = new Int16Array(SAMPLES_PER_FRAME);
    const out = new Int16Array(SAMPLES_PER_FRAME);
    for (let frame = 0; frame < MAX_FRAMES && !media.ended; frame++) {
      for (let i = 0; i < heard.length; i++) heard[i] = Math.round((rnd() - 0.5) * 16_000);
      media.process(heard, out);
      if (frame % 100 === 0) await tick();
    }
    const outcome = await bounded(pending, 30_000);
    expect(outcome.result).toMatchObject({ code: ResultCode.T1_EXPIRED, success: false, pages: 0 });
    expect(outcome.variables).toMatchObject({
      receive_fax_document: '',
      receive_fax_remote_identity: '',
      receive_fax_pages: '0',
      receive_fax_result_code: String(ResultCode.T1_EXPIRED),
      receive_fax_result_text: resultText(ResultCode.T1_EXPIRED),
      receive_fax_result: 'failed',
    });
    expect(outcome.pagesFile).toBeUndefined();
    expect(fs.existsSync(path.join(storeDir, outcome.controlId))).toBe(false);
    // Our DIS went out and nobody answered; T1 ended it with DCN.
    expect(outcome.trace.frames.filter((f) => f.direction === 'received')).toEqual([]);
    expect(outcome.trace.frames.at(-1)).toMatchObject({ direction: 'sent', name: 'DCN' });
    expect(faxBodies()).toEqual([
      expect.objectContaining({
        type: 'finished',
        params: expect.objectContaining({ document: '', pages: 0, success: false, result: ResultCode.T1_EXPIRED }),
      }),
    ]);
  });

  test('abort through the signal after page 1 (a sending FaxSession on the far end): call-dropped, page 1 stored', async () => {
    const media = new PcmMedia();
    const controller = new AbortController();
    const pending = receiveFax(
      { status_url: server.url },
      { ...context, media },
      {
        ...quiet(),
        signal: controller.signal,
        onEvent: (e) => e.type === 'page' && controller.abort(),
      },
    );
    const sender = new FaxSession({ direction: 'send', document: doc.file, identity: '555 0100' });
    try {
      await untilActive(media);
      const toReceiver = new Int16Array(SAMPLES_PER_FRAME);
      const toSender = new Int16Array(SAMPLES_PER_FRAME);
      for (let frame = 0; frame < MAX_FRAMES && !media.ended; frame++) {
        sender.process(toSender, toReceiver);
        media.process(toReceiver, toSender);
        if (frame % 100 === 0) await tick();
      }
      const outcome = await bounded(pending, 30_000);
      expect(outcome.result).toMatchObject({ code: ResultCode.CALL_DROPPED, success: false, pages: 1 });
      expect(outcome.variables).toMatchObject({
        receive_fax_remote_identity: '555 0100',
        receive_fax_pages: '1',
        receive_fax_result_code: String(ResultCode.CALL_DROPPED),
      });
      expect(readTiffPages(outcome.pagesFile!).map((p, i) => differingRows(p, doc.pages[i]!))).toEqual([0]);
      expect(faxBodies().map((b) => b.type)).toEqual(['page', 'finished']);
      expect(faxBodies()[1].params).toMatchObject({
        document: outcome.document,
        pages: 1,
        result: ResultCode.CALL_DROPPED,
      });
    } finally {
      sender.close();
    }
  });

  test('a signal aborted before the call: call-dropped, no pages, one finished event', async () => {
    const outcome = await receiveFax(
      { status_url: server.url },
      { ...context, media: loopback() },
      { ...quiet(), signal: AbortSignal.abort() },
    );
    expect(outcome.result).toMatchObject({ code: ResultCode.CALL_DROPPED, pages: 0 });
    expect(outcome.document).toBe('');
    expect(faxBodies()).toEqual([expect.objectContaining({ type: 'finished' })]);
  });
});

describe('a request that is wrong in itself rejects with InvalidOptionError before any event', () => {
  const cases: [string, Record<string, unknown>, RegExp][] = [
    [
      'an identity over 20 characters',
      { identity: '+1 555 0100 0100 0100 99' },
      /receive_fax\.identity is 24 characters; T\.30 allows at most 20/,
    ],
    ['an identity with letters', { identity: 'ACME' }, /receive_fax\.identity may contain only digits, '\+' and space/],
    ['an unknown parameter', { document: 'https://example.com/a.pdf' }, /Unknown receive_fax parameter "document"/],
    [
      'a status_url that is not http(s)',
      { status_url: 'ftp://example.com/status' },
      /receive_fax\.status_url must be an http: or https: URL/,
    ],
  ];
  test.each(cases)('%s', async (_name, change, message) => {
    const events: FaxEvent[] = [];
    const attempt = receiveFax(
      { status_url: server.url, ...change } as ReceiveFaxParams,
      { ...context, media: loopback() },
      { ...quiet(), onEvent: (e) => events.push(e) },
    );
    await expect(attempt).rejects.toThrow(InvalidOptionError);
    await expect(attempt).rejects.toThrow(message);
    await expect(attempt).rejects.toMatchObject({ code: 'ERR_FAXLINE_INVALID_OPTION' });
    expect(events).toEqual([]);
    expect(server.requests).toEqual([]);
  });

  test.each([
    ['a loopback without a sender', { media: { kind: 'loopback' } }, 'A loopback receive needs sender.document'],
    [
      'a medium without receive()',
      { media: { kind: 'send-only', send: async () => undefined, end: () => undefined } },
      'call.media (send-only) cannot receive a fax',
    ],
  ])('%s', async (_name, call, message) => {
    const attempt = receiveFax({ status_url: server.url }, { ...context, ...(call as { media: FaxMedia }) }, quiet());
    await expect(attempt).rejects.toThrow(InvalidOptionError);
    await expect(attempt).rejects.toThrow(message);
    expect(server.requests).toEqual([]);
  });

  test.each([
    ['store and storeDir', { store: async () => '', storeDir: '/tmp' }, /give either store or storeDir/],
    ['a T.30 setting', { fax: { modems: ['v34'] } }, /modems may contain only/],
    ['storeTimeoutMs', { storeTimeoutMs: 0 }, /storeTimeoutMs must be a number of milliseconds above 0/],
  ])('bad options: %s', async (_name, options, message) => {
    await expect(
      receiveFax(
        { status_url: server.url },
        { ...context, media: loopback() },
        {
          log: () => undefined,
          allowPrivate: true,
          ...(options as ReceiveFaxOptions),
        },
      ),
    ).rejects.toThrow(message);
    expect(server.requests).toEqual([]);
  });
});
