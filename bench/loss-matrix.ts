/**
 * What the loss matrices of the rtp and t38 parts share: the loss profiles (random loss at given
 * percentages and one Gilbert–Elliott burst profile, each with the C baselines' `--loss`
 * argument for the same model), the seeds of a cell run through faxline and tallied, and the
 * labels both parts print. Each part keeps what is its own: the medium, its error correction
 * and how its C baseline is called.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { SimulatedCall } from '../lib/transports/impaired-line';
import type { LossModel } from '../lib/transports/impairments';
import { round } from './part';

/** The burst profile: Gilbert–Elliott p (good→bad) and r (bad→good): about 2 % loss in 4-packet bursts. */
export const BURST = { p: 0.005, r: 0.25 };

/** One row group of a loss matrix: a loss model, as faxline and the C baselines take it. */
export interface LossProfile {
  /** Random loss in percent, or the burst profile's mean loss. */
  lossPct: number;
  /** The Gilbert–Elliott profile as "p/r" in percent, or null for random loss. */
  burst: string | null;
  model: LossModel;
  /** The C programs' --loss argument for the same model. */
  cSpec: string;
}

/** Random loss at each of `randomPct` (0: no loss), then the burst profile. */
export function lossProfiles(randomPct: readonly number[]): LossProfile[] {
  const random = randomPct.map((pct): LossProfile => ({
    lossPct: pct,
    burst: null,
    model: pct === 0 ? { kind: 'none' } : { kind: 'random', p: pct / 100 },
    cSpec: pct === 0 ? 'none' : `random:${pct / 100}`,
  }));
  const mean = BURST.p / (BURST.p + BURST.r);
  return [
    ...random,
    {
      lossPct: round(mean * 100, 2),
      burst: `${BURST.p * 100}%/${BURST.r * 100}%`,
      model: { kind: 'burst', p: BURST.p, r: BURST.r },
      cSpec: `burst:${BURST.p},${BURST.r}`,
    },
  ];
}

/** A profile in progress logs: "burst 0.5%/25%" or "1%". */
export function profileLabel(profile: Pick<LossProfile, 'lossPct' | 'burst'>): string {
  return profile.burst ? `burst ${profile.burst}` : `${profile.lossPct}%`;
}

/** A cell's loss in a table: "burst 0.5%/25% (1.96%)" or "1%". */
export function lossColumn(cell: { loss_pct: number; burst: string | null }): string {
  return cell.burst ? `burst ${cell.burst} (${cell.loss_pct}%)` : `${cell.loss_pct}%`;
}

/** What the seeds of one cell came to. */
export interface SeedTally {
  /** Runs where both ends succeeded and every page arrived. */
  ok: number;
  /** Runs where the receiver has every page and reports success, whatever the sender concluded. */
  delivered: number;
  /** Line time of each run, seconds. */
  lineS: number[];
}

/**
 * Runs `call` for seeds 1..`seeds`, one after another, each receiving into the same file in
 * `dir` (removed after each run), and tallies them against `pages`.
 */
export async function runSeeds(
  seeds: number,
  pages: number,
  dir: string,
  call: (seed: number, receivedFile: string) => Promise<SimulatedCall>,
): Promise<SeedTally> {
  let ok = 0;
  let delivered = 0;
  const lineS: number[] = [];
  const receivedFile = path.join(dir, 'received.tif');
  for (let seed = 1; seed <= seeds; seed++) {
    const result = await call(seed, receivedFile);
    const got = result.receiver.success && result.receiver.pages === pages;
    if (got) delivered++;
    if (got && result.sender.success) ok++;
    lineS.push(result.durationMs / 1000);
    fs.rmSync(receivedFile, { force: true });
  }
  return { ok, delivered, lineS };
}

/** A count of runs in a table: "19/20", or "-" where there is none. */
export function outOf(count: number | null, runs: number): string {
  return count === null ? '-' : `${count}/${runs}`;
}
