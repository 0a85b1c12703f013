/**
 * EndOfDocumentWatch, fed T.30 frames written out by hand as a receiving terminal sees them.
 *
 * An HDLC frame of T.30 (5.3) is: address 0xff, control, FCF, then the information field.
 * - Control is bits 1..8 = "1100 0000" (0x03) for a frame with more to follow and "1100 1000"
 *   (0x13, bit 5 set) for the final frame of a response or command.
 * - T.30 Table 2 writes each FCF as bits 1..8 in the order sent; HDLC sends the least significant
 *   bit first, so bit 1 is the byte's bit 0. Bit 1 is the X bit: 1 in frames from the station that
 *   received DIS (the sender here), 0 in frames from the station that sent DIS (the receiver).
 *     DIS "0000 0001" -> 0x80          MCF "X011 0001" -> 0x8c | X
 *     PPR "X011 1101" -> 0xbc | X      DCN "X101 1111" -> 0xfa | X
 *     EOP "X111 0100" -> 0x2e | X      MPS "X111 0010" -> 0x4e | X
 *     EOM "X111 0001" -> 0x8e | X      PRI-EOP "X111 1100" -> 0x3e | X
 *     PPS "X111 1101" -> 0xbe | X
 * - PPS (ECM, T.30 A.4) carries the post-message command in its first information byte (byte 3
 *   of the frame): 0x00 NULL (a partial page, more of the same page follows), 0x4e MPS, 0x2e EOP,
 *   0x8e EOM with the X bit clear; then the page count, the block count and the frame count minus
 *   one. SpanDSP 0.0.6 sends it with the sender's X bit set (0x2f for EOP, seen in its traces);
 *   both forms must read the same.
 * Information fields other than PPS's do not matter to the watch; DIS and DCS carry short ones.
 */
import { DOCUMENT_COMPLETE_DETAIL, EndOfDocumentWatch } from '../../lib/engine/end-of-document';
import type { FrameEvent } from '../../lib/engine/events';

let clock = 0;

/** A frame event as the receiving terminal reports it; `name` is SpanDSP's name for the FCF. */
function frame(direction: 'sent' | 'received', name: string, bytes: number[]): FrameEvent {
  clock += 1000;
  return { type: 'frame', timeMs: clock, direction, name, bytes: Buffer.from(bytes) };
}

// What the receiver sends (X = 0: it sent DIS).
const DIS = (): FrameEvent => frame('sent', 'DIS', [0xff, 0x13, 0x80, 0x00, 0xce, 0xf4]);
const MCF = (): FrameEvent => frame('sent', 'MCF', [0xff, 0x13, 0x8c]);
/** PPR: a 256-bit map (32 bytes) of the frames to send again, here frame 0 only (bit 1 of byte 0). */
const PPR = (): FrameEvent => frame('sent', 'PPR', [0xff, 0x13, 0xbc, 0x01, ...new Array<number>(31).fill(0)]);
// What the sender sends (X = 1: it received DIS).
const EOP = (): FrameEvent => frame('received', 'EOP', [0xff, 0x13, 0x2f]);
const MPS = (): FrameEvent => frame('received', 'MPS', [0xff, 0x13, 0x4f]);
const EOM = (): FrameEvent => frame('received', 'EOM', [0xff, 0x13, 0x8f]);
const PRI_EOP = (): FrameEvent => frame('received', 'PRI-EOP', [0xff, 0x13, 0x3f]);
const DCN = (): FrameEvent => frame('received', 'DCN', [0xff, 0x13, 0xfb]);
const DCS = (): FrameEvent => frame('received', 'DCS', [0xff, 0x13, 0x83, 0x00, 0xc6, 0x80]);
/** PPS with a post-message (X bit clear): page `page`, block 0, 256 frames (count minus one: 0xff). */
const PPS = (postMessage: number, page = 0): FrameEvent =>
  frame('received', 'PPS', [0xff, 0x13, 0xbf, postMessage, page, 0x00, 0xff]);
const PPS_NULL = 0x00;
const PPS_MPS = 0x4e;
const PPS_EOP = 0x2e;
const PPS_EOM = 0x8e;

/** Feeds frames in order and returns each action. */
function feed(watch: EndOfDocumentWatch, frames: FrameEvent[]): string[] {
  return frames.map((f) => watch.onFrame(f));
}

describe('the end of the document is complete only once MCF confirms it', () => {
  test('EOP then MCF (no ECM) completes the document', () => {
    const watch = new EndOfDocumentWatch();
    feed(watch, [DIS(), DCS(), MCF()]);
    expect(watch.complete).toBe(false);
    expect(watch.onFrame(EOP())).toBe('none');
    expect(watch.complete).toBe(false);
    expect(watch.onFrame(MCF())).toBe('none');
    expect(watch.complete).toBe(true);
  });

  test('PPS-EOP then MCF (ECM) completes the document', () => {
    const watch = new EndOfDocumentWatch();
    feed(watch, [DIS(), DCS(), PPS(PPS_EOP)]);
    expect(watch.complete).toBe(false);
    watch.onFrame(MCF());
    expect(watch.complete).toBe(true);
  });

  test('PRI-EOP then MCF completes the document', () => {
    const watch = new EndOfDocumentWatch();
    feed(watch, [PRI_EOP(), MCF()]);
    expect(watch.complete).toBe(true);
  });

  test('PPS-EOP as SpanDSP sends it (X bit set: 0x2f) completes it too', () => {
    const watch = new EndOfDocumentWatch();
    feed(watch, [PPS(PPS_EOP | 1, 1), MCF()]);
    expect(watch.complete).toBe(true);
  });

  test('PPS-MPS with the X bit set (0x4f) does not', () => {
    const watch = new EndOfDocumentWatch();
    feed(watch, [PPS(PPS_MPS | 1), MCF()]);
    expect(watch.complete).toBe(false);
  });

  test('a PPR to PPS-EOP does not complete it; the MCF to the repeated PPS-EOP does', () => {
    const watch = new EndOfDocumentWatch();
    feed(watch, [PPS(PPS_EOP, 2), PPR()]);
    expect(watch.complete).toBe(false);
    feed(watch, [PPS(PPS_EOP, 2), MCF()]);
    expect(watch.complete).toBe(true);
  });

  test('a multi-page ECM document completes only at its last page', () => {
    const watch = new EndOfDocumentWatch();
    const pages: boolean[] = [];
    for (const [post, page] of [
      [PPS_NULL, 0],
      [PPS_MPS, 0],
      [PPS_NULL, 1],
      [PPS_MPS, 1],
      [PPS_EOP, 2],
    ] as const) {
      feed(watch, [PPS(post, page), MCF()]);
      pages.push(watch.complete);
    }
    expect(pages).toEqual([false, false, false, false, true]);
  });

  test('once complete it stays complete (the DCN that follows changes nothing)', () => {
    const watch = new EndOfDocumentWatch();
    feed(watch, [EOP(), MCF()]);
    expect(watch.onFrame(DCN())).toBe('none');
    expect(watch.complete).toBe(true);
  });
});

describe('MCF to anything but the end of the document does not complete it', () => {
  test.each([
    ['MPS', MPS],
    ['EOM', EOM],
    ['PPS-MPS', () => PPS(PPS_MPS)],
    ['PPS-NULL', () => PPS(PPS_NULL)],
    ['PPS-EOM', () => PPS(PPS_EOM)],
  ])('MCF to %s', (_label, postPage) => {
    const watch = new EndOfDocumentWatch();
    expect(feed(watch, [DIS(), DCS(), postPage(), MCF()])).toEqual(['none', 'none', 'none', 'none']);
    expect(watch.complete).toBe(false);
  });

  test('an MCF with no post-page command before it (the one to DCS training) does not', () => {
    const watch = new EndOfDocumentWatch();
    feed(watch, [DIS(), DCS(), MCF()]);
    expect(watch.complete).toBe(false);
  });

  test('a received MCF (from the far end) does not confirm anything of ours', () => {
    const watch = new EndOfDocumentWatch();
    feed(watch, [EOP(), frame('received', 'MCF', [0xff, 0x13, 0x8d])]);
    expect(watch.complete).toBe(false);
  });
});

describe('a DIS asks for a hang-up only after the confirmed end of the document', () => {
  test('the first DIS of the call: none', () => {
    const watch = new EndOfDocumentWatch();
    expect(watch.onFrame(DIS())).toBe('none');
  });

  test('a DIS after MCF to MPS (the document goes on): none', () => {
    const watch = new EndOfDocumentWatch();
    expect(feed(watch, [DIS(), DCS(), MPS(), MCF(), DIS()])).toEqual(['none', 'none', 'none', 'none', 'none']);
  });

  test('a DIS after PPR to PPS-EOP (not yet confirmed): none', () => {
    const watch = new EndOfDocumentWatch();
    expect(feed(watch, [PPS(PPS_EOP), PPR(), DIS()])).toEqual(['none', 'none', 'none']);
  });

  test('a DIS after MCF to PPS-EOP: hang-up, and again for every further DIS', () => {
    const watch = new EndOfDocumentWatch();
    expect(feed(watch, [DIS(), DCS(), PPS(PPS_EOP), MCF(), DIS(), DIS()])).toEqual([
      'none',
      'none',
      'none',
      'none',
      'hang-up',
      'hang-up',
    ]);
  });

  test('a DIS after MCF to EOP: hang-up', () => {
    const watch = new EndOfDocumentWatch();
    expect(feed(watch, [EOP(), MCF(), DIS()])).toEqual(['none', 'none', 'hang-up']);
  });
});

test('the success detail says the document was complete and why the call ended badly', () => {
  expect(DOCUMENT_COMPLETE_DETAIL).toMatch(/every page was received/);
  expect(DOCUMENT_COMPLETE_DETAIL).toMatch(/end of the document confirmed/);
});
