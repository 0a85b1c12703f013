/**
 * The engine part: the sender's CPU time per 20 ms frame of a V.17 ECM call through the
 * addon, against the same SpanDSP driven the same way from C (bench/engine_baseline.c).
 *
 * What is measured, alike on both sides:
 *  1. A live loopback call of a 3-page document: sender and receiver back to back, per frame
 *     `sender.process(fromReceiver, toReceiver); receiver.process(toReceiver, fromReceiver)`
 *     until both finished. It proves the fax went through (code 0, every page received
 *     bit-exact) and records, per frame, what the sender heard and what it sent.
 *  2. Replays, the measurement: a fresh sender fed the recorded frames alone, frame by frame,
 *     in the same order of calls as in the call. SpanDSP advances time only by samples, so the
 *     sender redoes exactly its work in the call; each replay checks that by comparing its
 *     audio with the recording, and the C and addon senders' audio must be identical too. A
 *     whole replay is timed as one batch with the process's CPU clock: process.cpuUsage() here,
 *     CLOCK_PROCESS_CPUTIME_ID in C. Timing each ~5 µs call instead would add a clock reading
 *     per call, whose cost (tens of ns, not the same in C and JS) is the size of the overhead
 *     sought; and a wall clock would count other load on the machine. Creating and closing
 *     the sender are outside the batch. Untimed replays first let the JIT optimise the loop.
 *
 * Each timed run makes one replay per side back to back (the C program is run once per run),
 * and the medians of the runs are reported.
 *
 * "addon" is the public FaxSession (lib/engine/session.ts), the path a media server uses;
 * "native" is the raw addon object under it, so the difference is what the TS layer costs.
 * The process CPU clock also counts V8's own threads (GC, compiler) on the JS side: that is
 * part of what running the addon costs. Wall-clock medians are reported next to it; they
 * match the CPU figures on an idle machine.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { FaxSession, SAMPLES_PER_FRAME, readTiffPages, type FaxPage } from '../../lib';
import { native } from '../../lib/native';
import { differingRows, writeTextDocument } from '../../test/helpers/pages';
import { buildCBaseline } from '../c-baseline';
import { median, round, type BenchOptions, type BenchPart, type BenchTable } from '../part';
import { fastestRatio, fixed, ratioGoalNote, runRange } from '../timed-runs';

/** Pages of the document sent: enough for several page transitions in one call. */
const PAGES = 3;
/** The goal for addon / C. */
const GOAL_RATIO = 1.1;
/** 30 minutes of line time, like the C side: far beyond a 3-page call, bounds a stuck one. */
const MAX_FRAMES = 30 * 60 * 50;
/** Untimed replays per path before the timed ones (the C program makes as many). */
const WARM_UP_REPLAYS = 2;

/** The engine part's figures, as `--json` prints them. */
export interface EngineResult {
  /** Median sender CPU µs per frame through the public FaxSession. */
  addon_us_per_frame: number;
  /** The same through SpanDSP from C. */
  c_us_per_frame: number;
  /** addon / C. */
  ratio: number;
  /**
   * addon / C of each side's fastest run. Noise from other load on the machine only adds
   * time, so when this is far from `ratio` the machine was busy: run again.
   */
  ratio_of_fastest_runs: number;
  /** Median sender CPU µs per frame through the raw addon object (no TS layer), and / C. */
  native_us_per_frame: number;
  native_ratio: number;
  /** Median wall-clock µs per frame of the same replays: close to the CPU figures when idle. */
  addon_wall_us_per_frame: number;
  native_wall_us_per_frame: number;
  c_wall_us_per_frame: number;
  /** CPU µs per frame of each timed run, in run order. */
  addon_runs_us_per_frame: number[];
  native_runs_us_per_frame: number[];
  c_runs_us_per_frame: number[];
  frames: number;
  line_seconds: number;
  pages: number;
  runs: number;
  goal_ratio: number;
  meets_goal: boolean;
}

/** What the C program prints: one timed replay of the call it made. */
interface BaselineRun {
  frames: number;
  pages: number;
  tx_fnv1a: number;
  cpu_ns: number;
  wall_ns: number;
}

/** The audio of one call as the sender saw it: heard[i] was fed before frame i was sent. */
interface Recording {
  heard: Int16Array[];
  sent: Int16Array;
  frames: number;
}

interface Timing {
  cpuNs: number;
  wallNs: number;
}

/** One run of the C side: a live call, checked here too, then one timed replay. */
function runBaseline(binary: string, document: string, dir: string, sent: readonly FaxPage[]): BaselineRun {
  const stdout = execFileSync(binary, [document, dir], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  const run = JSON.parse(stdout) as BaselineRun;
  checkReceived('C', path.join(dir, 'baseline-received.tif'), sent);
  return run;
}

/** FNV-1a over the samples' bytes, as the C program computes it. */
function fnv1a(samples: Int16Array): number {
  const bytes = new Uint8Array(samples.buffer, samples.byteOffset, samples.byteLength);
  let hash = 0x811c9dc5;
  for (const byte of bytes) hash = Math.imul(hash ^ byte, 0x01000193) >>> 0;
  return hash;
}

/** µs per frame of timed runs: the CPU figure of each run and the medians. */
function perFrame(runs: readonly Timing[], frames: number): { cpu: number; wall: number; runs: number[] } {
  const cpu = runs.map((t) => t.cpuNs / frames / 1000);
  return { cpu: median(cpu), wall: median(runs.map((t) => t.wallNs / frames / 1000)), runs: cpu };
}

function startTimer(): Timing {
  const cpu = process.cpuUsage();
  return { cpuNs: (cpu.user + cpu.system) * 1000, wallNs: performance.now() * 1e6 };
}

function stopTimer(start: Timing): Timing {
  const wallNs = performance.now() * 1e6 - start.wallNs;
  const cpu = process.cpuUsage();
  return { cpuNs: (cpu.user + cpu.system) * 1000 - start.cpuNs, wallNs };
}

/** Checks both ends of the live call completed and the receiver got every page bit-exact. */
function checkReceived(side: string, receivedFile: string, sent: readonly FaxPage[]): void {
  const received = readTiffPages(receivedFile);
  if (received.length !== sent.length) {
    throw new Error(`${side}: the receiver wrote ${received.length} pages of ${sent.length}`);
  }
  received.forEach((page, i) => {
    const rows = differingRows(page, sent[i]!);
    if (rows !== 0) throw new Error(`${side}: received page ${i + 1} differs from the sent page in ${rows} rows`);
  });
}

function liveCall(document: string, receivedFile: string): Recording {
  const sender = new FaxSession({ direction: 'send', document, ecm: true, modems: ['v17'] });
  const receiver = new FaxSession({ direction: 'receive', receivedFile });
  const toReceiver = new Int16Array(SAMPLES_PER_FRAME);
  const toSender = new Int16Array(SAMPLES_PER_FRAME);
  const heard: Int16Array[] = [];
  const sent: Int16Array[] = [];
  try {
    while (!(sender.finished && receiver.finished)) {
      if (heard.length === MAX_FRAMES) throw new Error('addon: the call did not finish within 30 minutes of line time');
      heard.push(toSender.slice());
      sender.process(toSender, toReceiver);
      sent.push(toReceiver.slice());
      receiver.process(toReceiver, toSender);
    }
  } finally {
    sender.close();
    receiver.close();
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
  const frames = heard.length;
  const all = new Int16Array(frames * SAMPLES_PER_FRAME);
  sent.forEach((frame, i) => all.set(frame, i * SAMPLES_PER_FRAME));
  return { heard, sent: all, frames };
}

/** Where replays write the sender's audio: views into one buffer, made once, before any timing. */
interface Output {
  all: Int16Array;
  views: Int16Array[];
}

function output(frames: number): Output {
  const all = new Int16Array(frames * SAMPLES_PER_FRAME);
  const views = Array.from({ length: frames }, (_, i) =>
    all.subarray(i * SAMPLES_PER_FRAME, (i + 1) * SAMPLES_PER_FRAME),
  );
  return { all, views };
}

function checkReplay(side: string, code: number, pages: number, out: Output, recording: Recording): void {
  if (code !== 0 || pages !== PAGES)
    throw new Error(`${side}: a replayed sender finished with code ${code} after ${pages} pages`);
  if (Buffer.compare(Buffer.from(out.all.buffer), Buffer.from(recording.sent.buffer)) !== 0) {
    throw new Error(
      `${side}: a replayed sender sent different audio than in the call: the replay is not the same work`,
    );
  }
}

/** A replay through the public FaxSession. */
function replayFaxSession(document: string, recording: Recording, out: Output): Timing {
  const { heard, frames } = recording;
  const views = out.views;
  // Cleared so the check below sees this replay's audio, not the previous one's.
  out.all.fill(0);
  const sender = new FaxSession({ direction: 'send', document, ecm: true, modems: ['v17'] });
  const start = startTimer();
  for (let i = 0; i < frames; i++) sender.process(heard[i]!, views[i]!);
  const timing = stopTimer(start);
  const result = sender.result;
  sender.close();
  checkReplay('addon', result?.code ?? -1, result?.pages ?? 0, out, recording);
  return timing;
}

/** A replay through the raw addon object, draining events as FaxSession does. */
function replayNative(document: string, recording: Recording, out: Output): Timing {
  const { heard, frames } = recording;
  const views = out.views;
  out.all.fill(0);
  const sender = new native.FaxSession({
    direction: 'send',
    callingParty: true,
    txFile: document,
    ecm: true,
    modems: native.constants.T30_SUPPORT_V17,
  });
  const start = startTimer();
  for (let i = 0; i < frames; i++) if (sender.process(heard[i]!, views[i]!) > 0) sender.takeEvents();
  const timing = stopTimer(start);
  const result = sender.result();
  sender.close();
  checkReplay('native', result?.code ?? -1, result?.pages ?? 0, out, recording);
  return timing;
}

async function run(options: BenchOptions): Promise<EngineResult> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'faxline-bench-'));
  try {
    const { file: document, pages } = writeTextDocument(dir, PAGES);

    options.log('engine: compiling the C baseline');
    const baseline = buildCBaseline('engine_baseline');

    options.log('engine: addon, live call');
    const receivedFile = path.join(dir, 'addon-received.tif');
    const recording = liveCall(document, receivedFile);
    checkReceived('addon', receivedFile, pages);
    const out = output(recording.frames);
    for (let r = 0; r < WARM_UP_REPLAYS; r++) {
      replayFaxSession(document, recording, out);
      replayNative(document, recording, out);
    }

    // Each run times one replay per side, back to back, so a change in the machine's load
    // falls on all sides alike.
    const addonRuns: Timing[] = [];
    const nativeRuns: Timing[] = [];
    const cRuns: Timing[] = [];
    const frames = recording.frames;
    const sentHash = fnv1a(recording.sent);
    for (let r = 0; r < options.runs; r++) {
      options.log(`engine: run ${r + 1} of ${options.runs}`);
      const c = runBaseline(baseline, document, dir, pages);
      // Identical line audio means both senders negotiated and coded the same: the same work.
      if (c.frames !== frames || c.tx_fnv1a !== sentHash) {
        throw new Error(
          `the addon's sender (${frames} frames) and the C sender (${c.frames} frames) sent different line audio: ` +
            'their set-up differs; make bench/engine_baseline.c set up SpanDSP as native/engine/t30_session.cpp does',
        );
      }
      cRuns.push({ cpuNs: c.cpu_ns, wallNs: c.wall_ns });
      // Starting the C program forked this process, which makes its pages copy-on-write: the
      // first writes after it fault. An untimed replay takes those faults, not a timed one.
      replayNative(document, recording, out);
      nativeRuns.push(replayNative(document, recording, out));
      addonRuns.push(replayFaxSession(document, recording, out));
    }

    const addon = perFrame(addonRuns, frames);
    const nativeSide = perFrame(nativeRuns, frames);
    const cSide = perFrame(cRuns, frames);
    return {
      addon_us_per_frame: round(addon.cpu),
      c_us_per_frame: round(cSide.cpu),
      ratio: round(addon.cpu / cSide.cpu),
      ratio_of_fastest_runs: round(fastestRatio(addon.runs, cSide.runs)),
      native_us_per_frame: round(nativeSide.cpu),
      native_ratio: round(nativeSide.cpu / cSide.cpu),
      addon_wall_us_per_frame: round(addon.wall),
      native_wall_us_per_frame: round(nativeSide.wall),
      c_wall_us_per_frame: round(cSide.wall),
      addon_runs_us_per_frame: addon.runs.map((us) => round(us)),
      native_runs_us_per_frame: nativeSide.runs.map((us) => round(us)),
      c_runs_us_per_frame: cSide.runs.map((us) => round(us)),
      frames,
      line_seconds: round((frames * SAMPLES_PER_FRAME) / native.constants.SAMPLE_RATE, 2),
      pages: PAGES,
      runs: options.runs,
      goal_ratio: GOAL_RATIO,
      meets_goal: addon.cpu / cSide.cpu <= GOAL_RATIO,
    };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function table(r: EngineResult): BenchTable {
  return {
    title:
      `engine: sender µs per 20 ms frame, V.17 ECM, ${r.pages} pages, ${r.frames} frames ` +
      `(${r.line_seconds} s of line), median of ${r.runs} replays`,
    rows: [
      ['', 'CPU', 'ratio', 'wall', 'CPU per run'],
      [
        'C baseline (SpanDSP)',
        fixed(r.c_us_per_frame),
        '1.00',
        fixed(r.c_wall_us_per_frame),
        runRange(r.c_runs_us_per_frame),
      ],
      [
        'addon, FaxSession',
        fixed(r.addon_us_per_frame),
        fixed(r.ratio),
        fixed(r.addon_wall_us_per_frame),
        runRange(r.addon_runs_us_per_frame),
      ],
      [
        'addon, raw native',
        fixed(r.native_us_per_frame),
        fixed(r.native_ratio),
        fixed(r.native_wall_us_per_frame),
        runRange(r.native_runs_us_per_frame),
      ],
    ],
    notes: [
      ratioGoalNote(r.goal_ratio, r.meets_goal, r.ratio_of_fastest_runs, r.ratio),
      'the sender alone, replaying the call it had; both senders sent identical line audio',
    ],
  };
}

/** The engine part of `npm run bench`. */
export const engine: BenchPart<EngineResult> = {
  description: 'sender CPU µs per 20 ms frame of a V.17 ECM call: addon against SpanDSP from C',
  run,
  table,
};
