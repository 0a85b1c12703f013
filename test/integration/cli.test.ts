import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { PNG } from 'pngjs';
import { readTiffPages } from '../../lib';
import { differingRows, tempDir, writeTextDocument } from '../helpers/pages';

const root = path.resolve(__dirname, '../..');
let tmp: ReturnType<typeof tempDir>;
let doc: ReturnType<typeof writeTextDocument>;
beforeAll(() => {
  tmp = tempDir();
  doc = writeTextDocument(tmp.dir, 2, { firstSeed: 90 });
});
afterAll(() => tmp.cleanup());

/** Runs the CLI from its TypeScript source, as the built bin would run. */
function faxline(...args: string[]) {
  const r = spawnSync(process.execPath, ['-r', 'ts-node/register/transpile-only', path.join(root, 'lib/cli/main.ts'), ...args], {
    cwd: root,
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('faxline send --json', () => {
  test('prints exactly one JSON object with the seven variables as strings and the stats', () => {
    const r = faxline('send', doc.file, '--to', 'loopback', '--identity', '+1 555 0100', '--json');
    expect(r.status).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    const out = JSON.parse(lines[0]!);
    expect(Object.keys(out).sort()).toEqual(['stats', 'variables']);
    expect(out.variables).toEqual({
      send_fax_document: doc.file,
      send_fax_identity: '+1 555 0100',
      send_fax_remote_identity: '',
      send_fax_pages: '2',
      send_fax_result_code: '0',
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
    expect(out.variables).toMatchObject({ send_fax_result: 'failed', send_fax_result_code: '41', send_fax_pages: '0' });
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
  test('write received.tif, one PNG per page and a stereo WAV', () => {
    const out = path.join(tmp.dir, 'out');
    const wav = path.join(tmp.dir, 'line.wav');
    const r = faxline('send', doc.file, '--received', out, '--wav', wav, '--no-ecm', '--modems', 'v29');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('send_fax_result=success');
    expect(fs.readdirSync(out).sort()).toEqual(['page-001.png', 'page-002.png', 'received.tif']);
    const received = readTiffPages(path.join(out, 'received.tif'));
    expect(received.map((p, i) => differingRows(p, doc.pages[i]!))).toEqual([0, 0]);
    const png = PNG.sync.read(fs.readFileSync(path.join(out, 'page-001.png')));
    expect([png.width, png.height]).toEqual([1728, doc.pages[0]!.height]);
    const header = fs.readFileSync(wav);
    expect(header.subarray(0, 4).toString()).toBe('RIFF');
    expect(header.readUInt16LE(22)).toBe(2); // channels
    expect(header.readUInt32LE(24)).toBe(8000); // sample rate
  });
});
