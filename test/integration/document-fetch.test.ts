import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { PDFDocument, StandardFonts } from 'pdf-lib';
import { PNG } from 'pngjs';
import { fetchDocument } from '../../lib/document/fetch';
import { DocumentError, type DocumentFailure } from '../../lib/document/errors';
import { ResultCode } from '../../lib/base/result-codes';
import { NetError, type NetFailure } from '../../lib/net';
import { serveRoutes, type LocalServer } from '../helpers/http-server';

const servers: LocalServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

/** An HTTP server on 127.0.0.1 serving `routes` by path; anything else is a 404 HTML page. */
async function serve(routes: Record<string, http.RequestListener>): Promise<LocalServer> {
  const server = await serveRoutes(routes, (_req, res) =>
    res.writeHead(404, { 'content-type': 'text/html' }).end('<!DOCTYPE html><title>404</title>'),
  );
  servers.push(server);
  return server;
}

const body =
  (bytes: Buffer | string, type = 'application/pdf'): http.RequestListener =>
  (_req, res) =>
    res.writeHead(200, { 'content-type': type }).end(bytes);

/** The DocumentError a fetch rejects with, checked for its reason and SpanDSP code. */
async function failure(promise: Promise<unknown>, reason: DocumentFailure, netReason?: NetFailure) {
  const error = await promise.then(
    () => {
      throw new Error(`expected a DocumentError '${reason}' but the fetch resolved`);
    },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(DocumentError);
  const doc = error as DocumentError;
  expect(doc.code).toBe('ERR_FAXLINE_DOCUMENT');
  expect(doc.reason).toBe(reason);
  expect(doc.resultCode).toBe(ResultCode.FILE_ERROR);
  expect(doc.message).toBe(doc.detail);
  if (netReason) {
    expect(doc.cause).toBeInstanceOf(NetError);
    expect((doc.cause as NetError).reason).toBe(netReason);
    expect(doc.detail).toBe((doc.cause as NetError).message);
  }
  return doc;
}

const allow = { allowPrivate: true };
let pdf: Buffer;
let png: Buffer;
// The start of a JFIF file: enough for anything that looks at magic bytes.
const jpeg = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x00, 0x01, 0x01, 0x00]);
let dir: string;

beforeAll(async () => {
  const doc = await PDFDocument.create();
  const font = await doc.embedFont(StandardFonts.Helvetica);
  doc.addPage([595, 842]).drawText('faxline fetch test', { x: 72, y: 770, size: 18, font });
  pdf = Buffer.from(await doc.save());
  const image = new PNG({ width: 4, height: 4 });
  image.data.fill(0x80);
  png = PNG.sync.write(image);
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'faxline-docfetch-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('a PDF is fetched whole', () => {
  test('over http, byte for byte', async () => {
    const server = await serve({ '/doc.pdf': body(pdf) });
    const bytes = await fetchDocument(`${server.url}/doc.pdf`, allow);
    expect(bytes.equals(pdf)).toBe(true);
  });

  test('through a redirect', async () => {
    const server = await serve({
      '/old.pdf': (_req, res) => res.writeHead(301, { location: '/doc.pdf' }).end(),
      '/doc.pdf': body(pdf),
    });
    expect((await fetchDocument(`${server.url}/old.pdf`, allow)).equals(pdf)).toBe(true);
  });

  test('from a file: URL', async () => {
    const file = path.join(dir, 'doc.pdf');
    fs.writeFileSync(file, pdf);
    expect((await fetchDocument(pathToFileURL(file).href, { allowFiles: true })).equals(pdf)).toBe(true);
  });

  test('from a data: URL', async () => {
    const bytes = await fetchDocument(`data:application/pdf;base64,${pdf.toString('base64')}`, {});
    expect(bytes.equals(pdf)).toBe(true);
  });

  test('whatever the Content-Type says, when the bytes are a PDF', async () => {
    const server = await serve({ '/download': body(pdf, 'application/octet-stream') });
    expect((await fetchDocument(`${server.url}/download`, allow)).equals(pdf)).toBe(true);
  });

  test('with junk before the %PDF- header within the first 1024 bytes', async () => {
    const padded = Buffer.concat([Buffer.alloc(1000, 0x20), pdf]);
    const server = await serve({ '/doc.pdf': body(padded) });
    expect((await fetchDocument(`${server.url}/doc.pdf`, allow)).equals(padded)).toBe(true);
  });
});

describe('content that is not a PDF fails with not-pdf and says what it looks like', () => {
  test.each([
    [
      'an HTML page served as .pdf',
      () => Buffer.from('<!DOCTYPE html>\n<html><body>Sign in</body></html>'),
      /an HTML page/,
    ],
    [
      'an HTML page without a doctype',
      () => Buffer.from('\n  <HTML><HEAD><TITLE>Error</TITLE></HEAD></HTML>'),
      /an HTML page/,
    ],
    ['a GIF named .pdf', () => Buffer.from('GIF89a\x01\x00\x01\x00', 'latin1'), /a GIF image/],
    ['an empty body', () => Buffer.alloc(0), /empty/],
    ['plain text', () => Buffer.from('This is not a PDF.\n'), /plain text/],
    [
      'a PDF header after the first 1024 bytes',
      () => Buffer.concat([Buffer.alloc(1100, 0x20), Buffer.from('%PDF-1.4')]),
      /plain text/,
    ],
  ])('%s', async (_name, content, looksLike) => {
    const bytes = content();
    const server = await serve({ '/doc.pdf': body(bytes) });
    const error = await failure(fetchDocument(`${server.url}/doc.pdf`, allow), 'not-pdf');
    expect(error.detail).toMatch(looksLike);
    expect(error.detail).toContain(`${server.url}/doc.pdf is not a PDF`);
    expect(error.detail).toContain(`${bytes.length} bytes`);
  });

  test('the declared Content-Type is named too', async () => {
    const server = await serve({ '/doc.pdf': body('<html><body>x</body></html>', 'text/html; charset=utf-8') });
    const error = await failure(fetchDocument(`${server.url}/doc.pdf`, allow), 'not-pdf');
    expect(error.detail).toContain('Content-Type text/html; charset=utf-8');
  });

  test('a GIF in a data: URL', async () => {
    const gif = Buffer.from('GIF89a\x01\x00\x01\x00', 'latin1');
    const error = await failure(fetchDocument(`data:image/gif;base64,${gif.toString('base64')}`, {}), 'not-pdf');
    expect(error.detail).toMatch(/a GIF image \(Content-Type image\/gif/);
    expect(error.detail).toContain('is not a PDF, PNG or JPEG');
  });

  test.each([
    ['a PNG named .pdf', () => png],
    ['a JPEG named .pdf', () => jpeg],
  ])('%s is fetched as an image document, byte for byte', async (_name, content) => {
    const bytes = content();
    const server = await serve({ '/doc.pdf': body(bytes) });
    const fetched = await fetchDocument(`${server.url}/doc.pdf`, allow);
    expect(Buffer.compare(fetched, bytes)).toBe(0);
  });
});

describe('a fetch failure becomes a DocumentError naming the cause, with the NetError as cause', () => {
  test('HTTP 404', async () => {
    const server = await serve({});
    const error = await failure(fetchDocument(`${server.url}/missing.pdf`, allow), 'fetch', 'status');
    expect(error.detail).toBe(`HTTP 404 from ${server.url}/missing.pdf`);
    expect((error.cause as NetError).status).toBe(404);
  });

  test('a server that hangs times out within the limit', async () => {
    const server = await serve({ '/slow.pdf': () => undefined });
    const started = Date.now();
    const error = await failure(
      fetchDocument(`${server.url}/slow.pdf`, { ...allow, timeoutMs: 500 }),
      'fetch',
      'timeout',
    );
    expect(Date.now() - started).toBeLessThan(1500);
    expect(error.detail).toMatch(/^timed out after 0\.5 s/);
  });

  test('too large by Content-Length', async () => {
    const big = Buffer.concat([pdf, Buffer.alloc(8192)]);
    const server = await serve({
      '/big.pdf': (_req, res) => res.writeHead(200, { 'content-length': String(big.length) }).end(big),
    });
    const error = await failure(
      fetchDocument(`${server.url}/big.pdf`, { ...allow, maxBytes: 4096 }),
      'too-large',
      'too-large',
    );
    expect(error.detail).toMatch(/larger than the 4 KiB limit \(Content-Length \d+\)/);
  });

  test('too large while streaming without Content-Length', async () => {
    const server = await serve({
      '/endless.pdf': (_req, res) => {
        res.writeHead(200, { 'content-type': 'application/pdf' });
        res.write('%PDF-1.4\n');
        const timer = setInterval(() => res.write(Buffer.alloc(8192)), 1);
        res.on('close', () => clearInterval(timer));
      },
    });
    const error = await failure(
      fetchDocument(`${server.url}/endless.pdf`, { ...allow, maxBytes: 64 * 1024 }),
      'too-large',
      'too-large',
    );
    expect(error.detail).toContain('larger than the 64 KiB limit');
  });

  test('a loopback server without allowPrivate is refused', async () => {
    const server = await serve({ '/doc.pdf': body(pdf) });
    const error = await failure(fetchDocument(`${server.url}/doc.pdf`, {}), 'fetch', 'address');
    expect(error.detail).toMatch(/^refused address 127\.0\.0\.1 for .* \(loopback; allowPrivate to permit\)$/);
  });

  test('an unknown scheme and a URL that does not parse', async () => {
    await failure(fetchDocument('ftp://127.0.0.1/doc.pdf', allow), 'fetch', 'scheme');
    const error = await failure(fetchDocument('https//example.com/fax_to_send.pdf', allow), 'fetch', 'url');
    expect(error.detail).toContain('https//example.com/fax_to_send.pdf');
  });

  test('an abort', async () => {
    const server = await serve({ '/slow.pdf': () => undefined });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    await failure(fetchDocument(`${server.url}/slow.pdf`, { ...allow, signal: controller.signal }), 'fetch', 'aborted');
  });

  test('a missing local file', async () => {
    const missing = pathToFileURL(path.join(dir, 'absent.pdf')).href;
    const error = await failure(fetchDocument(missing, { allowFiles: true }), 'fetch', 'url');
    expect(error.detail).toContain('absent.pdf');
  });
});
