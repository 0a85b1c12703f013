import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { PDFDocument } from 'pdf-lib';
import { PNG } from 'pngjs';
import { ResultCode, readTiffPages } from '../../lib';
import { cliArgs, faxline, faxlineAsync, root } from '../helpers/cli';
import { differingRows, tempDir, writeTextDocument } from '../helpers/pages';

let tmp: ReturnType<typeof tempDir>;
let doc: ReturnType<typeof writeTextDocument>;
beforeAll(() => {
  tmp = tempDir();
  doc = writeTextDocument(tmp.dir, 2, { firstSeed: 90 });
});
afterAll(() => tmp.cleanup());

describe('faxline send --json', () => {
  test('prints exactly one JSON object with the seven variables as strings and the stats', () => {
    const r = faxline('send', doc.file, '--to', 'loopback', '--identity', '+1 555 0100', '--json');
    expect(r.status).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    const out = JSON.parse(lines[0]!);
    expect(Object.keys(out).sort()).toEqual(['stats', 'variables']);
    expect(out.variables).toEqual({
      // A local path becomes a file: URL, the document as send_fax saw it.
      send_fax_document: pathToFileURL(doc.file).href,
      send_fax_identity: '+1 555 0100',
      send_fax_remote_identity: '',
      send_fax_pages: '2',
      send_fax_result_code: String(ResultCode.OK),
      send_fax_result_text: 'OK',
      send_fax_result: 'success',
    });
    expect(out.stats).toMatchObject({ bitRate: 14400, ecm: true, pagesTransferred: 2 });
  });

  test('exits 1 with the failed variables when the document cannot be sent', () => {
    const missing = path.join(tmp.dir, 'nope.tif');
    const r = faxline('send', missing, '--json');
    expect(r.status).toBe(1);
    const out = JSON.parse(r.stdout);
    expect(out.variables).toMatchObject({
      send_fax_result: 'failed',
      send_fax_result_code: String(ResultCode.FILE_ERROR),
      send_fax_pages: '0',
    });
  });
});

describe('faxline send usage errors', () => {
  test.each([
    [['send']],
    [['send', 'x.tif', '--modems', 'v34']],
    [['send', 'x.tif', '--to', 'mars']],
    [['send', 'x.tif', '--identity', 'ACME']],
    [['frobnicate']],
  ])('%j exits 2', (args) => {
    expect(faxline(...args).status).toBe(2);
  });
});

describe('faxline send --received and --wav', () => {
  test('write received.tif, one PNG per page, received.pdf, the ladder and a stereo WAV', async () => {
    const out = path.join(tmp.dir, 'out');
    const wav = path.join(tmp.dir, 'line.wav');
    const r = faxline('send', doc.file, '--received', out, '--wav', wav, '--no-ecm', '--modems', 'v29');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('send_fax_result=success');
    expect(fs.readdirSync(out).sort()).toEqual([
      'ladder.svg',
      'page-001.png',
      'page-002.png',
      'received.pdf',
      'received.tif',
    ]);
    const received = readTiffPages(path.join(out, 'received.tif'));
    expect(received.map((p, i) => differingRows(p, doc.pages[i]!))).toEqual([0, 0]);
    const png = PNG.sync.read(fs.readFileSync(path.join(out, 'page-001.png')));
    expect([png.width, png.height]).toEqual([1728, doc.pages[0]!.height]);
    const header = fs.readFileSync(wav);
    expect(header.subarray(0, 4).toString()).toBe('RIFF');
    expect(header.readUInt16LE(22)).toBe(2); // channels
    expect(header.readUInt32LE(24)).toBe(8000); // sample rate
    // received.pdf: every received page at its physical size (1728 dots at 204 dpi by rows at 196 dpi).
    const pdf = await PDFDocument.load(fs.readFileSync(path.join(out, 'received.pdf')));
    expect(pdf.getPageCount()).toBe(2);
    const { width, height } = pdf.getPage(0).getSize();
    expect(width).toBeCloseTo((1728 / 204) * 72, 3);
    expect(height).toBeCloseTo((doc.pages[0]!.height / 196) * 72, 3);
    const svg = fs.readFileSync(path.join(out, 'ladder.svg'), 'utf8');
    expect(svg).toMatch(/^<svg /);
    expect(svg).toContain(`OK: result ${ResultCode.OK}: OK; 2 page(s)`);
  });
});

describe('faxline send with a PDF', () => {
  test('a local PDF path is sent as a file: URL, rendered and faxed', () => {
    const sample = path.join(root, 'examples/sample.pdf');
    const r = faxline('send', 'examples/sample.pdf', '--json', '--resolution', 'standard');
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.variables).toMatchObject({
      send_fax_document: pathToFileURL(sample).href,
      send_fax_pages: '2',
      send_fax_result: 'success',
    });
    expect(out.stats.resolution).toBe('standard');
  });

  test("the docs' https//example.com/fax_to_send.pdf fails cleanly: exit 1, FILE_ERROR, a hint, and --received still writes the ladder", () => {
    const out = path.join(tmp.dir, 'failed-out');
    const r = faxline('send', 'https//example.com/fax_to_send.pdf', '--received', out);
    expect(r.status).toBe(1);
    expect(r.stdout).toContain('send_fax_document=https//example.com/fax_to_send.pdf\n');
    expect(r.stdout).toContain('send_fax_result_code=41\n');
    expect(r.stderr).toContain('did you mean "https://example.com/fax_to_send.pdf"?');
    expect(fs.readdirSync(out)).toEqual(['ladder.svg']);
    expect(fs.readFileSync(path.join(out, 'ladder.svg'), 'utf8')).toContain(`FAILED: result ${ResultCode.FILE_ERROR}`);
  });
});

describe('faxline send with a document URL on 127.0.0.1', () => {
  test('is refused (exit 1, FILE_ERROR, the refused address named) unless --allow-private', async () => {
    const { serveHttp } = await import('../helpers/http-server');
    const pdf = fs.readFileSync(path.join(root, 'examples/sample.pdf'));
    const server = await serveHttp((_req, res) => res.writeHead(200, { 'content-type': 'application/pdf' }).end(pdf));
    const url = `${server.url}/letter.pdf`;
    try {
      const refused = await faxlineAsync('send', url, '--json');
      expect(refused.status).toBe(1);
      expect(JSON.parse(refused.stdout).variables).toMatchObject({
        send_fax_document: url,
        send_fax_result: 'failed',
        send_fax_result_code: String(ResultCode.FILE_ERROR),
        send_fax_pages: '0',
      });
      expect(refused.stderr).toContain('refused address 127.0.0.1');

      const allowed = await faxlineAsync('send', url, '--json', '--allow-private');
      expect(allowed.status).toBe(0);
      expect(JSON.parse(allowed.stdout).variables).toMatchObject({ send_fax_result: 'success', send_fax_pages: '2' });
    } finally {
      await server.close();
    }
  });
});

describe('faxline send --trace', () => {
  test('prints every T.30 frame with its time before the variables (and no progress bar off a terminal)', () => {
    const r = faxline('send', doc.file, '--trace');
    expect(r.status).toBe(0);
    expect(r.stderr).not.toMatch(/page \d+\/\d+/);
    const lines = r.stdout.split('\n');
    const firstVariable = lines.findIndex((l) => l.startsWith('send_fax_'));
    const trace = lines.slice(0, firstVariable);
    expect(trace.some((l) => /^\s+\d+\.\d{3} s {2}<- {2}DIS /.test(l))).toBe(true);
    expect(trace.some((l) => /-> {2}DCS /.test(l))).toBe(true);
    expect(trace.at(-1)).toMatch(/phase E: result 0: OK; 2 page\(s\)/);
  });

  test('with --json keeps stdout to the one JSON object and prints the trace on stderr', () => {
    const r = faxline('send', doc.file, '--trace', '--json');
    expect(r.status).toBe(0);
    expect(r.stdout.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/<- {2}DIS /);
  });
});

describe('faxline send --status-url', () => {
  test('POSTs the page and finished events; --allow-private lets them reach 127.0.0.1', async () => {
    const { startStatusServer } = await import('../helpers/status-server');
    const server = await startStatusServer();
    try {
      const r = await faxlineAsync(
        'send',
        doc.file,
        '--status-url',
        server.url,
        '--allow-private',
        '--callback-secret',
        's3cret',
      );
      expect(r.status).toBe(0);
      expect(server.requests.map((q) => q.json.params.fax.type)).toEqual(['page', 'page', 'finished']);
      expect(server.requests[0]!.headers['x-faxline-signature']).toMatch(/^sha256=[0-9a-f]{64}$/);
      expect(r.stderr).toContain(`Status events: 3 of 3 delivered to ${server.url}.`);
    } finally {
      await server.close();
    }
  });

  test('a status URL that does not parse is a usage error (exit 2) and nothing is sent', () => {
    const r = faxline('send', doc.file, '--status-url', 'https//example.com/status');
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('send_fax.status_url "https//example.com/status" is not an absolute URL');
    expect(r.stdout).toBe('');
  });
});

describe('faxline send progress', () => {
  test('shows page n of N, the bit rate and the call time on a terminal', () => {
    // `script` (util-linux, on every Debian) gives the command a pseudo-terminal.
    const cmd = [process.execPath, ...cliArgs('send', doc.file)].map((a) => `'${a}'`).join(' ');
    const r = spawnSync('script', ['-qec', cmd, '/dev/null'], { cwd: root, encoding: 'utf8', timeout: 60_000 });
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/page 2\/2 \| 14400 bit\/s \| 1:5\d call/);
    expect(r.stdout).toContain('send_fax_result=success');
  });
});
