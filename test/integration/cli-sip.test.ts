/**
 * `faxline serve` and `faxline send --to sip:` as two processes on 127.0.0.1: one short PDF page
 * faxed over a real SIP call (paced, about 20 s of line time), the server writing it into a folder
 * of its own under --out with the files `faxline receive` writes, then draining on SIGTERM.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { ResultCode, prepareDocument, readTiffPages } from '../../lib';
import { makePdf } from '../helpers/pdfs';
import { faxlineAsync } from '../helpers/cli';
import { freePorts, killCliChildren, parseVariables, startCli, waitUntil, within } from '../helpers/cli-peers';
import { differingRows, tempDir } from '../helpers/pages';

/** A paced call of the short page plus two ts-node start-ups, bounded below the helpers' 100 s child limit. */
const CALL_BOUND_MS = 95_000;
const LISTEN_BOUND_MS = 30_000;
jest.setTimeout(150_000);

let tmp: ReturnType<typeof tempDir>;
beforeAll(() => (tmp = tempDir()));
afterAll(() => {
  killCliChildren();
  tmp.cleanup();
});

describe('faxline serve and faxline send --to sip:', () => {
  test('one PDF page arrives in OUT/<Call-ID>/ with received.tif, page-001.png, received.pdf and ladder.svg', async () => {
    const pdfFile = path.join(tmp.dir, 'short.pdf');
    // A short page (A4 wide, 70 mm tall) keeps the paced call near 20 s.
    fs.writeFileSync(pdfFile, await makePdf([{ size: [595, 200], marks: [[20, 10, 60, 20]] }]));
    const prepared = await prepareDocument(pathToFileURL(pdfFile).href, { resolution: 'standard', allowFiles: true });
    const sentPages = readTiffPages(prepared.file);
    await prepared.cleanup();
    expect(sentPages).toHaveLength(1);

    const out = path.join(tmp.dir, 'out');
    const [port] = await freePorts('udp', 1);
    const server = startCli('serve', '--listen', `udp:127.0.0.1:${port}`, '--out', out, '--ports', '32000-32999');
    let serverStdout = '';
    server.child.stdout.on('data', (c: Buffer) => (serverStdout += c.toString()));
    await waitUntil(() => server.stderrSoFar().includes('Listening on'), LISTEN_BOUND_MS, 'faxline serve to listen');
    expect(server.stderrSoFar()).toContain(`Listening on udp:127.0.0.1:${port}`);

    const sent = await within(
      faxlineAsync(
        'send',
        pdfFile,
        '--to',
        `sip:5550200@127.0.0.1:${port}`,
        '--identity',
        '100',
        '--resolution',
        'standard',
      ),
      CALL_BOUND_MS,
      'faxline send',
    );
    expect({ status: sent.status, stderr: sent.stderr }).toMatchObject({ status: 0 });
    expect(parseVariables(sent.stdout)).toEqual({
      send_fax_document: pathToFileURL(pdfFile).href,
      send_fax_identity: '100',
      // The server's CSI defaults to the dialled number.
      send_fax_remote_identity: '5550200',
      send_fax_pages: '1',
      send_fax_result_code: String(ResultCode.OK),
      send_fax_result_text: 'OK',
      send_fax_result: 'success',
    });
    expect(sent.stderr).toMatch(/^SIP: Call-ID \S+, status 200; fax over T\.38\.$/m);

    await waitUntil(() => serverStdout.includes('\n'), 15_000, 'the server to log the call');
    server.child.kill('SIGTERM');
    const served = await within(server.done, LISTEN_BOUND_MS, 'faxline serve to drain and exit');
    expect(served.status).toBe(0);
    const lines = serverStdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    const match =
      /^call (\S+) from sip:\S+ to 5550200: success code=0 pages=1 transport=t38 sip=200 folder=(\S+)$/.exec(lines[0]!);
    expect(match).not.toBeNull();
    const folder = match![2]!;
    expect(path.dirname(folder)).toBe(out);
    expect(fs.readdirSync(out)).toEqual([path.basename(folder)]);
    expect(fs.readdirSync(folder).sort()).toEqual(['ladder.svg', 'page-001.png', 'received.pdf', 'received.tif']);
    const pages = readTiffPages(path.join(folder, 'received.tif'));
    expect(pages).toHaveLength(1);
    expect(differingRows(pages[0]!, sentPages[0]!)).toBe(0);
    expect(served.stderr).toContain('SIGTERM: draining');
    expect(served.stderr).toContain('Stopped: 1 call(s) in, 1 fax(es) received, 0 failed.');
  });
});
