/**
 * The bound on a call's line time, one rule for every medium: line time without a page getting
 * through, counted from the start of the call and again from each page. It stops a stuck call
 * and never a long document, however many pages it has; a fax it ends says so in its detail.
 */
import { InvalidOptionError } from '../base/errors';

/**
 * Default bound: four hours of line time without a page getting through. A page takes minutes
 * at most (a superfine photograph at 2400 bit/s, about 20); T.30's own timers end a silent call
 * within a minute, so this only catches a far end that keeps the call up and sends nothing.
 */
export const DEFAULT_CALL_LIMIT_MS = 4 * 3_600_000;

/** Checks a time limit option; returns it or the default. */
export function checkTimeLimit(limitMs: unknown): number {
  if (limitMs === undefined) return DEFAULT_CALL_LIMIT_MS;
  if (typeof limitMs !== 'number' || !(limitMs > 0) || !Number.isFinite(limitMs))
    throw new InvalidOptionError('timeLimitMs must be a positive number');
  return limitMs;
}

/** What emits 'page' when a page got through: a FaxSession. */
interface PageSource {
  on(event: 'page', listener: () => void): unknown;
}

/** One call's time limit (see the file's comment), on the call's own line-time clock. */
export class CallTimeLimit {
  readonly limitMs: number;
  /** Line time of the last page, null before the first. */
  #lastPageMs: number | null = null;

  /** `timeLimitMs` as a caller gave it: checked here (checkTimeLimit), the default when undefined. */
  constructor(timeLimitMs: unknown) {
    this.limitMs = checkTimeLimit(timeLimitMs);
  }

  /** A page got through at this line time. */
  pageAt(nowMs: number): void {
    this.#lastPageMs = nowMs;
  }

  /** Counts every page `source` reports, at the line time `now()` gives when it does. */
  watch(source: PageSource, now: () => number): this {
    source.on('page', () => this.pageAt(now()));
    return this;
  }

  /** Whether the limit has passed at this line time. */
  reached(nowMs: number): boolean {
    return nowMs - (this.#lastPageMs ?? 0) >= this.limitMs;
  }

  /** The result's detail when the limit ended the fax. */
  get detail(): string {
    const span = this.#lastPageMs === null ? 'without a page' : 'since its last page';
    return `the call reached its time limit of ${this.limitMs / 1000} s of line time ${span}`;
  }
}
