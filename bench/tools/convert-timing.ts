/**
 * CPU time of the gray → 1-bit conversion (native.grayToBilevel) per page, and a hash of what
 * it makes: the figure and the check behind each speed change to native/image.
 *
 *   npx ts-node --transpile-only bench/tools/convert-timing.ts [--runs N] [--addon file.node]
 *       [--against file.node] [--save hashes.json] [--compare hashes.json] [--quality] [--write]
 *
 * The pages are rendered to gray once (PDFium, fine, as the pipeline renders them): the
 * documents benchmark's text pages (gnuplot.pdf pages 21-30), its photo pages (one
 * photograph of PHOTO_FILES an A4 page, those fetched) and its mixed pages
 * (gs9-color-management.pdf pages 18, 19, 21). Each page is then converted N times (default 5);
 * its figure is the least CPU time of the runs (process.cpuUsage: all threads, user and
 * system), which is the least disturbed by other work on a shared machine.
 *
 * --addon converts with another build of the addon (a copy of an older faxline.node).
 * --against times another build too, its runs taking turns with ours page by page, so that both
 * see the same load on a shared machine (the figure to compare before and after with), and
 * says whether its bits are the same as ours.
 * --save writes each page's SHA-256; --compare checks against such a file and says which
 * pages changed. --quality adds T.6 bytes (our writer) and blurred SSIM (σ 0.3 mm) per set,
 * for a change that is meant to alter the bits. --write also times the TIFF-F (T.6) writing of
 * each page (tiff_io), least of N runs.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { writeTiffF, type FaxPage } from '../../lib';
import { native as faxlineNative, type NativeAddon } from '../../lib/native';
import { PHOTO_FILES, blurredSsim, grayRenders, pickPages, thirdParty, type GrayImage } from '../../test/helpers/pdfs';
import { MIXED_PAGES, TEXT_PAGES, photoPages } from '../document-pages';

/** At most this many runs a page: the tool is for quick before/after figures. */
const MAX_RUNS = 100;

const args = process.argv.slice(2);
const option = (name: string): string | undefined => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};

type Converter = Pick<NativeAddon, 'grayToBilevel' | 'TiffFWriter'>;

function loadAddon(file: string | undefined): Converter {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return file ? (require(path.resolve(file)) as NativeAddon) : faxlineNative;
}

interface PageSet {
  name: 'text' | 'photo' | 'mixed';
  grays: GrayImage[];
}

async function pageSets(): Promise<PageSet[]> {
  const sets: PageSet[] = [];
  const gnuplot = thirdParty('gnuplot.pdf');
  if (!gnuplot) throw new Error('gnuplot.pdf is missing: run test/fixtures/fetch-pdfs.sh');
  const text = await pickPages(gnuplot, [...TEXT_PAGES]);
  sets.push({ name: 'text', grays: await grayRenders(text, 'fine') });
  const photo = await photoPages(PHOTO_FILES, true);
  if (photo) sets.push({ name: 'photo', grays: await grayRenders(photo, 'fine') });
  const gs9 = thirdParty('gs9-color-management.pdf');
  if (gs9) sets.push({ name: 'mixed', grays: await grayRenders(await pickPages(gs9, [...MIXED_PAGES]), 'fine') });
  return sets;
}

/** CPU milliseconds `work` takes, all threads. */
function cpuMs(work: () => void): number {
  const start = process.cpuUsage();
  work();
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1000;
}

const sha256 = (data: Uint8Array): string => createHash('sha256').update(data).digest('hex');

/** T.6 bytes of a page, coded by our writer (less a blank page's file: the container). */
function t6Bytes(page: FaxPage, dir: string): number {
  const file = path.join(dir, 'page.tif');
  writeTiffF(file, [page], 't6');
  const size = fs.statSync(file).size;
  writeTiffF(file, [{ ...page, data: new Uint8Array(page.data.length) }], 't6');
  return size - fs.statSync(file).size;
}

function main(): Promise<void> {
  return (async () => {
    const runs = Math.min(MAX_RUNS, Math.max(1, Number(option('--runs') ?? 5)));
    const addon = loadAddon(option('--addon'));
    const againstFile = option('--against');
    const against = againstFile ? loadAddon(againstFile) : undefined;
    const saved = option('--compare');
    const before = saved ? (JSON.parse(fs.readFileSync(saved, 'utf8')) as Record<string, string>) : undefined;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'convert-timing-'));
    const hashes: Record<string, string> = {};
    try {
      const sets = await pageSets();
      for (const set of sets) {
        let total = 0;
        let againstTotal = 0;
        let againstSame = true;
        let writeTotal = 0;
        let bytes = 0;
        let ssim = 0;
        const changed: string[] = [];
        for (const [i, gray] of set.grays.entries()) {
          const converter = (which: Converter) => () =>
            which.grayToBilevel(gray.gray, gray.width, gray.height, { mode: 'auto', xDpi: 204, yDpi: 196 });
          const convert = converter(addon);
          const page = convert();
          const other = against ? converter(against) : undefined;
          if (other && sha256(other().data) !== sha256(page.data)) againstSame = false;
          let best = Infinity;
          let againstBest = Infinity;
          for (let r = 0; r < runs; r++) {
            best = Math.min(best, cpuMs(convert));
            if (other) againstBest = Math.min(againstBest, cpuMs(other));
          }
          total += best;
          againstTotal += againstBest;
          const key = `${set.name}#${i}`;
          hashes[key] = sha256(page.data);
          if (before && before[key] !== hashes[key]) changed.push(key);
          if (args.includes('--write')) {
            const file = path.join(dir, 'write.tif');
            let bestWrite = Infinity;
            for (let r = 0; r < runs; r++) {
              bestWrite = Math.min(
                bestWrite,
                cpuMs(() => {
                  const writer = new addon.TiffFWriter(file, 't6');
                  writer.addPage(page);
                  writer.close();
                }),
              );
            }
            writeTotal += bestWrite;
          }
          if (args.includes('--quality')) {
            bytes += t6Bytes(page, dir);
            ssim += blurredSsim(page, gray);
          }
        }
        const n = set.grays.length;
        const setHash = sha256(Buffer.from(set.grays.map((_, i) => hashes[`${set.name}#${i}`]).join('')));
        const parts = [
          `${set.name.padEnd(5)} ${n} pages: ${(total / n).toFixed(2)} ms/page (least of ${runs})`,
          `hash ${setHash.slice(0, 16)}`,
        ];
        if (against) {
          parts.push(
            `against ${(againstTotal / n).toFixed(2)} ms/page (${((100 * total) / againstTotal).toFixed(1)}%)`,
            againstSame ? 'same bits' : 'DIFFERENT bits',
          );
        }
        if (args.includes('--write')) parts.push(`write ${(writeTotal / n).toFixed(2)} ms/page`);
        if (args.includes('--quality')) parts.push(`T.6 ${bytes} bytes`, `SSIM ${(ssim / n).toFixed(5)}`);
        if (before) parts.push(changed.length === 0 ? 'bits identical' : `CHANGED: ${changed.join(' ')}`);
        console.log(parts.join(', '));
      }
      const out = option('--save');
      if (out) fs.writeFileSync(out, JSON.stringify(hashes, null, 1));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  })();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
