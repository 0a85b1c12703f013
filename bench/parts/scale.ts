/**
 * The scale part: how many live fax channels this machine carries in real time on a FaxPool,
 * beside the bound raw SpanDSP sets (bench/scale_baseline.c).
 *
 * The C bound: the C program times whole 1-page calls between two terminals (audio, and T.38 on
 * 20 ms ticks) with the process's CPU clock; cores × 20 ms / (CPU per channel-frame) is the most
 * channels the cores could run if SpanDSP were all there is. A channel is one terminal: a loopback
 * pair is two.
 *
 * The pool, for each kind (audio loopback pairs over a direct in-memory wire, as the C program's; RTP:
 * a pool.receive and a pool.send talking over 127.0.0.1 sockets; T.38 loopback pairs over
 * in-memory UDPTL): steps of N concurrent channels, each a fresh pool with a worker per core, the
 * calls started spread over START_SPREAD_MS as real calls arrive, run to the end. A step passes
 * when fewer than MAX_LATE_RATIO of the frames ran in a tick that started more than 20 ms late and
 * every fax succeeded (both ends code 0, every page). The search starts from a share of the C
 * bound, steps up ×STEP_UP while it passes and bisects after the first failure, at most MAX_STEPS
 * steps or KIND_BUDGET_MS of real time per kind; the largest passing step is reported.
 *
 * A step that cannot pass any more is stopped early to save the budget: a fax failed, or the late
 * frames already exceed the limit for twice the frames the step should run, or the step runs well
 * past its calls' line time (its ticks are that far behind). The last matters because a worker
 * that is behind runs its ticks back to back and does not report its statistics until it has
 * caught up, so its late frames show only then.
 *
 * The pool's own back-pressure (a worker late over a second refuses new calls) is turned off
 * here: the step's criterion is the late share over the whole step, and the pool would refuse
 * calls over a late second before most calls had arrived.
 *
 * Memory: process RSS is sampled every second during the steps; rss_mb_per_session is (the peak
 * RSS of the largest passing audio step − RSS before its pool started) / its channels, so it
 * includes the workers' own start-up; the marginal figure takes the idle pool's RSS instead.
 *
 * The machine's load average is logged with each step: the figures are real-time ones, and other
 * work on the machine makes ticks late.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { ResultCode } from '../../lib/base/result-codes';
import type { FaxResult } from '../../lib/engine/result';
import { FaxPool } from '../../lib/realtime/pool';
import { writeTextDocument } from '../../test/helpers/pages';
import { buildCBaseline } from '../c-baseline';
import { round, type BenchOptions, type BenchPart, type BenchTable } from '../part';

/** Pages of the document: one keeps a step to about a minute of real time. */
const PAGES = 1;
const FRAME_NS = 20e6;
const FRAME_MS = 20;
/** A step fails at this share of late frames or more. */
const MAX_LATE_RATIO = 0.001;
/** Goals of the issue: pool channels / C bound, RTP channels / audio bound, MB per session. */
const GOAL_C_RATIO = 0.7;
const GOAL_RTP_RATIO = 0.5;
const GOAL_MB_PER_SESSION = 1;
/** Where each kind's search starts, as a share of its C bound (RTP: of the audio bound). */
const START_SHARE = { audio: 0.5, rtp: 0.3, t38: 0.5 } as const;
const STEP_UP = 1.3;
const MAX_STEPS = 5;
/** Real time each kind may take; a step is not started when the rest of it would not fit one. */
const KIND_BUDGET_MS = 8 * 60_000;
/**
 * Calls of a step start spread over this, as independent calls arrive: a third of a call's line time,
 * so every call of the step runs at once for most of it. Starting them all within a second or two
 * would line up every call's page ends (when SpanDSP codes and writes a page, a burst of work) in the
 * same few ticks, which no real traffic does.
 */
const START_SPREAD_MS = 20_000;
/** How often the pool's workers report and the process's RSS is sampled. */
const STATS_INTERVAL_MS = 250;
const SAMPLE_MS = 1000;
/**
 * A step still running this long past its calls' line time (× OVERRUN_FACTOR, + the spread) is
 * stopped and fails: its ticks ran that far behind their due times, so thousands were late.
 */
const OVERRUN_FACTOR = 1.25;
const OVERRUN_SLACK_MS = 10_000;
/** Line-time bound of each call: far beyond a 1-page fax, ends a stuck one. */
const CALL_LIMIT_MS = 300_000;
/** How long a fresh pool's workers may take to start. */
const WORKER_START_MS = 60_000;
const MB = 1024 * 1024;

type Kind = 'audio' | 'rtp' | 't38';

/** One step of a kind's search, as `--json` prints it. */
export interface ScaleStep {
  /** Concurrent channels (two per fax). */
  channels: number;
  passed: boolean;
  /** Late frames / frames run over the step. */
  late_ratio: number;
  late_frames: number;
  frames: number;
  /** Faxes (pairs) that did not succeed at both ends, or could not be placed. */
  failures: number;
  /** The first failure, for the reader: which end, its code and text. */
  first_failure: string | null;
  /** Why the step was stopped before its calls ended, or null. */
  stopped: string | null;
  /** The process's CPU time over the step's wall time, as a share of all cores, %. */
  cpu_pct: number;
  wall_s: number;
  rss_peak_mb: number;
  /** The machine's 1-minute load average at the end of the step. */
  load_avg: number;
}

/** The scale part's figures, as `--json` prints them. */
export interface ScaleResult {
  audio_channels: number;
  audio_c_bound: number;
  rtp_channels: number;
  t38_channels: number;
  t38_c_bound: number;
  /** Late frames / frames at the reported channel counts, the worst of the three (null: none passed). */
  late_frame_ratio: number | null;
  /** (Peak RSS of the largest passing audio step − RSS before its pool) / channels (null: none passed). */
  rss_mb_per_session: number | null;
  /** The same from the idle pool's RSS: what one more session costs, without the workers' start-up. */
  rss_mb_per_session_marginal: number | null;
  audio_vs_c: number;
  t38_vs_c: number;
  rtp_vs_audio_bound: number;
  /** SpanDSP's CPU per channel-frame from C (median of 3 calls), ns. */
  c_audio_ns_per_channel_frame: number;
  c_t38_ns_per_channel_frame: number;
  cores: number;
  steps: Record<Kind, ScaleStep[]>;
}

/** What bench/scale_baseline.c prints. */
interface BaselineRun {
  audio_ns_per_channel_frame: number;
  t38_ns_per_channel_frame: number;
  audio_frames: number;
  t38_frames: number;
}

/** RSS around a step, bytes: before its pool started, with the pool idle, and the peak. */
interface StepRss {
  before: number;
  idle: number;
  peak: number;
}

/** What is gathered while a step runs. */
interface StepWatch {
  rssPeak: number;
  failures: number;
  firstFailure: string | null;
  stopped: string | null;
}

/** Sums the workers' counters of a pool. */
function frameCounts(pool: FaxPool): { frames: number; lateFrames: number } {
  let frames = 0;
  let lateFrames = 0;
  for (const w of pool.stats().workers) {
    frames += w.frames;
    lateFrames += w.lateFrames;
  }
  return { frames, lateFrames };
}

/** Waits until every worker of a fresh pool has reported once: it is up, and its code loaded. */
async function workersStarted(pool: FaxPool): Promise<void> {
  const deadline = performance.now() + WORKER_START_MS;
  while (!pool.stats().workers.every((w) => w.heapBytes > 0)) {
    if (performance.now() > deadline) throw new Error(`the pool's workers did not start in ${WORKER_START_MS} ms`);
    await sleep(50);
  }
}

/** Why an end of a fax did not succeed, or null when it did. */
function failureOf(end: string, result: FaxResult): string | null {
  if (result.code === ResultCode.OK && result.pages === PAGES) return null;
  return `${end}: code ${result.code} (${result.text}), ${result.pages} of ${PAGES} pages`;
}

/** Starts one fax (two channels) of a kind; resolves with why it failed, or null. */
function startFax(kind: Kind, pool: FaxPool, document: string, dir: string, i: number): Promise<string | null> {
  const receivedFile = path.join(dir, `received-${i}.tif`);
  const sender = { document };
  const receiver = { receivedFile };
  if (kind === 'rtp') {
    const rx = pool.receive({ ...receiver, lines: { rtp: {} }, timeLimitMs: CALL_LIMIT_MS });
    const tx = pool.send({
      ...sender,
      lines: { rtp: { remote: { host: '127.0.0.1', port: rx.local.rtp!.port } } },
      timeLimitMs: CALL_LIMIT_MS,
    });
    return Promise.all([tx.done, rx.done]).then(([s, r]) => failureOf('sender', s) ?? failureOf('receiver', r));
  }
  return pool
    .loopback({ sender, receiver, t38: kind === 't38', timeLimitMs: CALL_LIMIT_MS })
    .then(({ sender: s, receiver: r }) => failureOf('sender', s) ?? failureOf('receiver', r));
}

/** One step: `channels` concurrent channels of a kind on a fresh pool, run to the end (or stopped). */
async function runStep(
  kind: Kind,
  channels: number,
  document: string,
  cFrames: number,
): Promise<{ step: ScaleStep; rss: StepRss }> {
  const cores = os.availableParallelism();
  const pairs = channels / 2;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `faxline-bench-scale-${kind}-`));
  const rssBefore = process.memoryUsage().rss;
  const pool = new FaxPool({
    workers: cores,
    maxCallsPerWorker: Math.min(8192, Math.ceil(channels / cores) + 2),
    paced: true,
    statsIntervalMs: STATS_INTERVAL_MS,
    maxLateFrameRatio: 1,
  });
  const watch: StepWatch = { rssPeak: rssBefore, failures: 0, firstFailure: null, stopped: null };
  const fail = (why: string): void => {
    if (watch.stopped !== null) return;
    watch.failures++;
    watch.firstFailure ??= why;
  };
  let sampler: NodeJS.Timeout | undefined;
  try {
    await workersStarted(pool);
    const rssIdle = process.memoryUsage().rss;
    const cpuStart = process.cpuUsage();
    const started = performance.now();
    // Twice the frames the step should run, were every call as long as the C one: late frames
    // beyond this share of it cannot be made up by the frames still to come.
    const lateLimit = MAX_LATE_RATIO * 2 * channels * cFrames;
    const overrunMs = OVERRUN_FACTOR * cFrames * FRAME_MS + START_SPREAD_MS + OVERRUN_SLACK_MS;
    let stop!: () => void;
    const stopped = new Promise<void>((resolve) => (stop = resolve));
    sampler = setInterval(() => {
      watch.rssPeak = Math.max(watch.rssPeak, process.memoryUsage().rss);
      if (watch.stopped !== null) return;
      if (watch.failures > 0) watch.stopped = 'a fax failed';
      else if (frameCounts(pool).lateFrames > lateLimit) watch.stopped = 'too many late frames';
      else if (performance.now() - started > overrunMs)
        watch.stopped = `still running after ${(overrunMs / 1000).toFixed(0)} s`;
      if (watch.stopped !== null) stop();
    }, SAMPLE_MS);

    const faxes: Promise<void>[] = [];
    for (let i = 0; i < pairs && watch.stopped === null; i++) {
      const due = (i * START_SPREAD_MS) / pairs - (performance.now() - started);
      if (due > 1) await sleep(due);
      let fax: Promise<string | null>;
      try {
        fax = startFax(kind, pool, document, dir, i);
      } catch (error) {
        fax = Promise.resolve(`not placed: ${error instanceof Error ? error.message : String(error)}`);
      }
      faxes.push(
        fax.then(
          (why) => (why === null ? undefined : fail(why)),
          (error: unknown) => fail(`failed: ${error instanceof Error ? error.message : String(error)}`),
        ),
      );
    }
    await Promise.race([Promise.all(faxes), stopped]);
    // The workers' last report comes within an interval of their last tick.
    if (watch.stopped === null) await sleep(3 * STATS_INTERVAL_MS);
    const wallMs = performance.now() - started;
    const cpu = process.cpuUsage(cpuStart);
    const { frames, lateFrames } = frameCounts(pool);
    const lateRatio = frames > 0 ? lateFrames / frames : 0;
    watch.rssPeak = Math.max(watch.rssPeak, process.memoryUsage().rss);
    const step: ScaleStep = {
      channels,
      passed: watch.stopped === null && watch.failures === 0 && lateRatio < MAX_LATE_RATIO,
      late_ratio: round(lateRatio, 6),
      late_frames: lateFrames,
      frames,
      failures: watch.failures,
      first_failure: watch.firstFailure,
      stopped: watch.stopped,
      cpu_pct: round(((cpu.user + cpu.system) / 1000 / (wallMs * cores)) * 100, 1),
      wall_s: round(wallMs / 1000, 1),
      rss_peak_mb: round((watch.rssPeak - rssBefore) / MB, 1),
      load_avg: round(os.loadavg()[0]!, 2),
    };
    return { step, rss: { before: rssBefore, idle: rssIdle, peak: watch.rssPeak } };
  } finally {
    clearInterval(sampler);
    await pool.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** A kind's search and what it found. */
interface KindResult {
  channels: number;
  best: ScaleStep | null;
  steps: ScaleStep[];
  /** RSS around the best step. */
  rss: StepRss | null;
}

/** Searches the largest passing channel count of a kind, from `estimate` channels. */
async function search(
  kind: Kind,
  estimate: number,
  document: string,
  cFrames: number,
  options: BenchOptions,
): Promise<KindResult> {
  const begun = performance.now();
  const steps: ScaleStep[] = [];
  let best: ScaleStep | null = null;
  let bestRss: KindResult['rss'] = null;
  // In pairs: the largest that passed and the smallest that failed.
  let low = 0;
  let high = Infinity;
  let pairs = Math.max(1, Math.round(estimate / 2));
  let lastWallMs = cFrames * FRAME_MS + START_SPREAD_MS;
  while (steps.length < MAX_STEPS) {
    const spentMs = performance.now() - begun;
    if (spentMs + lastWallMs > KIND_BUDGET_MS) {
      options.log(`scale: ${kind}: the ${KIND_BUDGET_MS / 60_000}-minute budget is spent`);
      break;
    }
    options.log(`scale: ${kind}: step ${steps.length + 1}, ${pairs * 2} channels`);
    const { step, rss } = await runStep(kind, pairs * 2, document, cFrames);
    steps.push(step);
    lastWallMs = step.wall_s * 1000;
    options.log(
      `scale: ${kind}: ${step.channels} channels ${step.passed ? 'passed' : 'FAILED'}: ` +
        `late ${(step.late_ratio * 100).toFixed(3)} % of ${step.frames} frames, ${step.failures} failed` +
        (step.first_failure ? ` (${step.first_failure})` : '') +
        (step.stopped ? `, stopped: ${step.stopped}` : '') +
        `, CPU ${step.cpu_pct} %, ${step.wall_s} s, +${step.rss_peak_mb} MB RSS, load ${step.load_avg}`,
    );
    if (step.passed) {
      best = step;
      bestRss = rss;
      low = pairs;
    } else {
      high = pairs;
    }
    const next = high === Infinity ? Math.max(pairs + 1, Math.round(pairs * STEP_UP)) : Math.floor((low + high) / 2);
    if (next <= low || next >= high) break;
    pairs = next;
  }
  return { channels: best?.channels ?? 0, best, steps, rss: bestRss };
}

async function run(options: BenchOptions): Promise<ScaleResult> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'faxline-bench-scale-'));
  try {
    const { file: document } = writeTextDocument(dir, PAGES);
    const cores = os.availableParallelism();

    options.log('scale: compiling and running the C baseline');
    const binary = buildCBaseline('scale_baseline');
    const c = JSON.parse(
      execFileSync(binary, [document, dir], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }),
    ) as BaselineRun;
    const audioBound = Math.floor((cores * FRAME_NS) / c.audio_ns_per_channel_frame);
    const t38Bound = Math.floor((cores * FRAME_NS) / c.t38_ns_per_channel_frame);
    options.log(`scale: C bound on ${cores} cores: audio ${audioBound} channels, T.38 ${t38Bound} channels`);

    const audio = await search('audio', START_SHARE.audio * audioBound, document, c.audio_frames, options);
    const rtp = await search('rtp', START_SHARE.rtp * audioBound, document, c.audio_frames, options);
    const t38 = await search('t38', START_SHARE.t38 * t38Bound, document, c.t38_frames, options);

    const passing = [audio, rtp, t38].flatMap((k) => (k.best ? [k.best.late_ratio] : []));
    const perSession = (from: 'before' | 'idle'): number | null =>
      audio.best && audio.rss ? round((audio.rss.peak - audio.rss[from]) / MB / audio.best.channels, 3) : null;
    return {
      audio_channels: audio.channels,
      audio_c_bound: audioBound,
      rtp_channels: rtp.channels,
      t38_channels: t38.channels,
      t38_c_bound: t38Bound,
      late_frame_ratio: passing.length > 0 ? Math.max(...passing) : null,
      rss_mb_per_session: perSession('before'),
      rss_mb_per_session_marginal: perSession('idle'),
      audio_vs_c: round(audio.channels / audioBound),
      t38_vs_c: round(t38.channels / t38Bound),
      rtp_vs_audio_bound: round(rtp.channels / audioBound),
      c_audio_ns_per_channel_frame: c.audio_ns_per_channel_frame,
      c_t38_ns_per_channel_frame: c.t38_ns_per_channel_frame,
      cores,
      steps: { audio: audio.steps, rtp: rtp.steps, t38: t38.steps },
    };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function metOrNot(met: boolean): string {
  return met ? 'met' : 'NOT met';
}

function percent(ratio: number): string {
  return `${(ratio * 100).toFixed(0)} %`;
}

function table(r: ScaleResult): BenchTable {
  const late = r.late_frame_ratio;
  const mb = r.rss_mb_per_session;
  const stepLine = (kind: Kind): string =>
    `${kind} steps: ` +
    r.steps[kind]
      .map(
        (s) =>
          `${s.channels} ${s.passed ? 'ok' : 'failed'} (late ${(s.late_ratio * 100).toFixed(3)} %, CPU ${s.cpu_pct} %)`,
      )
      .join(', ');
  return {
    title: `scale: concurrent real-time channels on ${r.cores} cores (a fax is two), 1-page faxes`,
    rows: [
      ['', 'measured', 'bound', 'share', 'goal', ''],
      [
        'audio loopback, channels',
        String(r.audio_channels),
        String(r.audio_c_bound),
        percent(r.audio_vs_c),
        `≥ ${percent(GOAL_C_RATIO)} of C`,
        metOrNot(r.audio_vs_c >= GOAL_C_RATIO),
      ],
      [
        'RTP on 127.0.0.1, channels',
        String(r.rtp_channels),
        String(r.audio_c_bound),
        percent(r.rtp_vs_audio_bound),
        `≥ ${percent(GOAL_RTP_RATIO)} of audio C`,
        metOrNot(r.rtp_vs_audio_bound >= GOAL_RTP_RATIO),
      ],
      [
        'T.38 loopback, channels',
        String(r.t38_channels),
        String(r.t38_c_bound),
        percent(r.t38_vs_c),
        `≥ ${percent(GOAL_C_RATIO)} of C`,
        metOrNot(r.t38_vs_c >= GOAL_C_RATIO),
      ],
      [
        'late frames (worst kind)',
        late === null ? '–' : `${(late * 100).toFixed(3)} %`,
        '',
        '',
        `< ${(MAX_LATE_RATIO * 100).toFixed(1)} %`,
        metOrNot(late !== null && late < MAX_LATE_RATIO),
      ],
      [
        'RSS per session, MB',
        mb === null ? '–' : mb.toFixed(3),
        '',
        '',
        `< ${GOAL_MB_PER_SESSION}`,
        metOrNot(mb !== null && mb < GOAL_MB_PER_SESSION),
      ],
    ],
    notes: [
      `C bound: cores × 20 ms / SpanDSP CPU per channel-frame (audio ${(r.c_audio_ns_per_channel_frame / 1000).toFixed(2)} µs, ` +
        `T.38 ${(r.c_t38_ns_per_channel_frame / 1000).toFixed(2)} µs)`,
      `RSS per session from the idle pool (without the workers' start-up): ${r.rss_mb_per_session_marginal ?? '–'} MB`,
      stepLine('audio'),
      stepLine('rtp'),
      stepLine('t38'),
    ],
  };
}

/** The scale part of `npm run bench`. */
export const scale: BenchPart<ScaleResult> = {
  description: 'concurrent real-time channels on a FaxPool (audio, RTP, T.38) against the C bound; memory per session',
  run,
  table,
};
