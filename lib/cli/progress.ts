/**
 * The progress line of `faxline send` on a terminal: rendering, then page n of N, the bit
 * rate and the call time so far. Shown only when asked to (a TTY, no --json).
 */
import { SingleBar } from 'cli-progress';
import type { SendFaxEvent } from '../swml/send-fax';

function clock(ms: number): string {
  const s = Math.floor(ms / 1000);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

/** A progress bar fed with sendFax's events. `enabled` false makes every method a no-op. */
export class SendProgress {
  readonly #bar: SingleBar | null;
  #started = false;
  #total = 0;
  #rate = '';

  constructor(enabled: boolean, stream: NodeJS.WritableStream = process.stderr) {
    this.#bar = enabled
      ? new SingleBar({
          stream,
          format: '{phase} [{bar}] page {value}/{total} | {rate} | {call}',
          barsize: 24,
          hideCursor: true,
          // The caller decided this is a terminal; draw even on a stream that does not say so.
          noTTYOutput: true,
          notTTYSchedule: 200,
          fps: 10,
          barCompleteChar: '#',
          barIncompleteChar: '-',
        })
      : null;
  }

  /** The document has this many pages (0 when unknown). */
  setPages(pages: number): void {
    this.#total = pages;
    this.#bar?.setTotal(Math.max(pages, 1));
  }

  /** One sendFax event. */
  update(event: SendFaxEvent): void {
    const bar = this.#bar;
    if (!bar) return;
    if (!this.#started) {
      bar.start(Math.max(this.#total, 1), 0, { phase: 'Preparing', rate: '-', call: '0:00 call' });
      this.#started = true;
    }
    switch (event.type) {
      case 'document':
        if (event.pages !== this.#total) this.setPages(event.pages);
        bar.update(event.page, { phase: 'Rendering' });
        break;
      case 'negotiated':
        this.#rate = `${event.stats.bitRate} bit/s`;
        if (event.stats.pagesInFile > 0 && this.#total === 0) this.setPages(event.stats.pagesInFile);
        bar.update(0, { phase: 'Sending  ', rate: this.#rate, call: `${clock(event.timeMs)} call` });
        break;
      case 'page':
        this.#rate = `${event.stats.bitRate} bit/s`;
        bar.update(event.page, { phase: 'Sending  ', rate: this.#rate, call: `${clock(event.timeMs)} call` });
        break;
      case 'finished':
        bar.update(event.result.pages, {
          phase: event.result.success ? 'Sent     ' : 'Failed   ',
          rate: this.#rate || '-',
          call: `${clock(event.timeMs)} call`,
        });
        break;
      case 'frame':
        bar.update({ call: `${clock(event.timeMs)} call` });
        break;
    }
  }

  /** Ends the line (call before printing anything else). */
  stop(): void {
    if (this.#started) this.#bar?.stop();
    this.#started = false;
  }
}
