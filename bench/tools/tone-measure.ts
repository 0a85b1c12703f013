/**
 * Tone and cost of the 1-bit conversion on real photo pages and text pages, ours against
 * Ghostscript's tiffg4: the figures behind native/image/bilevel.cpp's tone law.
 *
 *   npx ts-node --transpile-only bench/tools/tone-measure.ts [--addon file.node] [--png dir] [--no-gs]
 *
 * Per page and per kind (photo, text):
 *  - T.6 bytes: both sides' pages coded by our TIFF-F writer (the same coder for both, so the
 *    ratio is the line time's without T.30's per-page overhead);
 *  - blurred SSIM (test/helpers/pdfs.ts blurredSsim, σ 0.3 mm), each side against its own
 *    renderer's gray render, as bench/parts/documents.ts scores them;
 *  - tone_error, in grey levels 0..255: the mean absolute difference between the page and its
 *    gray render, both through the same σ 0.3 mm blur, over the photo regions: 32 × 32 tiles
 *    of which at least half the source pixels are mid-tones (16..239);
 *  - conversion milliseconds per page (ours only; one run, a rough guide).
 * --addon converts with another build of the addon (a copy of an older faxline.node, to
 * compare before and after); --png writes each page's 1-bit image for looking at.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { readTiffPages, writeTiffF, pageToPng, type FaxPage } from '../../lib';
import { native as faxlineNative, type NativeAddon } from '../../lib/native';
import {
  blur,
  blurredSsim,
  grayRenders,
  makePdf,
  pickPages,
  thirdParty,
  type GrayImage,
} from '../../test/helpers/pdfs';

interface PageFigures {
  name: string;
  kind: 'photo' | 'text';
  bytes: number;
  ssim: number;
  toneError: number | null;
  ms: number;
  gsBytes: number | null;
  gsSsim: number | null;
  gsToneError: number | null;
  /** The same against poppler's render (pdftoppm), an independent reference, when installed. */
  indSsim: number | null;
  gsIndSsim: number | null;
  indTone: number | null;
  gsIndTone: number | null;
}

const args = process.argv.slice(2);
const option = (name: string): string | undefined => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};

function loadAddon(): Pick<NativeAddon, 'grayToBilevel'> {
  const file = option('--addon');
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return file ? (require(path.resolve(file)) as NativeAddon) : faxlineNative;
}

/** T.6 bytes of pages, coded by our writer. */
function t6Bytes(pages: readonly FaxPage[], dir: string): number {
  const file = path.join(dir, 't6.tif');
  writeTiffF(file, pages, 't6');
  const empty = path.join(dir, 'empty.tif');
  const blank: FaxPage = { ...pages[0]!, data: new Uint8Array(pages[0]!.data.length) };
  writeTiffF(empty, [blank], 't6');
  // A blank page's file is the container and the page's EOFB: what is not the image.
  return fs.statSync(file).size - fs.statSync(empty).size * pages.length;
}

/** Signed blurred difference (page - source, 0..1) by source level in eighths, summed over pages. */
const curve = { bias: new Float64Array(8), count: new Float64Array(8) };

/** tone_error (see the file's comment), or null for a page without photo regions. */
function toneError(page: FaxPage, reference: GrayImage): number | null {
  const { width, height } = reference;
  const a = blur(
    {
      width,
      height,
      linesPerMm: reference.linesPerMm,
      gray: (() => {
        const g = new Uint8Array(width * height).fill(255);
        const stride = (width + 7) >> 3;
        for (let y = 0; y < height; y++)
          for (let x = 0; x < width; x++)
            if (page.data[y * stride + (x >> 3)]! & (0x80 >> (x & 7))) g[y * width + x] = 0;
        return g;
      })(),
    },
    0.3,
  );
  const b = blur(reference, 0.3);
  let sum = 0;
  let count = 0;
  for (let ty = 0; ty + 32 <= height; ty += 32) {
    for (let tx = 0; tx + 32 <= width; tx += 32) {
      let mid = 0;
      for (let y = ty; y < ty + 32; y++)
        for (let x = tx; x < tx + 32; x++) {
          const g = reference.gray[y * width + x]!;
          if (g >= 16 && g < 240) mid++;
        }
      if (mid < 512) continue;
      for (let y = ty; y < ty + 32; y++)
        for (let x = tx; x < tx + 32; x++) {
          const d = a[y * width + x]! - b[y * width + x]!;
          sum += Math.abs(d);
          const bin = Math.min(7, Math.floor(b[y * width + x]! * 8));
          curve.bias[bin]! += d;
          curve.count[bin]!++;
        }
      count += 1024;
    }
  }
  return count === 0 ? null : (sum / count) * 255;
}

function gsPages(pdf: string, dir: string): { pages: FaxPage[]; grays: GrayImage[] } {
  const tif = path.join(dir, 'gs.tif');
  const common = ['-q', '-dNOPAUSE', '-dBATCH', '-dSAFER', '-r204x196'];
  execFileSync('gs', [...common, '-sDEVICE=tiffg4', `-sOutputFile=${tif}`, pdf]);
  const pages = readTiffPages(tif);
  const pattern = path.join(dir, 'gs-gray-%d.pgm');
  execFileSync('gs', [
    ...common,
    '-sDEVICE=pgmraw',
    '-dTextAlphaBits=4',
    '-dGraphicsAlphaBits=4',
    `-sOutputFile=${pattern}`,
    pdf,
  ]);
  const grays = pages.map((page, i) => {
    const bytes = fs.readFileSync(pattern.replace('%d', String(i + 1)));
    const head = bytes.toString('latin1', 0, 512).replace(/#[^\n]*\n/g, (c) => ' '.repeat(c.length));
    const match = /^P5\s+(\d+)\s+(\d+)\s+(\d+)\s/.exec(head)!;
    const [width, offset] = [Number(match[1]), match[0].length];
    const gray = new Uint8Array(page.width * page.height).fill(255);
    for (let y = 0; y < page.height; y++) {
      gray.set(bytes.subarray(offset + y * width, offset + y * width + Math.min(width, page.width)), y * page.width);
    }
    return { width: page.width, height: page.height, gray, linesPerMm: 196 / 25.4 };
  });
  return { pages, grays };
}

function readPgm(file: string): GrayImage {
  const bytes = fs.readFileSync(file);
  const head = bytes.toString('latin1', 0, 512).replace(/#[^\n]*\n/g, (c) => ' '.repeat(c.length));
  const match = /^P5\s+(\d+)\s+(\d+)\s+(\d+)\s/.exec(head)!;
  const [width, height, offset] = [Number(match[1]), Number(match[2]), match[0].length];
  return { width, height, gray: bytes.subarray(offset, offset + width * height), linesPerMm: 196 / 25.4 };
}

/** Poppler's gray renders of a PDF's pages, or null without pdftoppm. */
function popplerPages(pdf: string, dir: string): GrayImage[] | null {
  for (const n of fs.readdirSync(dir)) if (n.startsWith('pp-')) fs.rmSync(path.join(dir, n));
  try {
    execFileSync('pdftoppm', ['-gray', '-rx', '204', '-ry', '196', pdf, path.join(dir, 'pp')]);
  } catch {
    return null;
  }
  return fs
    .readdirSync(dir)
    .filter((n) => n.startsWith('pp-') && n.endsWith('.pgm'))
    .sort()
    .map((n) => readPgm(path.join(dir, n)));
}

/** `other` moved onto `like`'s geometry at the offset where they differ least (page edges white). */
function align(other: GrayImage, like: GrayImage): GrayImage {
  let best = [0, 0, Infinity];
  for (let dy = -4; dy <= 4; dy++) {
    for (let dx = -40; dx <= 40; dx++) {
      let s = 0;
      let n = 0;
      for (let y = 100; y < like.height - 100; y += 7) {
        const oy = y - dy;
        if (oy < 0 || oy >= other.height) continue;
        for (let x = 60; x < like.width - 60; x += 5) {
          const ox = x - dx;
          const o = ox < 0 || ox >= other.width ? 255 : other.gray[oy * other.width + ox]!;
          s += Math.abs(o - like.gray[y * like.width + x]!);
          n++;
        }
      }
      if (n > 0 && s / n < best[2]!) best = [dx, dy, s / n];
    }
  }
  const [dx, dy] = best as [number, number];
  const gray = new Uint8Array(like.width * like.height).fill(255);
  for (let y = 0; y < like.height; y++) {
    const oy = y - dy;
    if (oy < 0 || oy >= other.height) continue;
    for (let x = 0; x < like.width; x++) {
      const ox = x - dx;
      if (ox >= 0 && ox < other.width) gray[y * like.width + x] = other.gray[oy * other.width + ox]!;
    }
  }
  return { ...like, gray };
}

async function measure(
  name: string,
  kind: 'photo' | 'text',
  pdf: Uint8Array,
  dir: string,
  addon: Pick<NativeAddon, 'grayToBilevel'>,
): Promise<PageFigures[]> {
  const file = path.join(dir, `${name}.pdf`);
  fs.writeFileSync(file, pdf);
  const grays = await grayRenders(pdf, 'fine');
  const gs = args.includes('--no-gs') ? null : gsPages(file, dir);
  const pngDir = option('--png');
  const poppler = args.includes('--independent') ? popplerPages(file, dir) : null;
  return grays.map((gray, i) => {
    const start = performance.now();
    const page = addon.grayToBilevel(gray.gray, gray.width, gray.height, { mode: 'auto', xDpi: 204, yDpi: 196 });
    const ms = performance.now() - start;
    if (pngDir) {
      fs.mkdirSync(pngDir, { recursive: true });
      fs.writeFileSync(path.join(pngDir, `${name}-${i}.png`), pageToPng(page));
      if (gs) fs.writeFileSync(path.join(pngDir, `${name}-${i}-gs.png`), pageToPng(gs.pages[i]!));
    }
    return {
      name: `${name}#${i}`,
      kind,
      bytes: t6Bytes([page], dir),
      ssim: blurredSsim(page, gray),
      toneError: kind === 'photo' && !args.includes('--curve-gs') ? toneError(page, gray) : null,
      ms,
      gsBytes: gs ? t6Bytes([gs.pages[i]!], dir) : null,
      gsSsim: gs ? blurredSsim(gs.pages[i]!, gs.grays[i]!) : null,
      gsToneError: gs && kind === 'photo' ? toneError(gs.pages[i]!, gs.grays[i]!) : null,
      ...(() => {
        if (!poppler?.[i]) return { indSsim: null, gsIndSsim: null, indTone: null, gsIndTone: null };
        const ours = align(poppler[i]!, gray);
        const theirs = gs ? align(poppler[i]!, gs.grays[i]!) : null;
        return {
          indSsim: blurredSsim(page, ours),
          gsIndSsim: gs && theirs ? blurredSsim(gs.pages[i]!, theirs) : null,
          indTone: kind === 'photo' ? toneError(page, ours) : null,
          gsIndTone: gs && theirs && kind === 'photo' ? toneError(gs.pages[i]!, theirs) : null,
        };
      })(),
    };
  });
}

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'faxline-tone-'));
  const addon = loadAddon();
  const full: [number, number, number, number] = [10, 10, 190, 277];
  const need = (name: Parameters<typeof thirdParty>[0]): Buffer => {
    const bytes = thirdParty(name);
    if (!bytes) throw new Error(`${name} is missing: run test/fixtures/fetch-pdfs.sh`);
    return bytes;
  };
  const only = option('--only');
  const sets: [string, 'photo' | 'text', () => Promise<Uint8Array>][] = [
    ['hopper', 'photo', () => makePdf([{ jpeg: { bytes: need('grace_hopper.jpg'), box: full } }])],
    ['generated', 'photo', () => makePdf([{ photo: full }])],
    ['gs9-cm', 'photo', () => pickPages(need('gs9-color-management.pdf'), [18, 19, 20])],
    ['cups-testpage', 'photo', async () => need('cups-testpage.pdf')],
    ['package-lifecycle', 'photo', async () => need('package-lifecycle.pdf')],
    [
      'gnuplot',
      'text',
      () =>
        pickPages(
          need('gnuplot.pdf'),
          Array.from({ length: 10 }, (_, i) => 20 + i),
        ),
    ],
  ];
  const rows: PageFigures[] = [];
  try {
    for (const [name, kind, pdf] of sets) {
      if (only && !only.split(',').includes(name)) continue;
      rows.push(...(await measure(name, kind, await pdf(), dir, addon)));
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  const f = (n: number | null, digits: number): string => (n === null ? '—' : n.toFixed(digits));
  console.log('page                  bytes  gs bytes ratio  ssim   gs ssim  tone  gs tone   ms');
  for (const r of rows) {
    console.log(
      `${r.name.padEnd(20)} ${String(r.bytes).padStart(7)} ${String(r.gsBytes ?? '—').padStart(8)} ${f(
        r.gsBytes ? r.bytes / r.gsBytes : null,
        3,
      ).padStart(5)}  ${f(r.ssim, 4)} ${f(r.gsSsim, 4).padStart(7)} ${f(r.toneError, 1).padStart(5)} ${f(
        r.gsToneError,
        1,
      ).padStart(7)} ${r.ms.toFixed(1).padStart(5)}` +
        (r.indSsim === null
          ? ''
          : `  independent: ssim ${f(r.indSsim, 4)} gs ${f(r.gsIndSsim, 4)} tone ${f(r.indTone, 1)} gs ${f(r.gsIndTone, 1)}`),
    );
  }
  if (args.includes('--curve')) {
    console.log(
      'photo bias by source eighth (page - source, grey levels; ours and gs summed together unless --no-gs):',
      Array.from(curve.bias, (v, i) => ((v / Math.max(1, curve.count[i]!)) * 255).toFixed(1)).join(' '),
    );
  }
  for (const kind of ['photo', 'text'] as const) {
    const of = rows.filter((r) => r.kind === kind);
    if (of.length === 0) continue;
    const sum = (pick: (r: PageFigures) => number | null): number => of.reduce((s, r) => s + (pick(r) ?? 0), 0);
    const mean = (pick: (r: PageFigures) => number | null): number => sum(pick) / of.length;
    const withTone = of.filter((r) => r.toneError !== null);
    const toneMean = (pick: (r: PageFigures) => number | null): number =>
      withTone.reduce((s, r) => s + (pick(r) ?? 0), 0) / Math.max(1, withTone.length);
    console.log(
      `${kind}: T.6 ratio ${(sum((r) => r.bytes) / sum((r) => r.gsBytes)).toFixed(3)}, ssim ${mean(
        (r) => r.ssim,
      ).toFixed(4)} vs gs ${mean((r) => r.gsSsim).toFixed(4)}` +
        (kind === 'photo'
          ? `, tone_error ${toneMean((r) => r.toneError).toFixed(1)} vs gs ${toneMean((r) => r.gsToneError).toFixed(1)}`
          : '') +
        `, ${mean((r) => r.ms).toFixed(1)} ms/page` +
        (of[0]!.indSsim === null
          ? ''
          : `; independent: ssim ${mean((r) => r.indSsim).toFixed(4)} vs gs ${mean((r) => r.gsIndSsim).toFixed(4)}` +
            (kind === 'photo'
              ? `, tone_error ${toneMean((r) => r.indTone).toFixed(1)} vs gs ${toneMean((r) => r.gsIndTone).toFixed(1)}`
              : '')),
    );
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
