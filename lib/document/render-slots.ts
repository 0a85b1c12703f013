/**
 * How many documents render at once, process-wide. Each render is a worker thread whose
 * PDFium heap peaks around 100 MB on a busy page, so a host that prepares many documents at
 * once would otherwise run them all side by side; renders past the limit wait here, first
 * come first served, for a render to end. The wait is not part of a render's time limit (its
 * clock starts with its worker), but an abort ends it at once.
 */
import * as os from 'node:os';
import { checkInteger } from '../base/checks';

/** The default limit: one render per CPU the process may use. */
export function defaultRenderConcurrency(): number {
  return Math.max(1, os.availableParallelism());
}

let limit = defaultRenderConcurrency();
let running = 0;
/** Renders waiting for a slot, oldest first: each entry starts its render. */
const waiting: Array<() => void> = [];

function startWaiting(): void {
  while (running < limit && waiting.length > 0) {
    running++;
    waiting.shift()!();
  }
}

/**
 * Sets how many documents may render at once in this process (a whole number from 1; the
 * default is the number of CPUs). Raising it starts waiting renders; lowering it lets running
 * ones finish.
 */
export function setRenderConcurrency(renders: number): void {
  limit = checkInteger(renders, 'the render concurrency', 1);
  startWaiting();
}

/** How many documents may render at once in this process. */
export function renderConcurrency(): number {
  return limit;
}

/**
 * Waits for a render slot; resolves with the function that gives it back (once, however
 * often it is called). Rejects with `signal.reason` when the signal aborts first.
 */
export function acquireRenderSlot(signal?: AbortSignal): Promise<() => void> {
  signal?.throwIfAborted();
  return new Promise((resolve, reject) => {
    let released = false;
    const release = (): void => {
      if (released) return;
      released = true;
      running--;
      startWaiting();
    };
    const start = (): void => {
      signal?.removeEventListener('abort', onAbort);
      resolve(release);
    };
    const onAbort = (): void => {
      const at = waiting.indexOf(start);
      if (at >= 0) waiting.splice(at, 1);
      reject(signal!.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    waiting.push(start);
    startWaiting();
  });
}
