/**
 * What the parts that time faxline against a C baseline (engine, t38) share when they report
 * their timed runs: the figures at two decimals, each side's spread of runs, the ratio of the
 * fastest runs and the goal line built on it.
 */

/** A figure for a table: two decimals. */
export function fixed(n: number): string {
  return n.toFixed(2);
}

/** The spread of a side's timed runs, "min–max". */
export function runRange(runs: readonly number[]): string {
  return `${fixed(Math.min(...runs))}–${fixed(Math.max(...runs))}`;
}

/**
 * addon / C of each side's fastest run: the least disturbed by other load, so far from the
 * ratio of the medians means the machine was busy.
 */
export function fastestRatio(addonRuns: readonly number[], cRuns: readonly number[]): number {
  return Math.min(...addonRuns) / Math.min(...cRuns);
}

/** The goal line under a timing table: whether addon/C met `goal`, and how far the fastest runs agree. */
export function ratioGoalNote(goal: number, met: boolean, fastest: number, ratio: number): string {
  return (
    `goal addon/C ≤ ${fixed(goal)}: ${met ? 'met' : 'NOT met'} ` +
    `(fastest runs: ${fixed(fastest)}; far from ${fixed(ratio)} means a busy machine)`
  );
}
