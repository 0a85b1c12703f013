/** From a PDF URL to pages received at the other end: prepareDocument, then a loopback fax. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { ResultCode, readTiffPages, runLoopback } from '../../lib';
import { prepareDocument, type DocumentResolution } from '../../lib/document';
import { differingRows, tempDir } from '../helpers/pages';
import { A4, A4_LEFT_MM, expectMark, makePdf, thirdParty } from '../helpers/pdfs';

let tmp: ReturnType<typeof tempDir>;
beforeAll(() => (tmp = tempDir()));
afterAll(() => tmp.cleanup());

async function sendPdf(pdf: Uint8Array, resolution: DocumentResolution, name: string) {
  const file = path.join(tmp.dir, name);
  fs.writeFileSync(file, pdf);
  const prepared = await prepareDocument(pathToFileURL(file).href, { resolution, allowFiles: true });
  try {
    const sent = readTiffPages(prepared.file);
    const call = await runLoopback({ document: prepared.file });
    return { prepared, sent, call };
  } finally {
    await prepared.cleanup();
  }
}

describe('a prepared PDF sent over a loopback fax (V.17, ECM)', () => {
  test.each(['standard', 'fine', 'superfine'] as DocumentResolution[])(
    'a mixed three-page document arrives complete and bit-identical at %s',
    async (resolution) => {
      const pdf = await makePdf([
        { text: true, marks: [[20, 10, 30, 15]] },
        { photo: [10, 10, 190, 140], vector: true },
        { size: [A4[1], A4[0]], text: { lines: 5 } },
      ]);
      const { prepared, sent, call } = await sendPdf(pdf, resolution, `mixed-${resolution}.pdf`);
      expect(prepared.pages).toBe(3);
      expect(call.sender).toMatchObject({ code: ResultCode.OK, success: true, pages: 3 });
      expect(call.receiver).toMatchObject({ code: ResultCode.OK, success: true, pages: 3 });
      expect(call.receivedPages).toHaveLength(3);
      call.receivedPages.forEach((page, i) => {
        expect(page).toMatchObject({ width: 1728, yDpi: sent[i]!.yDpi });
        expect(differingRows(page, sent[i]!)).toBe(0);
      });
      // The mark at the top-left of page 1 is where it was drawn on the received page too.
      expectMark(call.receivedPages[0]!, [A4_LEFT_MM + 20, 10, 30, 15], resolution);
    },
  );

  test('a third-party document (the CUPS test page) arrives as prepared', async () => {
    // Fetched by test/global-setup.js; documents-third-party.test.ts fails loudly if it is not.
    const pdf = thirdParty('cups-testpage.pdf')!;
    const { sent, call } = await sendPdf(pdf, 'fine', 'cups-testpage.pdf');
    expect(call.sender).toMatchObject({ code: ResultCode.OK, success: true, pages: 1 });
    expect(differingRows(call.receivedPages[0]!, sent[0]!)).toBe(0);
  });
});
