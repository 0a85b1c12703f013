/**
 * The t38 part: T.38 fax over UDPTL, in two measurements.
 *
 * 1. A loss matrix: how often a 3-page fax gets through a lossy datagram line, through faxline's
 *    real T.38 path (SpanDSP's T.38 terminal, our UDPTL with its redundancy or FEC, the line
 *    simulator of lib/transports/impairments.ts). A cell is a loss profile × error correction
 *    (redundancy 0, redundancy REDUNDANCY, FEC), run for SEEDS seeds. Loss hits both directions,
 *    each with its own stream of the seed. Unpaced: line time advances by ticks. A run is `ok`
 *    when both ends report success and the receiver has every page; `delivered` counts runs where
 *    the receiver has every page and says so, whatever the sender concluded.
 *
 * 2. The sender's CPU per 20 ms tick, against bench/t38_baseline.c: the same call straight
 *    through SpanDSP from C, with no UDPTL (SpanDSP 0.0.6 has none). Both sides alike: a sender
 *    and a receiver back to back, what one sends in a tick reaching the other at the start of
 *    the next; a wall clock read around each of the sender's ticks (performance.now() here,
 *    CLOCK_MONOTONIC in C; the datagrams copied into a preallocated queue inside the timed
 *    tick, as the C handler copies its IFPs), summed and divided by the ticks; the receiver is
 *    not timed. Each side's clock costs something between its two readings (tens of ns, not
 *    the same in C and JS, on a tick of well under a µs): each side measures that on empty
 *    intervals and subtracts it, so the ratio compares the work, not the clocks. Both senders
 *    must have made the same number of ticks and sent as many packets, or the part fails: then
 *    their set-up differs.
 *
 *    `addon` is a FaxSession with the default T.38 settings (UDPTL redundancy 3): what a host
 *    runs, so the ratio includes our UDPTL framing, which the C side does not do. `addon_no_ec`
 *    is the same with error correction off, a datagram per IFP and nothing more.
 *
 * Each timed run makes one call per side back to back (the C program is run once per run and
 * times one call after untimed ones), and the medians of the runs are reported.
 */
import { execFile, execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import { FaxSession } from '../../lib';
import { type T38Options } from '../../lib/engine/options';
import { native } from '../../lib/native';
import { runSimulatedCall } from '../../lib/transports/impaired-line';
import { defaultLineSpec } from '../../lib/transports/impairments';
import { writeTextDocument } from '../../test/helpers/pages';
import { buildCBaseline } from '../c-baseline';
import {
  lossColumn,
  lossProfiles,
  outOf,
  profileLabel,
  runSeeds,
  type LossProfile,
  type SeedTally,
} from '../loss-matrix';
import { median, round, type BenchOptions, type BenchPart, type BenchTable } from '../part';
import { fastestRatio, fixed, ratioGoalNote, runRange } from '../timed-runs';

const PAGES = 3;
const SEEDS = 20;
/** Earlier IFPs repeated in each datagram in the redundancy cells (the T.38 default depth). */
const REDUNDANCY = 3;
const RANDOM_LOSS_PCT = [1, 5, 10, 20];
/** Line time bound of each call. */
const CALL_LIMIT_MS = 600_000;
/** The goal for addon / C. */
const GOAL_RATIO = 1.1;
/** 30 minutes of line time, like the C side: far beyond a 3-page call, bounds a stuck one. */
const MAX_TICKS = 30 * 60 * 50;
/** Untimed calls per addon variant before the timed runs, so the JIT has optimised the loop. */
const WARM_UP_CALLS = 2;
/** Empty timed intervals measured to find what performance.now() adds to each tick. */
const CLOCK_SAMPLES = 1_000_000;
/** Datagrams one side may send in a tick (SpanDSP makes one to three): a full queue fails the run. */
const QUEUE_DATAGRAMS = 256;
const MAX_DATAGRAM = native.constants.UDPTL_MAX_DATAGRAM;

/** One cell of the loss matrix. */
export interface T38LossCell {
  /** Random loss in percent, or the burst profile's mean loss. */
  loss_pct: number;
  /** The Gilbert–Elliott profile as "p/r" in percent, or null for random loss. */
  burst: string | null;
  /** Earlier IFPs repeated per datagram (0: none, also in the FEC cells). */
  redundancy: number;
  fec: boolean;
  /** Runs where both ends succeeded and every page arrived. */
  ok: number;
  /** Runs where the receiver has every page and reports success. */
  delivered: number;
  /**
   * The same two for raw SpanDSP from C on the same seeds (bench/t38_baseline.c --loss: the
   * same loss model bit for bit, no UDPTL); null for the redundancy and FEC cells (raw has none).
   */
  raw_ok: number | null;
  raw_delivered: number | null;
  runs: number;
  /** Median line time of the runs, seconds. */
  line_s_median: number;
}

/** The t38 part's figures, as `--json` prints them. */
export interface T38Result {
  loss: T38LossCell[];
  /** Median sender µs per tick through a FaxSession with the default T.38 settings (redundancy 3). */
  addon_us_per_tick: number;
  /** The same through SpanDSP from C. */
  c_us_per_tick: number;
  /** addon / C. */
  ratio: number;
  /** addon / C of each side's fastest run: far from `ratio` means the machine was busy. */
  ratio_of_fastest_runs: number;
  /** Median sender µs per tick with UDPTL error correction off, and / C. */
  addon_no_ec_us_per_tick: number;
  ratio_no_ec: number;
  /** µs per tick of each timed run, in run order. */
  addon_runs_us_per_tick: number[];
  addon_no_ec_runs_us_per_tick: number[];
  c_runs_us_per_tick: number[];
  /** What each side's clock added to a tick and was subtracted (median), ns. */
  addon_clock_ns: number;
  c_clock_ns: number;
  ticks: number;
  /** Packets the sender sent in the call (repeats included). */
  packets: number;
  pages: number;
  runs: number;
  goals: {
    redundancy_10pct_ok: number;
    redundancy_20pct_ok: number;
    goal_ratio: number;
    meets_ratio: boolean;
  };
}

interface ErrorCorrection {
  redundancy: number;
  fec: boolean;
  t38: T38Options;
}

const ERROR_CORRECTIONS: ErrorCorrection[] = [
  { redundancy: 0, fec: false, t38: { errorCorrection: 'none' } },
  { redundancy: REDUNDANCY, fec: false, t38: { errorCorrection: 'redundancy', redundancy: REDUNDANCY } },
  { redundancy: 0, fec: true, t38: { errorCorrection: 'fec' } },
];

/** One cell through faxline's T.38 path: every seed, loss both ways. */
function runCell(tiff: string, dir: string, ec: ErrorCorrection, profile: LossProfile): Promise<SeedTally> {
  return runSeeds(SEEDS, PAGES, dir, (seed, receivedFile) =>
    runSimulatedCall({
      line: { ...defaultLineSpec(), loss: profile.model, seed },
      t38: ec.t38,
      sender: { document: tiff },
      receiver: { receivedFile },
      paced: false,
      timeLimitMs: CALL_LIMIT_MS,
    }),
  );
}

/** Raw SpanDSP over the same lossy line, seed by seed: [ok, delivered]. */
async function runRaw(binary: string, tiff: string, dir: string, profile: LossProfile): Promise<[number, number]> {
  let ok = 0;
  let delivered = 0;
  const receivedFile = path.join(dir, 'raw-received.tif');
  for (let seed = 1; seed <= SEEDS; seed++) {
    const { stdout } = await promisify(execFile)(
      binary,
      [tiff, receivedFile, '--loss', profile.cSpec, '--seed', String(seed)],
      { encoding: 'utf8', timeout: 120_000 },
    );
    const run = JSON.parse(stdout) as BaselineRun;
    if (run.ok) ok++;
    if (run.receiver_code === 0 && run.pages === PAGES) delivered++;
    fs.rmSync(receivedFile, { force: true });
  }
  return [ok, delivered];
}

async function lossMatrix(binary: string, tiff: string, dir: string, options: BenchOptions): Promise<T38LossCell[]> {
  const cells: T38LossCell[] = [];
  for (const profile of lossProfiles(RANDOM_LOSS_PCT)) {
    const [rawOk, rawDelivered] = await runRaw(binary, tiff, dir, profile);
    for (const ec of ERROR_CORRECTIONS) {
      const raw = ec.redundancy === 0 && !ec.fec;
      const started = performance.now();
      const cell = await runCell(tiff, dir, ec, profile);
      cells.push({
        loss_pct: profile.lossPct,
        burst: profile.burst,
        redundancy: ec.redundancy,
        fec: ec.fec,
        ok: cell.ok,
        delivered: cell.delivered,
        raw_ok: raw ? rawOk : null,
        raw_delivered: raw ? rawDelivered : null,
        runs: SEEDS,
        line_s_median: round(median(cell.lineS), 1),
      });
      options.log(
        `t38: loss ${profileLabel(profile)} ${ecLabel(ec.redundancy, ec.fec)}: ` +
          `${cell.ok}/${SEEDS}` +
          (raw ? ` (raw SpanDSP ${rawOk}/${SEEDS})` : '') +
          ` in ${((performance.now() - started) / 1000).toFixed(1)} s`,
      );
    }
  }
  return cells;
}

function ecLabel(redundancy: number, fec: boolean): string {
  return fec ? 'FEC' : redundancy > 0 ? `redundancy ${redundancy}` : 'no EC';
}

/** What the C program prints: one timed call after untimed ones. */
interface BaselineRun {
  ok: boolean;
  pages: number;
  ticks: number;
  us_per_tick: number;
  clock_ns: number;
  ifps: number;
  sender_code: number;
  receiver_code: number;
}

function runBaseline(binary: string, document: string, receivedFile: string): BaselineRun {
  const stdout = execFileSync(binary, [document, receivedFile], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    timeout: 120_000,
  });
  const run = JSON.parse(stdout) as BaselineRun;
  if (!run.ok || run.pages !== PAGES) {
    throw new Error(
      `C: the call failed: sender code ${run.sender_code}, receiver code ${run.receiver_code}, ${run.pages} of ${PAGES} pages`,
    );
  }
  return run;
}

/** The datagrams one side sent in a tick, copied out of the addon before the next tick. */
class Queue {
  readonly bytes = new Uint8Array(QUEUE_DATAGRAMS * MAX_DATAGRAM);
  readonly lengths = new Uint16Array(QUEUE_DATAGRAMS);
  count = 0;
  /** Made once, so a tick allocates nothing for it. */
  readonly push = (datagram: Uint8Array): void => {
    if (this.count === QUEUE_DATAGRAMS) throw new Error(`more than ${QUEUE_DATAGRAMS} datagrams in one tick`);
    this.bytes.set(datagram, this.count * MAX_DATAGRAM);
    this.lengths[this.count++] = datagram.length;
  };

  deliverTo(session: FaxSession): void {
    for (let i = 0; i < this.count; i++) {
      const start = i * MAX_DATAGRAM;
      session.receiveDatagram(this.bytes.subarray(start, start + this.lengths[i]!));
    }
    this.count = 0;
  }
}

/** What two performance.now() readings add to the interval between them, ns (mean of empty ones). */
function clockOverheadNs(): number {
  let total = 0;
  for (let i = 0; i < CLOCK_SAMPLES; i++) {
    const start = performance.now();
    total += performance.now() - start;
  }
  return (total / CLOCK_SAMPLES) * 1e6;
}

interface AddonRun {
  /** Sender µs per tick, the clock's cost subtracted. */
  usPerTick: number;
  clockNs: number;
  ticks: number;
  packets: number;
}

/** One call between two T.38 FaxSessions, the sender's ticks timed as the C side times them. */
function addonCall(document: string, receivedFile: string, t38: T38Options): AddonRun {
  const sender = new FaxSession({ direction: 'send', document, t38 });
  const receiver = new FaxSession({ direction: 'receive', receivedFile, t38 });
  // Per direction, the queue being filled this tick and the one being delivered, swapped each tick.
  const toReceiver = [new Queue(), new Queue()] as const;
  const toSender = [new Queue(), new Queue()] as const;
  let filling = 0;
  let ticks = 0;
  let packets = 0;
  let totalMs = 0;
  try {
    const clockNs = clockOverheadNs();
    while (!(sender.finished && receiver.finished)) {
      if (ticks === MAX_TICKS) throw new Error('addon: the call did not finish within 30 minutes of line time');
      const heard = filling;
      filling ^= 1;
      toSender[heard].deliverTo(sender);
      const out = toReceiver[filling];
      const start = performance.now();
      sender.tick(out.push);
      totalMs += performance.now() - start;
      packets += out.count;
      toReceiver[heard].deliverTo(receiver);
      receiver.tick(toSender[filling].push);
      ticks++;
    }
    for (const [side, result] of [
      ['sender', sender.result!],
      ['receiver', receiver.result!],
    ] as const) {
      if (result.code !== 0 || result.pages !== PAGES) {
        throw new Error(
          `addon: the ${side} finished with code ${result.code} (${result.text}) after ${result.pages} of ${PAGES} pages`,
        );
      }
    }
    return { usPerTick: (totalMs * 1000) / ticks - clockNs / 1000, clockNs, ticks, packets };
  } finally {
    sender.close();
    receiver.close();
  }
}

function checkSameWork(name: string, addon: AddonRun, c: BaselineRun): void {
  if (addon.ticks !== c.ticks || addon.packets !== c.ifps) {
    throw new Error(
      `the ${name} sender (${addon.ticks} ticks, ${addon.packets} datagrams) and the C sender (${c.ticks} ticks, ` +
        `${c.ifps} IFPs) did not make the same call: their set-up differs; make bench/t38_baseline.c set up ` +
        'SpanDSP as native/engine/t38_terminal.cpp does',
    );
  }
}

const DEFAULT_T38: T38Options = {};
const NO_EC_T38: T38Options = { errorCorrection: 'none' };

async function run(options: BenchOptions): Promise<T38Result> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'faxline-bench-t38-'));
  try {
    const { file: document } = writeTextDocument(dir, PAGES);

    options.log('t38: compiling the C baseline');
    const baseline = buildCBaseline('t38_baseline');
    const receivedFile = path.join(dir, 'received.tif');
    for (let i = 0; i < WARM_UP_CALLS; i++) {
      addonCall(document, receivedFile, DEFAULT_T38);
      addonCall(document, receivedFile, NO_EC_T38);
    }
    // Each run times one call per side, back to back, so a change in the machine's load falls
    // on all sides alike.
    const cRuns: BaselineRun[] = [];
    const addonRuns: AddonRun[] = [];
    const noEcRuns: AddonRun[] = [];
    for (let r = 0; r < options.runs; r++) {
      options.log(`t38: CPU run ${r + 1} of ${options.runs}`);
      const c = runBaseline(baseline, document, receivedFile);
      // Starting the C program forked this process, which makes its pages copy-on-write: the
      // first writes after it fault. An untimed call takes those faults, not a timed one.
      addonCall(document, receivedFile, NO_EC_T38);
      const addon = addonCall(document, receivedFile, DEFAULT_T38);
      const noEc = addonCall(document, receivedFile, NO_EC_T38);
      checkSameWork('addon (no EC)', noEc, c);
      // Redundancy makes each datagram longer, not more of them: the same count.
      checkSameWork('addon', addon, c);
      cRuns.push(c);
      addonRuns.push(addon);
      noEcRuns.push(noEc);
    }

    const cells = await lossMatrix(baseline, document, dir, options);

    const us = (runs: readonly { usPerTick: number }[]): number[] => runs.map((x) => x.usPerTick);
    const cUs = cRuns.map((c) => c.us_per_tick);
    const addonUs = us(addonRuns);
    const noEcUs = us(noEcRuns);
    const redundant = (pct: number): number =>
      Math.min(
        ...cells.filter((c) => c.redundancy === REDUNDANCY && c.burst === null && c.loss_pct === pct).map((c) => c.ok),
      );
    const ratio = median(addonUs) / median(cUs);
    return {
      loss: cells,
      addon_us_per_tick: round(median(addonUs)),
      c_us_per_tick: round(median(cUs)),
      ratio: round(ratio),
      ratio_of_fastest_runs: round(fastestRatio(addonUs, cUs)),
      addon_no_ec_us_per_tick: round(median(noEcUs)),
      ratio_no_ec: round(median(noEcUs) / median(cUs)),
      addon_runs_us_per_tick: addonUs.map((x) => round(x)),
      addon_no_ec_runs_us_per_tick: noEcUs.map((x) => round(x)),
      c_runs_us_per_tick: cUs.map((x) => round(x)),
      addon_clock_ns: round(median(addonRuns.map((a) => a.clockNs)), 1),
      c_clock_ns: round(median(cRuns.map((c) => c.clock_ns)), 1),
      ticks: cRuns[0]!.ticks,
      packets: cRuns[0]!.ifps,
      pages: PAGES,
      runs: options.runs,
      goals: {
        redundancy_10pct_ok: redundant(10),
        redundancy_20pct_ok: redundant(20),
        goal_ratio: GOAL_RATIO,
        meets_ratio: ratio <= GOAL_RATIO,
      },
    };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function table(r: T38Result): BenchTable {
  const rows = [['loss', 'error correction', 'ok', 'raw SpanDSP', 'delivered', 'raw delivered', 'line s (median)']];
  for (const c of r.loss) {
    rows.push([
      lossColumn(c),
      ecLabel(c.redundancy, c.fec),
      outOf(c.ok, c.runs),
      outOf(c.raw_ok, c.runs),
      outOf(c.delivered, c.runs),
      outOf(c.raw_delivered, c.runs),
      c.line_s_median.toFixed(1),
    ]);
  }
  const g = r.goals;
  return {
    title: `T.38/UDPTL loss: ${r.pages}-page fax, ${SEEDS} seeds a cell (faxline vs raw SpanDSP 0.0.6 on the same seeds)`,
    rows,
    notes: [
      `goal: redundancy ${REDUNDANCY}: 20/20 at 10 % (${g.redundancy_10pct_ok}/20), at least 19/20 at 20 % (${g.redundancy_20pct_ok}/20)`,
      `sender µs per 20 ms tick (${r.ticks} ticks, median of ${r.runs} runs; per-run range):`,
      `  C baseline (SpanDSP)  ${fixed(r.c_us_per_tick)}  (${runRange(r.c_runs_us_per_tick)})`,
      `  addon, redundancy ${REDUNDANCY}   ${fixed(r.addon_us_per_tick)}  (${runRange(r.addon_runs_us_per_tick)})  ratio ${fixed(r.ratio)}`,
      `  addon, no EC          ${fixed(r.addon_no_ec_us_per_tick)}  (${runRange(r.addon_no_ec_runs_us_per_tick)})  ratio ${fixed(r.ratio_no_ec)}`,
      ratioGoalNote(g.goal_ratio, g.meets_ratio, r.ratio_of_fastest_runs, r.ratio),
      `clock cost subtracted per tick: ${r.addon_clock_ns} ns (performance.now), ${r.c_clock_ns} ns (clock_gettime)`,
    ],
  };
}

/** The t38 part of `npm run bench`. */
export const t38: BenchPart<T38Result> = {
  description: `T.38/UDPTL: a ${PAGES}-page fax over a lossy datagram line (${SEEDS} seeds a cell), and sender CPU per tick against SpanDSP from C`,
  run,
  table,
};
