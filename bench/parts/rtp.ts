/**
 * The rtp part: how often a 3-page fax gets through a lossy G.711 line, through faxline's real
 * RTP path (G.711 encoder, packetiser, jitter buffer with SpanDSP's fill-in, decoder, the T.30
 * layer's own workarounds), beside raw SpanDSP on the same seeds (bench/rtp_baseline.c: the
 * same loss model bit for bit, fill-in for each lost packet, no faxline).
 *
 * A cell is a loss profile × ECM on/off × RFC 2198 redundancy (0 or REDUNDANCY), run for SEEDS
 * seeds. Loss hits both directions, each with its own stream of the seed (lib/transports/
 * impairments.ts). Unpaced: line time advances by frames. A run is `ok` when both ends report
 * success and the receiver has every page; `delivered` counts runs where the receiver has every
 * page and says so, whatever the sender concluded (a lost final MCF leaves the sender unsure).
 */
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
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

const PAGES = 3;
const SEEDS = 20;
/** Redundant copies per packet in the redundancy cells (RFC 2198, as V.152 uses for fax). */
const REDUNDANCY = 2;
const RANDOM_LOSS_PCT = [0, 0.1, 0.3, 0.5, 1, 2];
/** Line time bound of each call, like the C side's. */
const CALL_LIMIT_MS = 600_000;

/** One cell of the loss matrix. */
export interface LossCell {
  /** Random loss in percent, or the burst profile's mean loss. */
  loss_pct: number;
  /** The Gilbert–Elliott profile as "p/r" in percent, or null for random loss. */
  burst: string | null;
  ecm: boolean;
  /** Redundant copies per packet (0: none). */
  redundancy: number;
  /** Runs where both ends succeeded and every page arrived. */
  ok: number;
  /** The same for raw SpanDSP on the same seeds; null for redundancy cells (raw has none). */
  raw_ok: number | null;
  /** Runs where the receiver has every page and reports success. */
  delivered: number;
  raw_delivered: number | null;
  runs: number;
  /** Median line time of the runs, seconds. */
  line_s_median: number;
}

/** The rtp part's figures. */
export interface RtpResult {
  loss: LossCell[];
  goals: { redundancy_1pct_ok: number; redundancy_2pct_ok: number; never_worse_than_raw: boolean };
}

interface RawRun {
  seed: number;
  ok: boolean;
  receiver_code: number;
  receiver_pages: number;
  line_s: number;
}

async function runRaw(binary: string, tiff: string, ecm: boolean, profile: LossProfile): Promise<RawRun[]> {
  const { stdout } = await promisify(execFile)(
    binary,
    ['--tiff', tiff, '--ecm', ecm ? '1' : '0', '--loss', profile.cSpec, '--seeds', `1-${SEEDS}`],
    { encoding: 'utf8', maxBuffer: 1 << 20 },
  );
  return stdout
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as RawRun);
}

/** One cell through faxline's RTP path: every seed, loss both ways. */
function runCell(
  tiff: string,
  dir: string,
  ecm: boolean,
  redundancy: number,
  profile: LossProfile,
): Promise<SeedTally> {
  return runSeeds(SEEDS, PAGES, dir, (seed, receivedFile) =>
    runSimulatedCall({
      line: { ...defaultLineSpec(), loss: profile.model, seed },
      redundancy,
      sender: { document: tiff, ecm },
      receiver: { receivedFile, ecm },
      timeLimitMs: CALL_LIMIT_MS,
    }),
  );
}

export const rtp: BenchPart<RtpResult> = {
  description: `a ${PAGES}-page fax over a lossy G.711 RTP line, ${SEEDS} seeds a cell, beside raw SpanDSP on the same seeds`,

  async run(options: BenchOptions): Promise<RtpResult> {
    const binary = buildCBaseline('rtp_baseline');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'faxline-bench-rtp-'));
    try {
      const { file: tiff } = writeTextDocument(dir, PAGES);
      const cells: LossCell[] = [];
      for (const profile of lossProfiles(RANDOM_LOSS_PCT)) {
        for (const ecm of [true, false]) {
          const raw = await runRaw(binary, tiff, ecm, profile);
          const rawOk = raw.filter((r) => r.ok).length;
          const rawDelivered = raw.filter((r) => r.receiver_code === 0 && r.receiver_pages === PAGES).length;
          for (const redundancy of [0, REDUNDANCY]) {
            const started = performance.now();
            const cell = await runCell(tiff, dir, ecm, redundancy, profile);
            cells.push({
              loss_pct: profile.lossPct,
              burst: profile.burst,
              ecm,
              redundancy,
              ok: cell.ok,
              raw_ok: redundancy === 0 ? rawOk : null,
              delivered: cell.delivered,
              raw_delivered: redundancy === 0 ? rawDelivered : null,
              runs: SEEDS,
              line_s_median: round(median(cell.lineS), 1),
            });
            options.log(
              `rtp: loss ${profileLabel(profile)} ecm ${ecm ? 'on' : 'off'} ` +
                `redundancy ${redundancy}: ${cell.ok}/${SEEDS}` +
                (redundancy === 0 ? ` (raw SpanDSP ${rawOk}/${SEEDS})` : '') +
                ` in ${((performance.now() - started) / 1000).toFixed(1)} s`,
            );
          }
        }
      }
      const redundant = (pct: number): number =>
        Math.min(...cells.filter((c) => c.redundancy > 0 && c.burst === null && c.loss_pct === pct).map((c) => c.ok));
      return {
        loss: cells,
        goals: {
          redundancy_1pct_ok: redundant(1),
          redundancy_2pct_ok: redundant(2),
          never_worse_than_raw: cells.every((c) => c.raw_ok === null || c.ok >= c.raw_ok),
        },
      };
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  },

  table(result: RtpResult): BenchTable {
    const rows = [['loss', 'ecm', 'redundancy', 'ok', 'raw SpanDSP', 'delivered', 'raw delivered', 'line s (median)']];
    for (const c of result.loss) {
      rows.push([
        lossColumn(c),
        c.ecm ? 'on' : 'off',
        String(c.redundancy),
        outOf(c.ok, c.runs),
        outOf(c.raw_ok, c.runs),
        outOf(c.delivered, c.runs),
        outOf(c.raw_delivered, c.runs),
        c.line_s_median.toFixed(1),
      ]);
    }
    const g = result.goals;
    return {
      title: `RTP/G.711 loss: ${PAGES}-page fax, ${SEEDS} seeds a cell (faxline vs raw SpanDSP 0.0.6 on the same seeds)`,
      rows,
      notes: [
        `goal: redundancy ${REDUNDANCY}: 20/20 at 1 % (${g.redundancy_1pct_ok}/20), at least 18/20 at 2 % (${g.redundancy_2pct_ok}/20)`,
        `goal: without redundancy never worse than raw SpanDSP: ${g.never_worse_than_raw ? 'met' : 'NOT met'}`,
      ],
    };
  },
};
