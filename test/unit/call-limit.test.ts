/** The call time limit every medium shares: line time without a page getting through. */
import { EventEmitter } from 'node:events';
import { InvalidOptionError } from '../../lib';
import { CallTimeLimit, DEFAULT_CALL_LIMIT_MS, checkTimeLimit } from '../../lib/engine/call-limit';

describe('CallTimeLimit', () => {
  test('counts from the start of the call until the first page', () => {
    const limit = new CallTimeLimit(30_000);
    expect(limit.reached(29_980)).toBe(false);
    expect(limit.reached(30_000)).toBe(true);
    expect(limit.detail).toBe('the call reached its time limit of 30 s of line time without a page');
  });

  test('counts again from each page, and says so', () => {
    const limit = new CallTimeLimit(30_000);
    limit.pageAt(25_000);
    expect(limit.reached(54_980)).toBe(false);
    expect(limit.reached(55_000)).toBe(true);
    limit.pageAt(55_000);
    expect(limit.reached(84_980)).toBe(false);
    expect(limit.detail).toBe('the call reached its time limit of 30 s of line time since its last page');
  });

  test('watch() takes each page event at the line time its clock gives', () => {
    const limit = new CallTimeLimit(10_000);
    const session = new EventEmitter();
    let nowMs = 0;
    limit.watch(session, () => nowMs);
    nowMs = 7_000;
    session.emit('page');
    expect(limit.reached(16_980)).toBe(false);
    expect(limit.reached(17_000)).toBe(true);
    session.emit('event'); // other events are not pages
    expect(limit.reached(17_000)).toBe(true);
  });

  test('checkTimeLimit: four hours by default, positive finite numbers only', () => {
    expect(checkTimeLimit(undefined)).toBe(DEFAULT_CALL_LIMIT_MS);
    expect(DEFAULT_CALL_LIMIT_MS).toBe(4 * 3_600_000);
    expect(checkTimeLimit(1)).toBe(1);
    for (const bad of [0, -1, Number.POSITIVE_INFINITY, Number.NaN, '60', null]) {
      expect(() => checkTimeLimit(bad)).toThrow(InvalidOptionError);
      expect(() => checkTimeLimit(bad)).toThrow('timeLimitMs must be a positive number');
    }
  });
});
