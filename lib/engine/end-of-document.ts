/**
 * Works around two SpanDSP 0.0.6 receiver quirks at the end of a document, seen on lossy lines:
 *
 * - Our MCF to the sender's EOP is lost, the sender repeats EOP, and SpanDSP, which already has
 *   every page, hangs up with "unexpected message" (13) instead of confirming again.
 * - The sender's DCN is lost and SpanDSP falls back to phase B, sending DIS until T1 ends the
 *   call with a failure.
 *
 * In both the document was complete: every page received and the end of the document confirmed
 * with MCF. The watch follows a receiving terminal's frames so the session can report that
 * (success, with the cause in `detail`) and hang up at once instead of waiting out the timer.
 */
import type { FrameEvent } from './events';
import { frameLabel } from './trace';

/** Post-page commands that end the document: EOP, and its ECM and procedure-interrupt forms. */
const END_OF_DOCUMENT = new Set(['EOP', 'PPS-EOP', 'PRI-EOP']);
/** Any post-page command: the last one received says what our MCF confirmed. */
const POST_PAGE = /^(PPS|MPS|EOP|EOM|PRI-)/;

/** What the session should do after a frame. */
export type EndOfDocumentAction = 'none' | 'hang-up';

/** Why a receiver whose document was complete reports success although SpanDSP did not. */
export const DOCUMENT_COMPLETE_DETAIL =
  'every page was received and the end of the document confirmed; the call then ended ' +
  'abnormally (a lost confirmation or disconnect), which does not affect the fax';

/** Follows one receiving terminal's T.30 frames. */
export class EndOfDocumentWatch {
  #lastPostPage = '';
  #complete = false;

  /** Whether the end of the document was received and confirmed (MCF to EOP). */
  get complete(): boolean {
    return this.#complete;
  }

  /** Takes the next frame; 'hang-up' when SpanDSP restarted phase B after the document ended. */
  onFrame(frame: FrameEvent): EndOfDocumentAction {
    const label = frameLabel(frame.name, frame.bytes);
    if (frame.direction === 'received') {
      if (POST_PAGE.test(label)) this.#lastPostPage = label;
      return 'none';
    }
    if (label === 'MCF' && END_OF_DOCUMENT.has(this.#lastPostPage)) this.#complete = true;
    // A DIS after the confirmed end is SpanDSP starting over: nothing more will come.
    return label === 'DIS' && this.#complete ? 'hang-up' : 'none';
  }
}
