/**
 * The documents part: our PDF-to-fax pipeline (lib/document: PDFium WebAssembly in a worker,
 * native 1-bit conversion, T.6 TIFF-F) against Ghostscript's tiffg4 device, on the same PDFs.
 *
 * Inputs. Text: ten pages of the gnuplot manual (LaTeX, US Letter); photo: a photograph
 * (grace_hopper.jpg) and a photo-like generated image, each filling an A4 page; 200 pages:
 * the gnuplot manual's first 200. These come from test/fixtures/fetch-pdfs.sh; without it,
 * generated PDFs of the same kinds stand in (the result says which: `inputs`).
 *
 * Figures, each the median of the timed runs where timed:
 *  - pages per CPU-second: pages of the text and photo PDFs / CPU time to turn them into a
 *    TIFF-F. Ours is prepareDocument() on a file: URL, timed with the process CPU clock
 *    (process.cpuUsage(): every thread, the render worker included); Ghostscript's is its
 *    process's user + system time (getrusage of children, through python3). Our lib/ is
 *    transpiled to JavaScript first (bench/out/documents-lib), as the package ships it: under
 *    ts-node each render worker would also load the TypeScript compiler.
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
import { blurredSsim, grayRenders, makePdf, pickPages, thirdParty, type GrayImage } from '../../test/helpers/pdfs';
import { median, round, type BenchOptions, type BenchPart, type BenchTable } from '../part';

const ROOT = path.join(__dirname, '..', '..');
const OUT = path.join(ROOT, 'bench', 'out');
const COMPILED = path.join(OUT, 'documents-lib');
const V17_BITS_PER_SECOND = 14_400;
const GOALS = { pagesPerCpuVsGs: 0.5, textLineRatio: 0.9, photoLineRatio: 0.6 } as const;

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
  /** What the figures were measured on. */
  inputs: 'third-party' | 'generated';
  text_pages: number;
  photo_pages: number;
  runs: number;
  gs_version: string | null;
  meets_speed_goal: boolean | null;
  meets_text_line_goal: boolean | null;
  meets_photo_line_goal: boolean | null;
  meets_rss_goal: boolean;
}

interface Inputs {
  kind: 'third-party' | 'generated';
  text: string;
  photo: string;
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
  const hopper = thirdParty('grace_hopper.jpg');
  const fullPage: [number, number, number, number] = [10, 10, 190, 277];
  if (gnuplot && hopper) {
    return {
      kind: 'third-party',
      text: write(
        'text.pdf',
        await pickPages(
          gnuplot,
          Array.from({ length: 10 }, (_, i) => 20 + i),
        ),
      ),
      photo: write('photo.pdf', await makePdf([{ jpeg: { bytes: hopper, box: fullPage } }, { photo: fullPage }])),
      long: write(
        'long.pdf',
        await pickPages(
          gnuplot,
          Array.from({ length: 200 }, (_, i) => i),
        ),
      ),
    };
  }
  log('documents: third-party PDFs missing (test/fixtures/fetch-pdfs.sh); using generated ones');
  return {
    kind: 'generated',
    text: write(
      'text.pdf',
      await makePdf(Array.from({ length: 10 }, (_, i) => ({ size: [612, 792], text: { seed: i + 1 } }))),
    ),
    photo: write('photo.pdf', await makePdf([{ photo: fullPage }, { photo: fullPage, vector: true }])),
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
}

async function sideFigures(pages: FaxPage[], file: string, references: GrayImage[]): Promise<SideFigures> {
  const quality = pages.map((page, i) => blurredSsim(page, references[i]!));
  return {
    ...(await loopbackLineSeconds(file, pages.length)),
    quality: quality.reduce((a, b) => a + b) / quality.length,
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
    const kept = { text: await prepare(inputs.text), photo: await prepare(inputs.photo) };
    const ourPages = { text: readTiffPages(kept.text.file), photo: readTiffPages(kept.photo.file) };
    const total = ourPages.text.length + ourPages.photo.length;

    // CPU seconds per run of each side on each PDF.
    const cpu = { text: [] as number[], photo: [] as number[], gsText: [] as number[], gsPhoto: [] as number[] };
    for (let r = 0; r < options.runs; r++) {
      options.log(`documents: run ${r + 1} of ${options.runs}`);
      for (const kind of ['text', 'photo'] as const) {
        const start = cpuSeconds();
        await (await prepare(inputs[kind])).cleanup();
        cpu[kind].push(cpuSeconds() - start);
      }
      if (version) {
        cpu.gsText.push(gsTiff(inputs.text, path.join(dir, 'gs-text.tif')).cpuS);
        cpu.gsPhoto.push(gsTiff(inputs.photo, path.join(dir, 'gs-photo.tif')).cpuS);
      }
    }
    const rate = (pages: number, seconds: number[]) => pages / median(seconds);
    const both = (a: number[], b: number[]) => a.map((value, i) => value + b[i]!);

    options.log('documents: line time (loopback calls) and quality');
    const oursText = await sideFigures(
      ourPages.text,
      kept.text.file,
      await grayRenders(fs.readFileSync(inputs.text), 'fine'),
    );
    const oursPhoto = await sideFigures(
      ourPages.photo,
      kept.photo.file,
      await grayRenders(fs.readFileSync(inputs.photo), 'fine'),
    );
    await kept.text.cleanup();
    await kept.photo.cleanup();
    let gsText: SideFigures | null = null;
    let gsPhoto: SideFigures | null = null;
    if (version) {
      const side = async (pdf: string, name: string): Promise<SideFigures> => {
        const file = path.join(dir, `gs-${name}.tif`);
        const pages = readTiffPages(file);
        return sideFigures(pages, file, gsGray(pdf, dir, pages));
      };
      gsText = await side(inputs.text, 'text');
      gsPhoto = await side(inputs.photo, 'photo');
    }

    options.log('documents: 200 pages, each side in a process of its own');
    const long = ourLongRun(path.join(COMPILED, 'dist'), inputs.long);
    const gsLong = version ? gsTiff(inputs.long, path.join(dir, 'gs-long.tif')) : null;

    const pagesPerCpu = rate(total, both(cpu.text, cpu.photo));
    const gsPagesPerCpu = version ? rate(total, both(cpu.gsText, cpu.gsPhoto)) : null;
    const ratio = (a: number, b: number | undefined) => (b === undefined ? null : round(a / b));
    const textRatio = ratio(oursText.lineS, gsText?.lineS);
    const photoRatio = ratio(oursPhoto.lineS, gsPhoto?.lineS);
    const peakMb = long.maxRssKb / 1024;
    return {
      pages_per_cpu_s: round(pagesPerCpu, 1),
      gs_pages_per_cpu_s: gsPagesPerCpu === null ? null : round(gsPagesPerCpu, 1),
      text_line_s_ratio_vs_gs: textRatio,
      photo_line_s_ratio_vs_gs: photoRatio,
      text_quality: round(oursText.quality),
      gs_text_quality: gsText ? round(gsText.quality) : null,
      photo_quality: round(oursPhoto.quality),
      gs_photo_quality: gsPhoto ? round(gsPhoto.quality) : null,
      peak_rss_mb_200_pages: round(peakMb, 1),
      gs_peak_rss_mb_200_pages: gsLong ? round(gsLong.maxRssKb / 1024, 1) : null,
      text_line_s_per_page: round(oursText.lineS, 2),
      gs_text_line_s_per_page: gsText ? round(gsText.lineS, 2) : null,
      photo_line_s_per_page: round(oursPhoto.lineS, 2),
      gs_photo_line_s_per_page: gsPhoto ? round(gsPhoto.lineS, 2) : null,
      text_t6_line_s_per_page: round(oursText.t6LineS, 2),
      gs_text_t6_line_s_per_page: gsText ? round(gsText.t6LineS, 2) : null,
      photo_t6_line_s_per_page: round(oursPhoto.t6LineS, 2),
      gs_photo_t6_line_s_per_page: gsPhoto ? round(gsPhoto.t6LineS, 2) : null,
      text_pages_per_cpu_s: round(rate(ourPages.text.length, cpu.text), 1),
      gs_text_pages_per_cpu_s: version ? round(rate(ourPages.text.length, cpu.gsText), 1) : null,
      photo_pages_per_cpu_s: round(rate(ourPages.photo.length, cpu.photo), 1),
      gs_photo_pages_per_cpu_s: version ? round(rate(ourPages.photo.length, cpu.gsPhoto), 1) : null,
      pages_per_cpu_s_200_pages: round(long.pages / long.cpuS, 1),
      gs_pages_per_cpu_s_200_pages: gsLong ? round(long.pages / gsLong.cpuS, 1) : null,
      inputs: inputs.kind,
      text_pages: ourPages.text.length,
      photo_pages: ourPages.photo.length,
      runs: options.runs,
      gs_version: version,
      meets_speed_goal: gsPagesPerCpu === null ? null : pagesPerCpu >= GOALS.pagesPerCpuVsGs * gsPagesPerCpu,
      meets_text_line_goal:
        textRatio === null ? null : textRatio <= GOALS.textLineRatio && oursText.quality >= gsText!.quality,
      meets_photo_line_goal:
        photoRatio === null ? null : photoRatio <= GOALS.photoLineRatio && oursPhoto.quality >= gsPhoto!.quality,
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
  const speed = (label: string, ours: number, gs: number | null): string[] => [
    label,
    f(ours, 1),
    f(gs, 1),
    ratio(ours, gs),
  ];
  return {
    title: `documents: PDF to fax pages, ours (PDFium WASM + native 1-bit) against Ghostscript ${r.gs_version ?? '(not installed)'}, ${r.inputs} PDFs, median of ${r.runs} runs`,
    rows: [
      ['', 'ours', 'gs', 'ours/gs'],
      speed('pages per CPU-second, text + photo', r.pages_per_cpu_s, r.gs_pages_per_cpu_s),
      speed('  text PDF alone', r.text_pages_per_cpu_s, r.gs_text_pages_per_cpu_s),
      speed('  photo PDF alone', r.photo_pages_per_cpu_s, r.gs_photo_pages_per_cpu_s),
      speed('  200 pages (text)', r.pages_per_cpu_s_200_pages, r.gs_pages_per_cpu_s_200_pages),
      ['peak RSS, 200 pages (MB)', f(r.peak_rss_mb_200_pages, 1), f(r.gs_peak_rss_mb_200_pages, 1), ''],
      [
        `text line s/page (${r.text_pages} pages)`,
        f(r.text_line_s_per_page),
        f(r.gs_text_line_s_per_page),
        f(r.text_line_s_ratio_vs_gs),
      ],
      ['  from T.6 bytes', f(r.text_t6_line_s_per_page), f(r.gs_text_t6_line_s_per_page), ''],
      [
        `photo line s/page (${r.photo_pages} pages)`,
        f(r.photo_line_s_per_page),
        f(r.gs_photo_line_s_per_page),
        f(r.photo_line_s_ratio_vs_gs),
      ],
      ['  from T.6 bytes', f(r.photo_t6_line_s_per_page), f(r.gs_photo_t6_line_s_per_page), ''],
      ['text quality (blurred SSIM)', f(r.text_quality, 3), f(r.gs_text_quality, 3), ''],
      ['photo quality (blurred SSIM)', f(r.photo_quality, 3), f(r.gs_photo_quality, 3), ''],
    ],
    notes: [
      `goal ≥ ${GOALS.pagesPerCpuVsGs}× gs pages per CPU-second: ${goal(r.meets_speed_goal)}`,
      `goal text ≤ ${GOALS.textLineRatio}× gs line time at equal or better quality: ${goal(r.meets_text_line_goal)}`,
      `goal photo ≤ ${GOALS.photoLineRatio}× gs line time at equal or better quality: ${goal(r.meets_photo_line_goal)}`,
      `goal 200 pages under 300 MB RSS: ${r.meets_rss_goal ? 'met' : 'NOT met'}`,
      'line time: loopback V.17 + ECM + T.6, negotiated to last page; quality: each renderer against its own gray render',
    ],
  };
}

/** The documents part of `npm run bench`. */
export const documents: BenchPart<DocumentsResult> = {
  description: 'PDF to fax pages: pages per CPU-second, peak RSS, line time and quality against Ghostscript',
  run,
  table,
};
