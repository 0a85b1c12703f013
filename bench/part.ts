/** What every part of `npm run bench` has in common. */

/** Settings that apply to every part. */
export interface BenchOptions {
  /** Timed runs per measured side; parts report the median. */
  runs: number;
  /** Progress for people, on stderr, so stdout stays one JSON object under --json. */
  log(message: string): void;
}

/** A table for the human output: its first row is the header. */
export interface BenchTable {
  title: string;
  rows: string[][];
  /** Lines printed under the table (notes, warnings). */
  notes?: string[];
}

/** One named part of the benchmark: it measures something and returns plain JSON-able figures. */
export interface BenchPart<Result extends object> {
  /** One line saying what the part measures. */
  readonly description: string;
  run(options: BenchOptions): Promise<Result>;
  /** The result for people. */
  table(result: Result): BenchTable;
}

/** The median of a non-empty list. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** A number rounded for JSON: figures carry no more digits than the measurement has. */
export function round(value: number, digits = 3): number {
  return Number(value.toFixed(digits));
}
