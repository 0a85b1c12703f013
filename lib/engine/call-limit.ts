/**
 * The bound on a call's line time, one rule for every medium: far beyond any legitimate fax, it
 * only stops a stuck call, and a fax it ends says so in its result's detail.
 */
import { InvalidOptionError } from '../base/errors';

/** Default bound on a call's line time: four hours, twice a 176-page document at V.17. */
export const DEFAULT_CALL_LIMIT_MS = 4 * 3_600_000;

/** Checks a time limit option; returns it or the default. */
export function checkTimeLimit(limitMs: unknown): number {
  if (limitMs === undefined) return DEFAULT_CALL_LIMIT_MS;
  if (typeof limitMs !== 'number' || !(limitMs > 0) || !Number.isFinite(limitMs))
    throw new InvalidOptionError('timeLimitMs must be a positive number');
  return limitMs;
}

/** The result's detail when the limit ended the fax. */
export function timeLimitDetail(limitMs: number): string {
  return `the call reached its time limit of ${limitMs / 1000} s of line time`;
}
