import * as fs from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  InvalidOptionError,
  LoopbackMedia,
  ResultCode,
  resultText,
  sendFax,
  type FaxMedia,
  type SendFaxEvent,
  type SendFaxOptions,
  type SendFaxParams,
  type SendOptions,
} from '../../lib';
import { serveHttp, type LocalServer } from '../helpers/http-server';
import { startStatusServer, type StatusServer } from '../helpers/status-server';
import { differingRows, tempDir, writeDamagedTiff, writeTextDocument } from '../helpers/pages';

const context = { project_id: 'p', space_id: 's', call_id: 'c', node_id: 'n', swml_session_id: 'w' };
const quiet: SendFaxOptions = { log: () => undefined, allowPrivate: true };
// For file: documents, which only the host may permit.
const local: SendFaxOptions = { ...quiet, allowFiles: true };

let tmp: ReturnType<typeof tempDir>;
let doc: ReturnType<typeof writeTextDocument>;
let docUrl: string;
beforeAll(() => {
  tmp = tempDir();
  doc = writeTextDocument(tmp.dir, 2, { firstSeed: 51 });
  docUrl = pathToFileURL(doc.file).href;
});
afterAll(() => tmp.cleanup());

describe('sendFax on the loopback', () => {
  test('resolves to the seven variables as SWML strings, the typed result, stats and trace', async () => {
    const media = new LoopbackMedia({ receiver: { identity: '+44 20 7946 0000' } });
    const outcome = await sendFax(
      { document: docUrl, identity: '+1 555 0100', header_info: 'ACME Corp' },
      { ...context, media },
      local,
    );
    expect(outcome.variables).toEqual({
      send_fax_document: docUrl,
      send_fax_identity: '+1 555 0100',
      send_fax_remote_identity: '+44 20 7946 0000',
      send_fax_pages: '2',
      send_fax_result_code: String(ResultCode.OK),
      send_fax_result_text: 'OK',
      send_fax_result: 'success',
    });
    for (const value of Object.values(outcome.variables)) expect(typeof value).toBe('string');
    expect(outcome.result).toMatchObject({
      code: ResultCode.OK,
      text: 'OK',
      success: true,
      pages: 2,
      detail: '',
      remoteIdentity: '+44 20 7946 0000',
    });
    expect(outcome.stats).toBe(outcome.result.stats);
    expect(outcome.stats).toMatchObject({ bitRate: 14400, ecm: true, pagesTransferred: 2 });
    expect(outcome.documentPages).toBe(2);
    expect(outcome.durationMs).toBeGreaterThan(10_000);
    expect(outcome.callbacks).toBeNull();
    expect(outcome.trace.frames.map((f) => f.name)).toEqual(
      expect.arrayContaining(['DIS', 'DCS', 'CFR', 'MCF', 'DCN']),
    );
    // The header line is printed into the top of each page the receiver got.
    expect(media.call!.receivedPages).toHaveLength(2);
    expect(differingRows(media.call!.receivedPages[1]!, doc.pages[1]!)).toBeGreaterThan(0);
  });

  test('accepts a plain { kind: "loopback" } as the media', async () => {
    const outcome = await sendFax({ document: docUrl }, { media: { kind: 'loopback' } }, local);
    expect(outcome.variables.send_fax_result).toBe('success');
  });

  test('reports progress: the sending terminal’s events, in order, through onEvent', async () => {
    const events: SendFaxEvent[] = [];
    await sendFax({ document: docUrl }, { media: { kind: 'loopback' } }, { ...local, onEvent: (e) => events.push(e) });
    const types = events.filter((e) => e.type !== 'frame').map((e) => (e.type === 'page' ? `page ${e.page}` : e.type));
    expect(types).toEqual(['document', 'negotiated', 'page 1', 'page 2', 'finished']);
    expect(events[0]).toEqual({ type: 'document', page: 2, pages: 2 });
  });

  test('a listener that throws does not break the fax', async () => {
    const outcome = await sendFax(
      { document: docUrl },
      { media: { kind: 'loopback' } },
      {
        ...local,
        onEvent: () => {
          throw new Error('listener bug');
        },
      },
    );
    expect(outcome.result.success).toBe(true);
  });
});

describe('identity', () => {
  test.each([
    ['+15550100', '+15550100'],
    ['tel:+1-555-0100', '+15550100'],
    ['(555) 010.0100', '555 0100100'],
    ['sip:alice@example.com', ''],
    ['+1 555 0100 0000 0000 0000', ''],
  ])('defaults from caller id %j to %j', async (callerId, identity) => {
    const outcome = await sendFax({ document: docUrl }, { caller_id: callerId, media: { kind: 'loopback' } }, local);
    expect(outcome.variables.send_fax_identity).toBe(identity);
    expect(outcome.identity).toBe(identity);
  });

  test('given explicitly wins over the caller id', async () => {
    const outcome = await sendFax(
      { document: docUrl, identity: '555 0199' },
      { caller_id: '+15550100', media: { kind: 'loopback' } },
      local,
    );
    expect(outcome.variables.send_fax_identity).toBe('555 0199');
  });
});

describe('a request that is wrong in itself rejects with InvalidOptionError before anything starts', () => {
  let server: StatusServer;
  beforeAll(async () => (server = await startStatusServer()));
  afterAll(() => server.close());

  const cases: [string, Record<string, unknown>, RegExp][] = [
    [
      'an identity over 20 characters',
      { identity: '+1 555 0100 0100 0100 99' },
      /send_fax\.identity is 24 characters; T\.30 allows at most 20/,
    ],
    ['an identity with letters', { identity: 'ACME' }, /send_fax\.identity may contain only digits, '\+' and space/],
    [
      'a header_info over 50 characters',
      { header_info: 'x'.repeat(51) },
      /send_fax\.header_info is 51 characters; at most 50/,
    ],
    [
      'a header_info that is not printable ASCII',
      { header_info: 'Grüße' },
      /send_fax\.header_info may contain only printable ASCII/,
    ],
    [
      'a status_url that does not parse',
      { status_url: 'https//example.com/status' },
      /send_fax\.status_url "https\/\/example\.com\/status" is not an absolute URL \(did you mean "https:\/\/example\.com\/status"\?\)/,
    ],
    [
      'a status_url that is not http(s)',
      { status_url: 'ftp://example.com/status' },
      /send_fax\.status_url must be an http: or https: URL/,
    ],
    ['an unknown parameter', { statusurl: 'http://example.com' }, /Unknown send_fax parameter "statusurl"/],
    ['a document that is not a string', { document: 42 }, /Expected a string for send_fax\.document but got number/],
    ['no document', { document: undefined }, /send_fax\.document is required/],
  ];
  test.each(cases)('%s', async (_name, change, message) => {
    const params = { document: docUrl, status_url: server.url, ...change } as unknown as SendFaxParams;
    const events: SendFaxEvent[] = [];
    const attempt = sendFax(
      params,
      { ...context, media: { kind: 'loopback' } },
      { ...quiet, onEvent: (e) => events.push(e) },
    );
    await expect(attempt).rejects.toThrow(InvalidOptionError);
    await expect(attempt).rejects.toThrow(message);
    await expect(attempt).rejects.toMatchObject({ code: 'ERR_FAXLINE_INVALID_OPTION' });
    expect(events).toEqual([]);
    expect(server.requests).toEqual([]);
  });

  test('a status_url without the call ids the events carry', async () => {
    await expect(
      sendFax({ document: docUrl, status_url: server.url }, { media: { kind: 'loopback' } }, quiet),
    ).rejects.toThrow(/call\.project_id is required with a status_url/);
  });

  test.each([
    ['an unknown media kind', { media: { kind: 'rtp' } }, /call\.media must be a FaxMedia/],
    ['no media', {}, /Expected an object for call\.media/],
    [
      'a loopback whose receiver.answers is not a boolean',
      { media: { kind: 'loopback', receiver: { answers: 'no' } } },
      /Expected a boolean for receiver\.answers but got string/,
    ],
    [
      'a call id that is not a string',
      { media: { kind: 'loopback' }, call_id: 7 },
      /Expected a string for call\.call_id/,
    ],
  ])('%s', async (_name, call, message) => {
    await expect(sendFax({ document: docUrl }, call as never, quiet)).rejects.toThrow(message);
  });

  test.each([
    ['resolution', { resolution: 'ultra' }, /resolution must be/],
    ['a T.30 setting', { fax: { modems: ['v34'] } }, /modems may contain only/],
    ['callback timeout', { callbacks: { timeoutMs: -1 } }, /callback timeoutMs/],
    ['allowFiles', { allowFiles: 'yes' }, /Expected a boolean for allowFiles but got string/],
  ])('bad options: %s', async (_name, options, message) => {
    await expect(
      sendFax(
        { document: docUrl, status_url: server.url },
        { ...context, media: { kind: 'loopback' } },
        { ...quiet, ...(options as SendFaxOptions) },
      ),
    ).rejects.toThrow(message);
    expect(server.requests).toEqual([]);
  });
});

describe('a paced loopback has what the unpaced one has', () => {
  test('recordAudio, hangUpAtMs and a receiver that does not answer: hung up at 1 s, 1 s of audio each way', async () => {
    const media = new LoopbackMedia({
      paced: true,
      recordAudio: true,
      hangUpAtMs: 1_000,
      receiver: { answers: false },
    });
    const outcome = await media.send({ document: doc.file }, { onEvent: () => undefined });
    expect(outcome.result).toMatchObject({
      code: ResultCode.CALL_DROPPED,
      pages: 0,
      detail: 'both ends hung up at 1 s of line time (hangUpAtMs)',
    });
    expect(outcome.durationMs).toBe(1_000);
    expect(media.call!.receiver).toBeNull();
    expect(media.call!.audio!.sent).toHaveLength(8_000);
    expect(media.call!.audio!.sent.some((s) => Math.abs(s) > 1000)).toBe(true);
    // Nobody answered: the line back to the sender is silent.
    expect(media.call!.audio!.received).toEqual(new Int16Array(8_000));
  });
});

describe('a document that cannot be sent is a failed fax, not an error', () => {
  test("the docs' example https//example.com/fax_to_send.pdf: FILE_ERROR and a detail that points at the slip", async () => {
    const outcome = await sendFax(
      { document: 'https//example.com/fax_to_send.pdf' },
      { media: { kind: 'loopback' } },
      quiet,
    );
    expect(outcome.variables).toEqual({
      send_fax_document: 'https//example.com/fax_to_send.pdf',
      send_fax_identity: '',
      send_fax_remote_identity: '',
      send_fax_pages: '0',
      send_fax_result_code: String(ResultCode.FILE_ERROR),
      send_fax_result_text: resultText(ResultCode.FILE_ERROR),
      send_fax_result: 'failed',
    });
    expect(outcome.detail).toBe(
      'send_fax.document "https//example.com/fax_to_send.pdf" is not an absolute URL (did you mean "https://example.com/fax_to_send.pdf"?)',
    );
    expect(outcome.durationMs).toBe(0);
    expect(outcome.trace.entries).toEqual([
      expect.objectContaining({ kind: 'finished', code: ResultCode.FILE_ERROR, success: false }),
    ]);
  });

  test('an unsupported scheme: FILE_ERROR', async () => {
    const outcome = await sendFax({ document: 'ftp://example.com/a.pdf' }, { media: { kind: 'loopback' } }, quiet);
    expect(outcome.result).toMatchObject({ code: ResultCode.FILE_ERROR, success: false });
    expect(outcome.detail).toMatch(/unsupported scheme ftp:/);
  });

  test('a TIFF that does not exist: FILE_ERROR with the engine’s detail', async () => {
    const missing = pathToFileURL(path.join(tmp.dir, 'nope.tif')).href;
    const outcome = await sendFax({ document: missing }, { media: { kind: 'loopback' } }, local);
    expect(outcome.result).toMatchObject({ code: ResultCode.FILE_ERROR, success: false, pages: 0 });
    expect(outcome.detail).toMatch(/nope\.tif cannot be opened/);
  });

  test('a preparer failure that is not a DocumentError still ends as FILE_ERROR with its message', async () => {
    const outcome = await sendFax(
      { document: 'https://example.com/a.pdf' },
      { media: { kind: 'loopback' } },
      {
        ...quiet,
        prepareDocument: async () => {
          throw new Error('renderer crashed');
        },
      },
    );
    expect(outcome.result).toMatchObject({ code: ResultCode.FILE_ERROR, detail: 'renderer crashed' });
  });

  test('a local TIFF is checked before the medium gets it; its damage fails the fax', async () => {
    const damaged = writeDamagedTiff(tmp.dir);
    const sent: SendOptions[] = [];
    const media: FaxMedia = {
      kind: 'recorder',
      send: async (options) => {
        sent.push(options);
        throw new Error('the medium should not be reached');
      },
      receive: async () => {
        throw new Error('the medium should not be reached');
      },
      end: () => undefined,
    };
    const outcome = await sendFax({ document: pathToFileURL(damaged).href }, { media }, local);
    expect(sent).toEqual([]);
    expect(outcome.result).toMatchObject({ code: ResultCode.FILE_ERROR, success: false, pages: 0 });
    expect(outcome.detail).toMatch(/^page 2 cannot be decoded at row 0/);
  });

  test('a TIFF from the host’s own preparer is checked too; its damage fails the fax', async () => {
    const damaged = writeDamagedTiff(tmp.dir);
    const media = new LoopbackMedia();
    const outcome = await sendFax(
      { document: 'https://example.com/a.pdf' },
      { media },
      { ...quiet, prepareDocument: async () => ({ file: damaged, pages: 2, cleanup: async () => undefined }) },
    );
    expect(media.call).toBeNull();
    expect(outcome.result).toMatchObject({ code: ResultCode.FILE_ERROR, success: false, pages: 0 });
    expect(outcome.result.stats.pagesInFile).toBe(2);
    expect(outcome.detail).toMatch(/^page 2 cannot be decoded at row 0/);
  });

  test('a file: document is refused without allowFiles before the host’s own preparer runs', async () => {
    let prepared = false;
    const outcome = await sendFax(
      { document: docUrl },
      { media: { kind: 'loopback' } },
      {
        ...quiet,
        prepareDocument: async () => {
          prepared = true;
          return { file: doc.file, pages: 2, cleanup: async () => undefined };
        },
      },
    );
    expect(prepared).toBe(false);
    expect(outcome.result).toMatchObject({ code: ResultCode.FILE_ERROR, success: false, pages: 0 });
    expect(outcome.detail).toBe(`file: URLs are refused: ${docUrl} (a local file; allowFiles to permit)`);
  });

  test('the medium always makes its session with pagesChecked: faxline wrote the pages or sendFax checked them', async () => {
    const sent: SendOptions[] = [];
    const recorder = (): LoopbackMedia => {
      const media = new LoopbackMedia();
      const send = media.send.bind(media);
      media.send = (options, control) => {
        sent.push(options);
        return send(options, control);
      };
      return media;
    };
    const samplePdf = pathToFileURL(path.resolve(__dirname, '../../examples/sample.pdf')).href;
    expect((await sendFax({ document: samplePdf }, { media: recorder() }, local)).result.success).toBe(true);
    expect((await sendFax({ document: docUrl }, { media: recorder() }, local)).result.success).toBe(true);
    expect(sent.map((o) => o.pagesChecked)).toEqual([true, true]);
  });

  test('the prepared document is cleaned up after the fax', async () => {
    const copy = path.join(tmp.dir, 'prepared.tif');
    fs.copyFileSync(doc.file, copy);
    let cleaned = false;
    const events: SendFaxEvent[] = [];
    const outcome = await sendFax(
      { document: 'https://example.com/a.pdf' },
      { media: { kind: 'loopback' } },
      {
        ...quiet,
        onEvent: (e) => events.push(e),
        prepareDocument: async (_url, options) => {
          options.onPage?.(1, 2);
          options.onPage?.(2, 2);
          return { file: copy, pages: 2, cleanup: async () => void (cleaned = true) };
        },
      },
    );
    expect(outcome.result.success).toBe(true);
    expect(cleaned).toBe(true);
    expect(events.filter((e) => e.type === 'document')).toEqual([
      { type: 'document', page: 1, pages: 2 },
      { type: 'document', page: 2, pages: 2 },
    ]);
  });
});

describe('hang-up and cancel', () => {
  test('the call ending mid-fax (loopback hang-up at 80 s) gives call-dropped, the pages so far and the trace up to there', async () => {
    const outcome = await sendFax({ document: docUrl }, { media: new LoopbackMedia({ hangUpAtMs: 80_000 }) }, local);
    expect(outcome.result).toMatchObject({ code: ResultCode.CALL_DROPPED, success: false, pages: 1 });
    expect(outcome.variables).toMatchObject({
      send_fax_result: 'failed',
      send_fax_result_code: String(ResultCode.CALL_DROPPED),
      send_fax_pages: '1',
    });
    expect(outcome.trace.entries.at(-1)).toMatchObject({ kind: 'finished', code: ResultCode.CALL_DROPPED });
  });

  test('a signal aborted before the fax starts: call-dropped, no pages, one finished event', async () => {
    const server = await startStatusServer();
    try {
      const outcome = await sendFax(
        { document: docUrl, status_url: server.url },
        { ...context, media: { kind: 'loopback' } },
        { ...local, signal: AbortSignal.abort() },
      );
      expect(outcome.result).toMatchObject({ code: ResultCode.CALL_DROPPED, pages: 0 });
      expect(server.requests.map((r) => r.json.params.fax)).toEqual([
        expect.objectContaining({
          type: 'finished',
          params: expect.objectContaining({ success: false, result: ResultCode.CALL_DROPPED, pages: 0 }),
        }),
      ]);
    } finally {
      await server.close();
    }
  });

  test('a signal aborted while the document is prepared: call-dropped with a detail saying so', async () => {
    const controller = new AbortController();
    const outcome = await sendFax(
      { document: 'https://example.com/a.pdf' },
      { media: { kind: 'loopback' } },
      {
        ...quiet,
        signal: controller.signal,
        prepareDocument: (_url, options) =>
          new Promise((_resolve, reject) => {
            options.signal?.addEventListener('abort', () => reject(new Error('aborted')));
            controller.abort();
          }),
      },
    );
    expect(outcome.result).toMatchObject({ code: ResultCode.CALL_DROPPED, pages: 0 });
    expect(outcome.detail).toBe('the call ended while the document was being prepared');
  });
});

describe('a PDF document', () => {
  const samplePdf = path.resolve(__dirname, '../../examples/sample.pdf');
  let server: LocalServer;
  let base: string;
  beforeAll(async () => {
    server = await serveHttp((req, res) => {
      if (req.url === '/letter.pdf')
        res.writeHead(200, { 'content-type': 'application/pdf' }).end(fs.readFileSync(samplePdf));
      else res.writeHead(404).end('not here');
    });
    base = server.url;
  });
  afterAll(() => server.close());

  test.each(['standard', 'fine', 'superfine'] as const)(
    'examples/sample.pdf is rendered at %s resolution and faxed: 2 pages',
    async (resolution) => {
      const media = new LoopbackMedia();
      const outcome = await sendFax({ document: pathToFileURL(samplePdf).href }, { media }, { ...local, resolution });
      expect(outcome.variables).toMatchObject({ send_fax_result: 'success', send_fax_pages: '2' });
      expect(outcome.documentPages).toBe(2);
      expect(outcome.stats.resolution).toBe(resolution);
      expect(media.call!.receivedPages.map((p) => p.width)).toEqual([1728, 1728]);
    },
  );

  test('fetched over http from 127.0.0.1 with allowPrivate', async () => {
    const outcome = await sendFax({ document: `${base}/letter.pdf` }, { media: { kind: 'loopback' } }, quiet);
    expect(outcome.variables).toMatchObject({ send_fax_result: 'success', send_fax_pages: '2' });
  });

  test('from 127.0.0.1 without allowPrivate: refused, FILE_ERROR, the cause in detail', async () => {
    const outcome = await sendFax(
      { document: `${base}/letter.pdf` },
      { media: { kind: 'loopback' } },
      { log: () => undefined },
    );
    expect(outcome.result).toMatchObject({ code: ResultCode.FILE_ERROR, success: false, pages: 0 });
    expect(outcome.detail).toMatch(/refused address 127\.0\.0\.1/);
  });

  test('a 404: FILE_ERROR with "HTTP 404" in detail', async () => {
    const outcome = await sendFax({ document: `${base}/gone.pdf` }, { media: { kind: 'loopback' } }, quiet);
    expect(outcome.result).toMatchObject({ code: ResultCode.FILE_ERROR, success: false });
    expect(outcome.detail).toMatch(/HTTP 404/);
  });
});
