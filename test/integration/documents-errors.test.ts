import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { ResultCode } from '../../lib';
import {
  DocumentError,
  prepareDocument,
  preparePdf,
  type DocumentFailure,
  type PrepareOptions,
} from '../../lib/document';
import { serveHttp, type LocalServer } from '../helpers/http-server';
import { emptyPdf, encryptedPdf, makePdf, photoPng, usePrivateTmpdir } from '../helpers/pdfs';

const tmpdir = usePrivateTmpdir('faxline-documents-errors-');

async function failure(promise: Promise<unknown>): Promise<DocumentError> {
  const error = await promise.then(
    () => {
      throw new Error('expected a DocumentError, but the document was prepared');
    },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(DocumentError);
  return error as DocumentError;
}

async function expectDocumentError(
  promise: Promise<unknown>,
  reason: DocumentFailure,
  detail: RegExp,
): Promise<DocumentError> {
  const error = await failure(promise);
  expect(error.reason).toBe(reason);
  expect(error.detail).toMatch(detail);
  expect(error.code).toBe('ERR_FAXLINE_DOCUMENT');
  expect(error.resultCode).toBe(reason === 'no-pages' ? ResultCode.NO_PAGE : ResultCode.FILE_ERROR);
  return error;
}

describe('a document that is not a PDF', () => {
  test.each([
    ['an HTML error page', Buffer.from('<!doctype html><html><body>Not found</body></html>'), /HTML page/],
    ['a PNG image', photoPng(40, 30), /PNG image/],
    ['an empty file', Buffer.alloc(0), /empty/],
  ])('%s is refused as not-pdf with the file-error code', async (_, bytes, detail) => {
    await expectDocumentError(preparePdf(bytes), 'not-pdf', detail);
  });
});

describe('a PDF the renderer cannot read', () => {
  test('encrypted with a user password: encrypted, file-error code', async () => {
    await expectDocumentError(preparePdf(encryptedPdf({ user: 'secret', owner: 'boss' })), 'encrypted', /password/);
  });

  test('encrypted with only an owner password: opens and renders normally', async () => {
    const prepared = await preparePdf(encryptedPdf({ user: '', owner: 'boss' }));
    expect(prepared.pages).toBe(1);
    await prepared.cleanup();
  });

  test('a header followed by garbage: corrupt', async () => {
    const bytes = Buffer.concat([Buffer.from('%PDF-1.7\n'), Buffer.alloc(20_000, 'garbage ')]);
    await expectDocumentError(preparePdf(bytes), 'corrupt', /damaged/);
  });

  test('truncated in the middle (compressed object streams, no way to rebuild): corrupt', async () => {
    const pdf = await makePdf([{ text: true }, { vector: true }, { text: true }]);
    await expectDocumentError(preparePdf(pdf.subarray(0, pdf.length >> 1)), 'corrupt', /damaged/);
  });

  test('cut off just before its cross-reference table: repaired, every page sent', async () => {
    const pdf = Buffer.from(
      await makePdf([{ text: true }, { vector: true }, { text: true }], { useObjectStreams: false }),
    );
    const prepared = await preparePdf(pdf.subarray(0, pdf.lastIndexOf('xref')));
    expect(prepared.pages).toBe(3);
    await prepared.cleanup();
  });
});

describe('page counts', () => {
  test('a PDF without pages: no-pages, with the no-page code', async () => {
    await expectDocumentError(preparePdf(await emptyPdf()), 'no-pages', /no pages/);
  });

  test('more pages than maxPages: too-many-pages, naming both numbers', async () => {
    const pdf = await makePdf(Array.from({ length: 6 }, () => ({ marks: [[10, 10, 10, 10]] })));
    const error = await expectDocumentError(preparePdf(pdf, { maxPages: 5 }), 'too-many-pages', /6 pages.*limit of 5/);
    expect(error.resultCode).toBe(ResultCode.FILE_ERROR);
    const prepared = await preparePdf(pdf, { maxPages: 6 });
    expect(prepared.pages).toBe(6);
    await prepared.cleanup();
  });

  test('the default limit is 500 pages', async () => {
    const pdf = await makePdf(Array.from({ length: 501 }, () => ({})));
    await expectDocumentError(preparePdf(pdf), 'too-many-pages', /501 pages.*limit of 500/);
  });
});

describe('fetch failures', () => {
  let server: LocalServer;
  let pdf: Uint8Array;
  beforeAll(async () => {
    pdf = await makePdf([{ text: true }]);
    server = await serveHttp((req, res) => {
      if (req.url === '/doc.pdf') res.writeHead(200, { 'content-type': 'application/pdf' }).end(pdf);
      else if (req.url === '/error.html')
        res.writeHead(200, { 'content-type': 'text/html' }).end('<html><body>Oops</body></html>');
      else if (req.url === '/slow.pdf')
        res.writeHead(200).write('%PDF-1.7\n'); // and never ends
      else res.writeHead(404).end('not here');
    });
  });
  afterAll(() => server.close());
  const local: PrepareOptions = { allowPrivate: true };

  test('a PDF served over HTTP is prepared', async () => {
    const prepared = await prepareDocument(`${server.url}/doc.pdf`, local);
    expect(prepared.pages).toBe(1);
    await prepared.cleanup();
  });

  test('HTTP 404: fetch, naming the status', async () => {
    await expectDocumentError(prepareDocument(`${server.url}/missing.pdf`, local), 'fetch', /404/);
  });

  test('an HTML page where the PDF should be: not-pdf', async () => {
    await expectDocumentError(prepareDocument(`${server.url}/error.html`, local), 'not-pdf', /HTML/);
  });

  test('a loopback address without allowPrivate: fetch (refused address)', async () => {
    await expectDocumentError(prepareDocument(`${server.url}/doc.pdf`), 'fetch', /127\.0\.0\.1|private|loopback/i);
  });

  test('more bytes than maxBytes: too-large', async () => {
    await expectDocumentError(
      prepareDocument(`${server.url}/doc.pdf`, { ...local, maxBytes: 100 }),
      'too-large',
      /100/,
    );
  });

  test('a server that stops sending: fetch, within the time limit', async () => {
    const started = Date.now();
    await expectDocumentError(prepareDocument(`${server.url}/slow.pdf`, { ...local, timeLimitMs: 700 }), 'fetch', /.+/);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  test('a missing file: fetch', async () => {
    await expectDocumentError(
      prepareDocument(pathToFileURL(path.join(tmpdir(), 'nope.pdf')).href, { allowFiles: true }),
      'fetch',
      /nope\.pdf/,
    );
  });
});

describe('limits and cancellation', () => {
  test('rendering past the time limit: corrupt, saying so, within the limit', async () => {
    const pdf = await makePdf(
      Array.from({ length: 40 }, () => ({ photo: [10, 10, 190, 270] as [number, number, number, number] })),
    );
    const started = Date.now();
    await expectDocumentError(
      preparePdf(pdf, { timeLimitMs: 300, resolution: 'superfine' }),
      'corrupt',
      /time limit of 0.3 s/,
    );
    expect(Date.now() - started).toBeLessThan(3_000);
  });

  test('an abort while rendering rejects with the signal reason (not a DocumentError) and leaves nothing', async () => {
    const pdf = await makePdf(Array.from({ length: 30 }, () => ({ text: true })));
    const controller = new AbortController();
    const error = await preparePdf(pdf, { signal: controller.signal, onPage: () => controller.abort() }).catch(
      (e: unknown) => e,
    );
    expect(error).not.toBeInstanceOf(DocumentError);
    expect((error as Error).name).toBe('AbortError');
  });

  test('an abort with a reason of the caller rejects with that reason', async () => {
    const controller = new AbortController();
    const reason = new Error('hung up');
    const pending = preparePdf(await makePdf([{ text: true }]), { signal: controller.signal });
    controller.abort(reason);
    await expect(pending).rejects.toBe(reason);
  });

  test('an abort while fetching rejects with the signal reason', async () => {
    const server = await serveHttp((_req, res) => res.writeHead(200).write('%PDF-1.7\n'));
    try {
      const controller = new AbortController();
      setTimeout(() => controller.abort(), 200);
      const error = await prepareDocument(`${server.url}/x.pdf`, {
        allowPrivate: true,
        signal: controller.signal,
      }).catch((e: unknown) => e);
      expect((error as Error).name).toBe('AbortError');
    } finally {
      await server.close();
    }
  });

  test('an already aborted signal rejects before any work', async () => {
    await expect(preparePdf(await makePdf([{}]), { signal: AbortSignal.abort() })).rejects.toMatchObject({
      name: 'AbortError',
    });
  });

  test('a throwing onPage rejects with its error and leaves nothing', async () => {
    const oops = new Error('progress failed');
    const pdf = await makePdf([{ text: true }, { text: true }]);
    await expect(
      preparePdf(pdf, {
        onPage: () => {
          throw oops;
        },
      }),
    ).rejects.toBe(oops);
  });
});

describe('options', () => {
  test.each([
    [{ resolution: 'ultra' }, /resolution/],
    [{ maxPages: 0 }, /maxPages/],
    [{ maxPages: 2.5 }, /maxPages/],
    [{ conversion: 'dither' }, /conversion/],
    [{ compression: 'jbig' }, /compression/],
    [{ timeLimitMs: -1 }, /timeLimitMs/],
    [{ onPage: 'yes' }, /onPage/],
  ])('%p is refused with InvalidOptionError', async (options, message) => {
    const pdf = await makePdf([{}]);
    await expect(preparePdf(pdf, options as PrepareOptions)).rejects.toMatchObject({
      code: 'ERR_FAXLINE_INVALID_OPTION',
      message,
    });
  });
});
