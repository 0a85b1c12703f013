/**
 * The documents part: our PDF-to-fax pipeline (lib/document: PDFium WebAssembly in a worker,
 * native 1-bit conversion, T.6 TIFF-F) against Ghostscript's tiffg4 device, on the same PDFs.
 *
 * Inputs, per kind of page. Text: ten pages of the gnuplot manual (LaTeX, US Letter). Photo:
 * six real photographs from three Debian packages (matplotlib's grace_hopper.jpg, the pictures
 * of Scribus's brochure, menu and newsletter templates, a photograph from ImageMagick's
 * documentation), each placed as large as it fits on an A4 page. Mixed: three pages of
 * Ghostscript's colour management guide with photographs beside text and diagrams. 200 pages:
 * the gnuplot manual's first 200. These come from test/fixtures/fetch-pdfs.sh; without it,
 * generated PDFs of the same kinds stand in (the result says which: `inputs`, `sources`).
 *
 * Figures, each the median of the timed runs where timed:
 *  - pages per CPU-second: pages of each kind's PDF (and of all three) / CPU time to turn them into a
 *    TIFF-F. Ours is prepareDocument() on a file: URL, timed with the process CPU clock
 *    (process.cpuUsage(): every thread, the render worker included); Ghostscript's is its
 *    process's user + system time (getrusage of children, through python3). Our lib/ is
 *    transpiled to JavaScript first (bench/out/documents-lib), as the package ships it: under
 *    ts-node each render worker would also load the TypeScript compiler. Each of gs's runs starts
 *    a process (as a media server running gs per fax does), so its per-document figures carry
 *    its start-up (`gs_start_cpu_s`, measured on a blank page); the 200-page run spreads it
 *    over the pages, and the text goals are judged on both.
 *  - line seconds per page at V.17 + ECM + T.6: each side's TIFF sent through runLoopback
 *    (the receiver offers everything, so the call runs V.17 14400 with ECM and T.6), counted
 *    from the 'negotiated' event to the last 'page' event, divided by the pages: the line time
 *    of the pages themselves, ECM framing and per-page T.30 exchanges included, call set-up
 *    and clearing excluded. The T.6 bytes / 14 400 bit/s figure is reported beside it.
 *  - quality: the mean blurred SSIM (test/helpers/pdfs.ts blurredSsim, σ 0.3 mm) between each
 *    1-bit page and the same renderer's anti-aliased gray render of the page at the same
 *    geometry (ours: PDFium through lib/document/pdf-renderer; gs: its pgmraw device with
 *    TextAlphaBits=4 GraphicsAlphaBits=4). It scores the conversion to black and white, each
 *    renderer against its own ideal, so cheaper pages cannot hide a loss of legibility.
 *  - tone error (photo and mixed pages): the mean absolute difference of the two after a
 *    σ 0.5 mm blur (test/helpers/pdfs.ts toneError), 0..1, over the windows with ink: how far
 *    the page's grays are from the source's, where SSIM looks at structure.
 *  - peak RSS for 200 pages: a separate node process that only runs prepareDocument on the
 *    200-page PDF (its maxRSS, the whole process with the worker); gs's from getrusage.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import * as ts from 'typescript';
import { readTiffPages, runLoopback, type FaxPage } from '../../lib';
import type * as DocumentModule from '../../lib/document';
import {
  PHOTO_FILES,
  blurredSsim,
  grayRenders,
  makePdf,
  pickPages,
  thirdParty,
  toneError,
  type GrayImage,
} from '../../test/helpers/pdfs';
import { MIXED_PAGES, TEXT_PAGES, photoPages } from '../document-pages';
import { median, round, type BenchOptions, type BenchPart, type BenchTable } from '../part';

const ROOT = path.join(__dirname, '..', '..');
const OUT = path.join(ROOT, 'bench', 'out');
const COMPILED = path.join(OUT, 'documents-lib');
const V17_BITS_PER_SECOND = 14_400;
const GOALS = { pagesPerCpuVsGs: 0.5, textLineRatio: 0.9, photoLineRatio: 0.6 } as const;

/** The kinds of page measured apart. */
const KINDS = ['text', 'photo', 'mixed'] as const;
type Kind = (typeof KINDS)[number];

/** One kind of page's figures, ours and gs's (null where Ghostscript is missing). */
export interface KindFigures {
  pages: number;
  pages_per_cpu_s: number;
  gs_pages_per_cpu_s: number | null;
  line_s_per_page: number;
  gs_line_s_per_page: number | null;
  line_s_ratio_vs_gs: number | null;
  /** From T.6 bytes at 14 400 bit/s (no ECM or T.30 overhead). */
  t6_line_s_per_page: number;
  gs_t6_line_s_per_page: number | null;
  /** Mean blurred SSIM (σ 0.3 mm) against the renderer's own gray render. */
  quality: number;
  gs_quality: number | null;
  /** Mean absolute difference of blurred gray (σ 0.5 mm), 0..1; null for text pages (not measured). */
  tone_error: number | null;
  gs_tone_error: number | null;
}

/** The documents part's figures, as `--json` prints them. Null where Ghostscript is missing. */
export interface DocumentsResult {
  pages_per_cpu_s: number;
  gs_pages_per_cpu_s: number | null;
  text_line_s_ratio_vs_gs: number | null;
  photo_line_s_ratio_vs_gs: number | null;
  text_quality: number;
  gs_text_quality: number | null;
  photo_quality: number;
  gs_photo_quality: number | null;
  /** Tone error of the photo pages (see {@link KindFigures}), ours and gs's. */
  tone_error: number | null;
  gs_tone_error: number | null;
  peak_rss_mb_200_pages: number;
  gs_peak_rss_mb_200_pages: number | null;
  /** Line seconds per page (loopback, see the file's comment), ours and gs's. */
  text_line_s_per_page: number;
  gs_text_line_s_per_page: number | null;
  photo_line_s_per_page: number;
  gs_photo_line_s_per_page: number | null;
  /** The same from T.6 bytes at 14 400 bit/s (no ECM or T.30 overhead). */
  text_t6_line_s_per_page: number;
  gs_text_t6_line_s_per_page: number | null;
  photo_t6_line_s_per_page: number;
  gs_photo_t6_line_s_per_page: number | null;
  /** Pages per CPU-second of the text PDF alone and the photo PDF alone. */
  text_pages_per_cpu_s: number;
  gs_text_pages_per_cpu_s: number | null;
  photo_pages_per_cpu_s: number;
  gs_photo_pages_per_cpu_s: number | null;
  /** Pages per CPU-second of the 200-page run. */
  pages_per_cpu_s_200_pages: number;
  gs_pages_per_cpu_s_200_pages: number | null;
  /**
   * CPU seconds of Ghostscript turning a blank one-page PDF into a TIFF: its process start,
   * which every per-document figure of gs's includes and the 200-page run spreads thin.
   */
  gs_start_cpu_s: number | null;
  /** Every figure by kind of page: text, photo, mixed (text with photographs). */
  kinds: Record<Kind, KindFigures>;
  /** What the figures were measured on. */
  inputs: 'third-party' | 'generated';
  /** The source of each kind's pages. */
  sources: Record<Kind, string>;
  text_pages: number;
  photo_pages: number;
  mixed_pages: number;
  runs: number;
  gs_version: string | null;
  meets_speed_goal: boolean | null;
  meets_text_line_goal: boolean | null;
  meets_photo_line_goal: boolean | null;
  /** The photo line goal (≤ 0.6× gs at quality ≥ gs) on the mixed pages. */
  meets_mixed_line_goal: boolean | null;
  /** Text pages per CPU-second ≥ 0.5× gs's (floor) and ≥ 1× (moonshot); photo pages ≥ 1×. */
  meets_text_speed_floor: boolean | null;
  meets_text_speed_moonshot: boolean | null;
  /** The text goals on the 200-page run, where gs's process start counts for little. */
  meets_text_speed_floor_200_pages: boolean | null;
  meets_text_speed_moonshot_200_pages: boolean | null;
  meets_photo_speed_goal: boolean | null;
  meets_rss_goal: boolean;
}

interface Inputs {
  kind: 'third-party' | 'generated';
  files: Record<Kind, string>;
  sources: Record<Kind, string>;
  long: string;
}

/** Transpiles lib/ to JavaScript in bench/out, beside links to the addon's builds. */
function compileLib(): typeof DocumentModule {
  const options = ts.parseJsonConfigFileContent(
    ts.readConfigFile(path.join(ROOT, 'tsconfig.json'), ts.sys.readFile).config,
    ts.sys,
    ROOT,
  ).options;
  const libDir = path.join(ROOT, 'lib');
  const dist = path.join(COMPILED, 'dist');
  fs.rmSync(COMPILED, { recursive: true, force: true });
  const walk = (dir: string): string[] =>
    fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
      const full = path.join(dir, entry.name);
      return entry.isDirectory()
        ? walk(full)
        : entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')
          ? [full]
          : [];
    });
  for (const file of walk(libDir)) {
    const { outputText } = ts.transpileModule(fs.readFileSync(file, 'utf8'), {
      compilerOptions: { ...options, sourceMap: false, declaration: false },
      fileName: file,
    });
    const target = path.join(dist, path.relative(libDir, file)).replace(/\.ts$/, '.js');
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.writeFileSync(target, outputText);
  }
  // lib/native.js loads the addon from its package root, here COMPILED: point it at ours.
  for (const name of ['build', 'prebuilds']) {
    if (fs.existsSync(path.join(ROOT, name))) fs.symlinkSync(path.join(ROOT, name), path.join(COMPILED, name));
  }
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require(path.join(dist, 'document')) as typeof DocumentModule;
}

async function makeInputs(dir: string, log: (message: string) => void): Promise<Inputs> {
  const write = (name: string, bytes: Uint8Array): string => {
    const file = path.join(dir, name);
    fs.writeFileSync(file, bytes);
    return file;
  };
  const gnuplot = thirdParty('gnuplot.pdf');
  const gs9 = thirdParty('gs9-color-management.pdf');
  const photos = await photoPages(PHOTO_FILES);
  const fullPage: [number, number, number, number] = [10, 10, 190, 277];
  if (gnuplot && gs9 && photos) {
    return {
      kind: 'third-party',
      files: {
        text: write('text.pdf', await pickPages(gnuplot, [...TEXT_PAGES])),
        photo: write('photo.pdf', photos),
        mixed: write('mixed.pdf', await pickPages(gs9, [...MIXED_PAGES])),
      },
      sources: {
        text: 'gnuplot.pdf pages 21-30',
        photo: `one photograph an A4 page: ${PHOTO_FILES.join(', ')}`,
        mixed: `gs9-color-management.pdf pages ${MIXED_PAGES.map((p) => p + 1).join(', ')}`,
      },
      long: write(
        'long.pdf',
        await pickPages(
          gnuplot,
          Array.from({ length: 200 }, (_, i) => i),
        ),
      ),
    };
  }
  log('documents: third-party files missing (test/fixtures/fetch-pdfs.sh); using generated ones');
  return {
    kind: 'generated',
    files: {
      text: write(
        'text.pdf',
        await makePdf(Array.from({ length: 10 }, (_, i) => ({ size: [612, 792], text: { seed: i + 1 } }))),
      ),
      photo: write('photo.pdf', await makePdf([{ photo: fullPage }, { photo: fullPage, vector: true }])),
      mixed: write(
        'mixed.pdf',
        await makePdf([1, 2].map((seed) => ({ text: { lines: 20, seed }, photo: [20, 160, 170, 110] }))),
      ),
    },
    sources: { text: 'generated', photo: 'generated', mixed: 'generated' },
    long: write(
      'long.pdf',
      await makePdf(
        Array.from({ length: 200 }, (_, i) => (i % 20 === 0 ? { photo: fullPage } : { text: { seed: i } })),
      ),
    ),
  };
}

function gsVersion(): string | null {
  const run = spawnSync('gs', ['--version'], { encoding: 'utf8' });
  return run.status === 0 ? run.stdout.trim() : null;
}

/** Runs a command and returns its CPU seconds and peak RSS (KiB), via python3's getrusage. */
function rusage(command: string[]): { cpuS: number; maxRssKb: number } {
  const script =
    'import resource, subprocess, sys, json\n' +
    'r = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL)\n' +
    'u = resource.getrusage(resource.RUSAGE_CHILDREN)\n' +
    'print(json.dumps({"status": r.returncode, "cpu": u.ru_utime + u.ru_stime, "rss": u.ru_maxrss}))\n';
  const out = JSON.parse(execFileSync('python3', ['-c', script, ...command], { encoding: 'utf8' })) as {
    status: number;
    cpu: number;
    rss: number;
  };
  if (out.status !== 0) throw new Error(`${command.join(' ')} exited with ${out.status}`);
  return { cpuS: out.cpu, maxRssKb: out.rss };
}

function gsTiff(pdf: string, output: string): { cpuS: number; maxRssKb: number } {
  return rusage([
    'gs',
    '-q',
    '-dNOPAUSE',
    '-dBATCH',
    '-dSAFER',
    '-sDEVICE=tiffg4',
    '-r204x196',
    `-sOutputFile=${output}`,
    pdf,
  ]);
}

/** Ghostscript's anti-aliased gray renders, cropped or padded on the right like its tiffg4 pages. */
function gsGray(pdf: string, dir: string, pages: readonly FaxPage[]): GrayImage[] {
  const pattern = path.join(dir, 'gs-gray-%d.pgm');
  execFileSync('gs', [
    '-q',
    '-dNOPAUSE',
    '-dBATCH',
    '-dSAFER',
    '-sDEVICE=pgmraw',
    '-r204x196',
    '-dTextAlphaBits=4',
    '-dGraphicsAlphaBits=4',
    `-sOutputFile=${pattern}`,
    pdf,
  ]);
  return pages.map((page, i) => {
    const bytes = fs.readFileSync(pattern.replace('%d', String(i + 1)));
    // "P5 width height maxval" and one whitespace byte, with # comments anywhere before.
    const head = bytes.toString('latin1', 0, 512).replace(/#[^\n]*\n/g, (c) => ' '.repeat(c.length));
    const match = /^P5\s+(\d+)\s+(\d+)\s+(\d+)\s/.exec(head);
    if (!match) throw new Error(`unexpected PGM header from gs: ${head.slice(0, 40)}`);
    const [width, height, offset] = [Number(match[1]), Number(match[2]), match[0].length];
    const gray = new Uint8Array(page.width * page.height).fill(255);
    for (let y = 0; y < Math.min(height, page.height); y++) {
      const row = bytes.subarray(offset + y * width, offset + y * width + Math.min(width, page.width));
      gray.set(row, y * page.width);
    }
    return { width: page.width, height: page.height, gray, linesPerMm: 196 / 25.4 };
  });
}

/**
 * A loopback call of the file: line seconds per page, from 'negotiated' to the last page, and
 * the T.6 part of them, from the size of each page's coded image as the sender reports it.
 */
async function loopbackLineSeconds(file: string, pages: number): Promise<{ lineS: number; t6LineS: number }> {
  const call = await runLoopback({ document: file });
  if (!call.sender.success || call.sender.pages !== pages) {
    throw new Error(
      `the loopback of ${file} ended with ${call.sender.code} (${call.sender.text}) after ${call.sender.pages} pages`,
    );
  }
  const { stats } = call.sender;
  if (stats.bitRate !== V17_BITS_PER_SECOND || !stats.ecm || stats.compression !== 'T.6') {
    throw new Error(
      `the loopback ran at ${stats.bitRate} bit/s, ECM ${stats.ecm}, ${stats.compression}: not V.17 with ECM and T.6`,
    );
  }
  const negotiated = call.senderEvents.find((e) => e.type === 'negotiated')!.timeMs;
  const pageEvents = call.senderEvents.filter((e) => e.type === 'page');
  const t6Bytes = pageEvents.reduce((sum, e) => sum + e.stats.imageSize, 0);
  return {
    lineS: (pageEvents.at(-1)!.timeMs - negotiated) / 1000 / pages,
    t6LineS: (t6Bytes * 8) / V17_BITS_PER_SECOND / pages,
  };
}

interface SideFigures {
  lineS: number;
  t6LineS: number;
  quality: number;
  toneError: number | null;
}

const mean = (values: number[]): number => values.reduce((a, b) => a + b) / values.length;

async function sideFigures(
  pages: FaxPage[],
  file: string,
  references: GrayImage[],
  tone: boolean,
): Promise<SideFigures> {
  if (references.length !== pages.length) {
    throw new Error(`${file}: ${pages.length} fax pages against ${references.length} gray renders`);
  }
  return {
    ...(await loopbackLineSeconds(file, pages.length)),
    quality: mean(pages.map((page, i) => blurredSsim(page, references[i]!))),
    toneError: tone ? mean(pages.map((page, i) => toneError(page, references[i]!))) : null,
  };
}

/**
 * prepareDocument on the 200-page PDF in a node process of its own: peak RSS and CPU. The
 * peak is VmHWM, not getrusage's maxRSS: Linux carries maxRSS over from the process that
 * forked the child (this one, hundreds of MB), VmHWM belongs to the child's own memory.
 */
function ourLongRun(dist: string, pdf: string): { maxRssKb: number; cpuS: number; pages: number } {
  const script = `
    const { prepareDocument } = require(${JSON.stringify(path.join(dist, 'document'))});
    const start = process.cpuUsage();
    prepareDocument(${JSON.stringify(pathToFileURL(pdf).href)}, { allowFiles: true }).then(async (doc) => {
      const cpu = process.cpuUsage(start);
      await doc.cleanup();
      const hwm = /VmHWM:\\s*(\\d+) kB/.exec(require('fs').readFileSync('/proc/self/status', 'utf8'));
      process.stdout.write(JSON.stringify({ maxRssKb: Number(hwm[1]), cpuS: (cpu.user + cpu.system) / 1e6, pages: doc.pages }));
    }, (error) => { console.error(error); process.exit(1); });`;
  return JSON.parse(
    execFileSync(process.execPath, ['-e', script], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }),
  );
}

function cpuSeconds(): number {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1e6;
}

async function run(options: BenchOptions): Promise<DocumentsResult> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'faxline-bench-documents-'));
  try {
    options.log('documents: transpiling lib/ to bench/out/documents-lib');
    const documents = compileLib();
    const inputs = await makeInputs(dir, options.log);
    const version = gsVersion();
    if (!version) options.log('documents: Ghostscript (gs) is not installed: its figures are null');

    // Ours, once untimed (compiles PDFium's WebAssembly once for the process, as a server would).
    // The bench's own PDFs: local files, which the host (here the bench) opts into.
    const prepare = async (file: string) => documents.prepareDocument(pathToFileURL(file).href, { allowFiles: true });
    const ourPages = {} as Record<Kind, FaxPage[]>;
    const kept = {} as Record<Kind, DocumentModule.PreparedDocument>;
    for (const kind of KINDS) {
      kept[kind] = await prepare(inputs.files[kind]);
      ourPages[kind] = readTiffPages(kept[kind].file);
    }

    // CPU seconds per run of each side on each kind's PDF.
    const cpu = Object.fromEntries(KINDS.map((kind) => [kind, { ours: [] as number[], gs: [] as number[] }])) as Record<
      Kind,
      { ours: number[]; gs: number[] }
    >;
    for (let r = 0; r < options.runs; r++) {
      options.log(`documents: run ${r + 1} of ${options.runs}`);
      for (const kind of KINDS) {
        const start = cpuSeconds();
        await (await prepare(inputs.files[kind])).cleanup();
        cpu[kind].ours.push(cpuSeconds() - start);
        if (version) cpu[kind].gs.push(gsTiff(inputs.files[kind], path.join(dir, `gs-${kind}.tif`)).cpuS);
      }
    }

    options.log('documents: line time (loopback calls), quality and tone');
    const figures = {} as Record<Kind, KindFigures>;
    for (const kind of KINDS) {
      const pdf = fs.readFileSync(inputs.files[kind]);
      const tone = kind !== 'text';
      const ours = await sideFigures(ourPages[kind], kept[kind].file, await grayRenders(pdf, 'fine'), tone);
      await kept[kind].cleanup();
      let gs: SideFigures | null = null;
      if (version) {
        const file = path.join(dir, `gs-${kind}.tif`);
        const pages = readTiffPages(file);
        gs = await sideFigures(pages, file, gsGray(inputs.files[kind], dir, pages), tone);
      }
      const pages = ourPages[kind].length;
      const oursRate = pages / median(cpu[kind].ours);
      const gsRate = version ? pages / median(cpu[kind].gs) : null;
      const maybe = (value: number | null | undefined, digits: number): number | null =>
        value === null || value === undefined ? null : round(value, digits);
      figures[kind] = {
        pages,
        pages_per_cpu_s: round(oursRate, 1),
        gs_pages_per_cpu_s: maybe(gsRate, 1),
        line_s_per_page: round(ours.lineS, 2),
        gs_line_s_per_page: maybe(gs?.lineS, 2),
        line_s_ratio_vs_gs: gs ? round(ours.lineS / gs.lineS) : null,
        t6_line_s_per_page: round(ours.t6LineS, 2),
        gs_t6_line_s_per_page: maybe(gs?.t6LineS, 2),
        quality: round(ours.quality),
        gs_quality: maybe(gs?.quality, 3),
        tone_error: maybe(ours.toneError, 4),
        gs_tone_error: maybe(gs?.toneError, 4),
      };
    }

    options.log('documents: 200 pages, each side in a process of its own');
    const long = ourLongRun(path.join(COMPILED, 'dist'), inputs.long);
    const gsLong = version ? gsTiff(inputs.long, path.join(dir, 'gs-long.tif')) : null;
    let gsStart: number | null = null;
    if (version) {
      const blank = path.join(dir, 'blank.pdf');
      fs.writeFileSync(blank, await makePdf([{}]));
      const starts = Array.from({ length: options.runs }, () => gsTiff(blank, path.join(dir, 'gs-blank.tif')).cpuS);
      gsStart = median(starts);
    }

    const totalPages = KINDS.reduce((n, kind) => n + figures[kind].pages, 0);
    const sumRuns = (side: 'ours' | 'gs') =>
      cpu.text[side].map((_, i) => KINDS.reduce((sum, kind) => sum + cpu[kind][side][i]!, 0));
    const pagesPerCpu = totalPages / median(sumRuns('ours'));
    const gsPagesPerCpu = version ? totalPages / median(sumRuns('gs')) : null;
    const { text, photo, mixed } = figures;
    const lineGoal = (k: KindFigures, limit: number): boolean | null =>
      k.line_s_ratio_vs_gs === null ? null : k.line_s_ratio_vs_gs <= limit && k.quality >= k.gs_quality!;
    const speedGoal = (k: KindFigures, share: number): boolean | null =>
      k.gs_pages_per_cpu_s === null ? null : k.pages_per_cpu_s >= share * k.gs_pages_per_cpu_s;
    const longRate = long.pages / long.cpuS;
    const gsLongRate = gsLong ? long.pages / gsLong.cpuS : null;
    const longSpeedGoal = (share: number): boolean | null =>
      gsLongRate === null ? null : longRate >= share * gsLongRate;
    const peakMb = long.maxRssKb / 1024;
    return {
      pages_per_cpu_s: round(pagesPerCpu, 1),
      gs_pages_per_cpu_s: gsPagesPerCpu === null ? null : round(gsPagesPerCpu, 1),
      text_line_s_ratio_vs_gs: text.line_s_ratio_vs_gs,
      photo_line_s_ratio_vs_gs: photo.line_s_ratio_vs_gs,
      text_quality: text.quality,
      gs_text_quality: text.gs_quality,
      photo_quality: photo.quality,
      gs_photo_quality: photo.gs_quality,
      tone_error: photo.tone_error,
      gs_tone_error: photo.gs_tone_error,
      peak_rss_mb_200_pages: round(peakMb, 1),
      gs_peak_rss_mb_200_pages: gsLong ? round(gsLong.maxRssKb / 1024, 1) : null,
      text_line_s_per_page: text.line_s_per_page,
      gs_text_line_s_per_page: text.gs_line_s_per_page,
      photo_line_s_per_page: photo.line_s_per_page,
      gs_photo_line_s_per_page: photo.gs_line_s_per_page,
      text_t6_line_s_per_page: text.t6_line_s_per_page,
      gs_text_t6_line_s_per_page: text.gs_t6_line_s_per_page,
      photo_t6_line_s_per_page: photo.t6_line_s_per_page,
      gs_photo_t6_line_s_per_page: photo.gs_t6_line_s_per_page,
      text_pages_per_cpu_s: text.pages_per_cpu_s,
      gs_text_pages_per_cpu_s: text.gs_pages_per_cpu_s,
      photo_pages_per_cpu_s: photo.pages_per_cpu_s,
      gs_photo_pages_per_cpu_s: photo.gs_pages_per_cpu_s,
      pages_per_cpu_s_200_pages: round(longRate, 1),
      gs_pages_per_cpu_s_200_pages: gsLongRate === null ? null : round(gsLongRate, 1),
      gs_start_cpu_s: gsStart === null ? null : round(gsStart, 3),
      kinds: figures,
      inputs: inputs.kind,
      sources: inputs.sources,
      text_pages: text.pages,
      photo_pages: photo.pages,
      mixed_pages: mixed.pages,
      runs: options.runs,
      gs_version: version,
      meets_speed_goal: gsPagesPerCpu === null ? null : pagesPerCpu >= GOALS.pagesPerCpuVsGs * gsPagesPerCpu,
      meets_text_line_goal: lineGoal(text, GOALS.textLineRatio),
      meets_photo_line_goal: lineGoal(photo, GOALS.photoLineRatio),
      meets_mixed_line_goal: lineGoal(mixed, GOALS.photoLineRatio),
      meets_text_speed_floor: speedGoal(text, GOALS.pagesPerCpuVsGs),
      meets_text_speed_moonshot: speedGoal(text, 1),
      meets_photo_speed_goal: speedGoal(photo, 1),
      meets_text_speed_floor_200_pages: longSpeedGoal(GOALS.pagesPerCpuVsGs),
      meets_text_speed_moonshot_200_pages: longSpeedGoal(1),
      meets_rss_goal: peakMb < 300,
    };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function table(r: DocumentsResult): BenchTable {
  const f = (n: number | null, digits = 2): string => (n === null ? '—' : n.toFixed(digits));
  const goal = (met: boolean | null): string => (met === null ? 'n/a (no gs)' : met ? 'met' : 'NOT met');
  const ratio = (ours: number, gs: number | null): string => (gs === null ? '—' : (ours / gs).toFixed(2));
  const rows: string[][] = [['', 'ours', 'gs', 'ours/gs']];
  rows.push(
    [
      'pages per CPU-second, all kinds',
      f(r.pages_per_cpu_s, 1),
      f(r.gs_pages_per_cpu_s, 1),
      ratio(r.pages_per_cpu_s, r.gs_pages_per_cpu_s),
    ],
    [
      '  200 pages (text)',
      f(r.pages_per_cpu_s_200_pages, 1),
      f(r.gs_pages_per_cpu_s_200_pages, 1),
      ratio(r.pages_per_cpu_s_200_pages, r.gs_pages_per_cpu_s_200_pages),
    ],
    ['peak RSS, 200 pages (MB)', f(r.peak_rss_mb_200_pages, 1), f(r.gs_peak_rss_mb_200_pages, 1), ''],
  );
  for (const kind of KINDS) {
    const k = r.kinds[kind];
    rows.push(
      [
        `${kind} (${k.pages} pages): pages per CPU-second`,
        f(k.pages_per_cpu_s, 1),
        f(k.gs_pages_per_cpu_s, 1),
        ratio(k.pages_per_cpu_s, k.gs_pages_per_cpu_s),
      ],
      ['  line s/page', f(k.line_s_per_page), f(k.gs_line_s_per_page), f(k.line_s_ratio_vs_gs)],
      ['  from T.6 bytes', f(k.t6_line_s_per_page), f(k.gs_t6_line_s_per_page), ''],
      ['  quality (blurred SSIM)', f(k.quality, 3), f(k.gs_quality, 3), ''],
    );
    if (k.tone_error !== null) rows.push(['  tone error (0..1)', f(k.tone_error, 4), f(k.gs_tone_error, 4), '']);
  }
  return {
    title: `documents: PDF to fax pages, ours (PDFium WASM + native 1-bit) against Ghostscript ${r.gs_version ?? '(not installed)'}, ${r.inputs} PDFs, median of ${r.runs} runs`,
    rows,
    notes: [
      `goal ≥ ${GOALS.pagesPerCpuVsGs}× gs pages per CPU-second, all kinds: ${goal(r.meets_speed_goal)}`,
      `goal text ≥ ${GOALS.pagesPerCpuVsGs}× gs pages per CPU-second (floor): ${goal(r.meets_text_speed_floor)} on 10 pages, ${goal(r.meets_text_speed_floor_200_pages)} on 200; ≥ 1× (moonshot): ${goal(r.meets_text_speed_moonshot)} on 10 pages, ${goal(r.meets_text_speed_moonshot_200_pages)} on 200`,
      `goal photo ≥ 1× gs pages per CPU-second: ${goal(r.meets_photo_speed_goal)}`,
      `goal text ≤ ${GOALS.textLineRatio}× gs line time at equal or better quality: ${goal(r.meets_text_line_goal)}`,
      `goal photo ≤ ${GOALS.photoLineRatio}× gs line time at equal or better quality: ${goal(r.meets_photo_line_goal)} (mixed pages: ${goal(r.meets_mixed_line_goal)})`,
      `goal 200 pages under 300 MB RSS: ${r.meets_rss_goal ? 'met' : 'NOT met'}`,
      `gs's per-document figures include its process start, ${f(r.gs_start_cpu_s, 3)} CPU s (a blank page); ours are of a running process (its PDFium compiled)`,
      `pages: text ${r.sources.text}; photo ${r.sources.photo}; mixed ${r.sources.mixed}`,
      'line time: loopback V.17 + ECM + T.6, negotiated to last page; quality and tone: each renderer against its own gray render',
    ],
  };
}

/** The documents part of `npm run bench`. */
export const documents: BenchPart<DocumentsResult> = {
  description: 'PDF to fax pages: pages per CPU-second, peak RSS, line time and quality against Ghostscript',
  run,
  table,
};
