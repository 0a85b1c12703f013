/**
 * Every kind of bad document, end to end through sendFax: a failed fax (never an exception)
 * with SpanDSP's file-error or no-page code, the cause in `detail`, exactly one `finished`
 * status event, and nothing left in the temp folder.
 */
import type * as http from 'node:http';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { LoopbackMedia, ResultCode, resultText, sendFax, type SendFaxOptions } from '../../lib';
import { serveRoutes, type LocalServer } from '../helpers/http-server';
import {
  A4_LEFT_MM,
  emptyPdf,
  encryptedPdf,
  expectBlank,
  expectMark,
  makePdf,
  usePrivateTmpdir,
} from '../helpers/pdfs';
import { startStatusServer, type StatusServer } from '../helpers/status-server';

usePrivateTmpdir('faxline-send-fax-bad-');

const context = { project_id: 'p', space_id: 's', call_id: 'c', node_id: 'n', swml_session_id: 'w' };
const IDENTITY = '+1 555 0100';

let documents: LocalServer;
let status: StatusServer;
beforeAll(async () => {
  const pdf = (bytes: Uint8Array): http.RequestListener => {
    return (_req, res) => res.writeHead(200, { 'content-type': 'application/pdf' }).end(bytes);
  };
  const threePages = await makePdf([{ text: true }, { vector: true }, { text: true }]);
  const routes: Record<string, http.RequestListener> = {
    '/error-page.pdf': (_req, res) =>
      res.writeHead(200, { 'content-type': 'text/html' }).end('<!DOCTYPE html><title>Sign in</title>'),
    '/locked.pdf': pdf(encryptedPdf({ user: 'secret', owner: 'boss' })),
    '/owner-only.pdf': pdf(encryptedPdf({ user: '', owner: 'boss' })),
    '/garbage.pdf': pdf(Buffer.concat([Buffer.from('%PDF-1.7\n'), Buffer.alloc(20_000, 'garbage ')])),
    '/truncated.pdf': pdf(threePages.subarray(0, threePages.length >> 1)),
    '/no-pages.pdf': pdf(await emptyPdf()),
    '/three-pages.pdf': pdf(threePages),
    '/server-error.pdf': (_req, res) => res.writeHead(500).end('internal error'),
    // The headers and the first bytes, then nothing more.
    '/stalls.pdf': (_req, res) => res.writeHead(200, { 'content-type': 'application/pdf' }).write('%PDF-1.7\n'),
    '/hop-1': (_req, res) => res.writeHead(302, { location: '/hop-2' }).end(),
    '/hop-2': (_req, res) => res.writeHead(302, { location: '/three-pages.pdf' }).end(),
  };
  documents = await serveRoutes(routes);
});
afterAll(() => documents.close());
beforeEach(async () => {
  status = await startStatusServer();
});
afterEach(() => status.close());

function send(document: string, options: SendFaxOptions['document'] = {}, media = new LoopbackMedia()) {
  return sendFax(
    { document, identity: IDENTITY, status_url: status.url },
    { ...context, media },
    { allowPrivate: true, log: () => undefined, document: options, callbacks: { backoffMs: 20 } },
  );
}

describe('a document that cannot be sent fails the fax, with one finished event and no temp files', () => {
  test.each([
    ['not a PDF (an HTML page named .pdf)', '/error-page.pdf', {}, ResultCode.FILE_ERROR, /HTML page/],
    ['encrypted with a user password', '/locked.pdf', {}, ResultCode.FILE_ERROR, /password/],
    ['corrupt', '/garbage.pdf', {}, ResultCode.FILE_ERROR, /damaged/],
    ['truncated beyond repair', '/truncated.pdf', {}, ResultCode.FILE_ERROR, /damaged/],
    ['without pages', '/no-pages.pdf', {}, ResultCode.NO_PAGE, /no pages/],
    ['more pages than maxPages', '/three-pages.pdf', { maxPages: 2 }, ResultCode.FILE_ERROR, /3 pages.*limit of 2/],
    ['an HTTP error status', '/server-error.pdf', {}, ResultCode.FILE_ERROR, /HTTP 500/],
    ['a server that stops sending (timeoutMs)', '/stalls.pdf', { timeoutMs: 300 }, ResultCode.FILE_ERROR, /0\.3 s/],
    [
      'more bytes than maxBytes',
      '/three-pages.pdf',
      { maxBytes: 100 },
      ResultCode.FILE_ERROR,
      /is larger than the 100 bytes limit/,
    ],
    ['more redirects than maxRedirects', '/hop-1', { maxRedirects: 1 }, ResultCode.FILE_ERROR, /more than 1 redirect/],
  ])('%s', async (_name, route, options, code, detail) => {
    const url = `${documents.url}${route}`;
    const media = new LoopbackMedia();
    const outcome = await send(url, options, media);

    expect(outcome.variables).toEqual({
      send_fax_document: url,
      send_fax_identity: IDENTITY,
      send_fax_remote_identity: '',
      send_fax_pages: '0',
      send_fax_result_code: String(code),
      send_fax_result_text: resultText(code),
      send_fax_result: 'failed',
    });
    expect(outcome.detail).toMatch(detail);
    expect(outcome.result).toMatchObject({ code, success: false, pages: 0, detail: outcome.detail });
    expect(outcome.documentPages).toBe(0);
    // The modem never started: nothing went over the line.
    expect(outcome.durationMs).toBe(0);
    expect(media.call).toBeNull();
    expect(status.requests.map((r) => r.json.params.fax)).toEqual([
      {
        type: 'finished',
        params: {
          direction: 'send',
          identity: IDENTITY,
          remote_identity: '',
          document: url,
          pages: 0,
          success: false,
          result: code,
          result_text: resultText(code),
          format: 'pdf',
        },
      },
    ]);
  });
});

describe('a PDF encrypted with only an owner password', () => {
  test('is sent like any other: the receiver gets its page with the rectangle drawn on it', async () => {
    const media = new LoopbackMedia();
    const outcome = await send(`${documents.url}/owner-only.pdf`, {}, media);
    expect(outcome.variables).toMatchObject({ send_fax_result: 'success', send_fax_pages: '1' });
    expect(status.requests.map((r) => r.json.params.fax.type)).toEqual(['page', 'finished']);
    const [page] = media.call!.receivedPages;
    // The rectangle: 70 × 35 mm at 18 mm from the A4 page's left and 40 mm from its top; paper below.
    expectMark(page!, [A4_LEFT_MM + 18, 40, 70, 35]);
    expectBlank(page!, [A4_LEFT_MM + 18, 80, 70, 30]);
  });
});

describe('a file: document is the host’s to permit (allowFiles)', () => {
  const examples = path.resolve(__dirname, '../../examples');
  const cases = [
    ['a PDF', 'sample.pdf'],
    // A TIFF-F file is sent as it is, without fetchBytes: refused all the same.
    ['a TIFF-F file', 'sample.tif'],
    // The same refusal as for a file that exists: nothing is told about the host's disk.
    ['a missing file', 'absent.tif'],
  ];

  test.each(cases)(
    '%s without allowFiles is refused before it is opened: FILE_ERROR, the refusal in detail, nothing sent',
    async (_name, file) => {
      const url = pathToFileURL(path.join(examples, file)).href;
      const media = new LoopbackMedia();
      const outcome = await send(url, {}, media);

      expect(outcome.variables).toEqual({
        send_fax_document: url,
        send_fax_identity: IDENTITY,
        send_fax_remote_identity: '',
        send_fax_pages: '0',
        send_fax_result_code: String(ResultCode.FILE_ERROR),
        send_fax_result_text: resultText(ResultCode.FILE_ERROR),
        send_fax_result: 'failed',
      });
      expect(outcome.detail).toBe(`file: URLs are refused: ${url} (a local file; allowFiles to permit)`);
      expect(outcome.result).toMatchObject({ code: ResultCode.FILE_ERROR, success: false, pages: 0 });
      expect(outcome.documentPages).toBe(0);
      expect(outcome.durationMs).toBe(0);
      expect(media.call).toBeNull();
      expect(status.requests.map((r) => r.json.params.fax)).toEqual([
        {
          type: 'finished',
          params: expect.objectContaining({ document: url, pages: 0, success: false, result: ResultCode.FILE_ERROR }),
        },
      ]);
    },
  );

  test.each(cases.slice(0, 2))('%s with allowFiles is sent', async (_name, file) => {
    const url = pathToFileURL(path.join(examples, file)).href;
    const outcome = await sendFax(
      { document: url },
      { media: { kind: 'loopback' } },
      { allowFiles: true, log: () => undefined },
    );
    expect(outcome.variables).toMatchObject({ send_fax_result: 'success', send_fax_pages: '2' });
  });
});
