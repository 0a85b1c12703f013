/**
 * Fax calls over the simulated RTP line (runSimulatedCall: G.711, RFC 2198, jitter buffer and the
 * line simulator between two FaxSessions), the line driver on a hand-written AudioLine, and the
 * SpanDSP 0.0.6 end-of-document workarounds on lossy lines. Everything runs unpaced: line time
 * advances by frames, so a call of minutes takes a second or so, and a seed always gives the
 * same call.
 */
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  completionCodes,
  defaultLineSpec,
  driveOnLine,
  FaxSession,
  FRAME_MS,
  InvalidOptionError,
  LineMedia,
  lossPattern,
  LoopbackMedia,
  parseLineSpec,
  ResultCode,
  runSimulatedCall,
  SAMPLES_PER_FRAME,
  sendFax,
  type AudioLine,
  type FaxEvent,
  type FrameEvent,
  type LineEnd,
  type LineStats,
  type SimulatedCall,
  type SimulatedCallOptions,
} from '../../lib';
import { DOCUMENT_COMPLETE_DETAIL } from '../../lib/engine/end-of-document';
import { frameLabel } from '../../lib/engine/trace';
import { differingRows } from '../helpers/pages';
import { expectBitExact, lineStat, useTextDocument } from '../helpers/simulated-calls';

const doc = useTextDocument(3);
let received = 0;

/** Bounds every simulated call far below the four-hour default, so a stuck one fails fast. */
const TEN_MINUTES_MS = 600_000;

/** SpanDSP's code for "Received a DCN from remote after sending a page", read from the library. */
function txGotDcnCode(): number {
  const code = completionCodes().find((c) => c.text === 'Received a DCN from remote after sending a page');
  if (!code) throw new Error('SpanDSP has no code for a DCN after a page');
  return code.code;
}

/** A 3-page ECM fax over `line` (a spec such as 'loss=0.5%,seed=55'). */
async function call(
  line: string,
  extra: Partial<SimulatedCallOptions> = {},
): Promise<SimulatedCall & { receivedFile: string }> {
  const receivedFile = path.join(doc.dir, `received-${++received}.tif`);
  const result = await runSimulatedCall({
    line: line === '' ? defaultLineSpec() : parseLineSpec(line),
    sender: { document: doc.file, ecm: true },
    receiver: { receivedFile, ecm: true },
    timeLimitMs: TEN_MINUTES_MS,
    ...extra,
  });
  return { ...result, receivedFile };
}

/** One end's frames as "> MCF" (sent) or "< PPS-EOP" (received), in order. */
function ladder(events: FaxEvent[]): string[] {
  return events
    .filter((e): e is FrameEvent => e.type === 'frame')
    .map((e) => `${e.direction === 'sent' ? '>' : '<'} ${frameLabel(e.name, e.bytes)}`);
}

function finishedAt(events: FaxEvent[]): number {
  const finished = events.filter((e) => e.type === 'finished');
  expect(finished).toHaveLength(1);
  return finished[0]!.timeMs;
}

function lastFrame(events: FaxEvent[]): FrameEvent {
  return events.filter((e): e is FrameEvent => e.type === 'frame').at(-1)!;
}

describe('a perfect line (defaultLineSpec), ECM', () => {
  test('3 pages arrive bit-exact, both ends OK, every packet counted', async () => {
    const c = await call('');
    expect(c.sender).toMatchObject({ code: ResultCode.OK, success: true, pages: 3, detail: '' });
    expect(c.receiver).toMatchObject({ code: ResultCode.OK, success: true, pages: 3, detail: '' });
    expect(c.sender.stats.ecm).toBe(true);
    expectBitExact(c.receivedFile, doc.pages);
    // One packet per 20 ms frame, each way, for the whole call.
    expect(c.senderLine.packetsSent).toBe(c.durationMs / FRAME_MS);
    expect(c.receiverLine.packetsSent).toBe(c.durationMs / FRAME_MS);
    // Sender to receiver: all of them arrive. Each tick runs the sender, then the receiver, so
    // the receiver's packet of the call's last tick is still on its way when the call stops.
    expect(c.receiverLine.packetsReceived).toBe(c.senderLine.packetsSent);
    expect(c.senderLine.packetsReceived).toBe(lineStat(c.receiverLine, 'packetsSent') - 1);
    for (const stats of [c.senderLine, c.receiverLine]) {
      expect(stats).toMatchObject({
        kind: 'simulated',
        codec: 'pcmu',
        lost: 0,
        late: 0,
        duplicate: 0,
        malformed: 0,
        foreign: 0,
        recovered: 0,
        droppedBySimulator: 0,
      });
    }
  });
});

describe('a seed gives the same call every time', () => {
  test('the same seed and spec twice: the same results, durations, frames and statistics', async () => {
    const runs = [await call('loss=0.5%,seed=55'), await call('loss=0.5%,seed=55')];
    const [a, b] = runs.map(
      ({ sender, receiver, durationMs, senderEvents, receiverEvents, senderLine, receiverLine }) => ({
        sender,
        receiver,
        durationMs,
        senderFrames: senderEvents.filter((e) => e.type === 'frame').map((e) => [e.timeMs, ...ladder([e])]),
        receiverFrames: receiverEvents.filter((e) => e.type === 'frame').map((e) => [e.timeMs, ...ladder([e])]),
        senderLine,
        receiverLine,
      }),
    );
    expect(a!.senderLine.droppedBySimulator).toBeGreaterThan(0);
    expect(b).toEqual(a);
  });
});

describe('SpanDSP 0.0.6 quirks at the end of the document, on a line losing 0.5 % of packets', () => {
  test('seed 55: our MCF to PPS-EOP is lost; the receiver reports the complete document as OK', async () => {
    const c = await call('loss=0.5%,seed=55');
    // The sender never heard the MCF to its last PPS-EOP, sent it again, and got DCN: for it the
    // last page is unconfirmed.
    expect(c.sender).toMatchObject({ code: txGotDcnCode(), success: false, pages: 2 });
    expect(c.receiver).toMatchObject({
      code: ResultCode.OK,
      success: true,
      pages: 3,
      detail: DOCUMENT_COMPLETE_DETAIL,
    });
    expect(ladder(c.receiverEvents).slice(-4)).toEqual(['< PPS-EOP', '> MCF', '< PPS-EOP', '> DCN']);
    expectBitExact(c.receivedFile, doc.pages);
    expect(c.durationMs).toBeLessThan(TEN_MINUTES_MS);
  });

  test('seed 311: the sender’s DCN is lost; the far end’s hang-up ends the receiver, its document complete', async () => {
    const c = await call('loss=0.5%,seed=311');
    expect(c.sender).toMatchObject({ code: ResultCode.OK, success: true, pages: 3, detail: '' });
    expect(ladder(c.senderEvents).at(-1)).toBe('> DCN');
    // The receiver confirmed the end of the document and then heard nothing more; the sender's
    // hang-up reaches it 2 s of line time after the sender finished. SpanDSP's own result after
    // the hang-up is OK, so it stands as it is.
    expect(c.receiver).toMatchObject({ code: ResultCode.OK, success: true, pages: 3, detail: '' });
    expect(ladder(c.receiverEvents)).not.toContain('< DCN');
    expect(ladder(c.receiverEvents).slice(-2)).toEqual(['< PPS-EOP', '> MCF']);
    expect(finishedAt(c.receiverEvents) - finishedAt(c.senderEvents)).toBeGreaterThanOrEqual(2_000);
    expect(finishedAt(c.receiverEvents) - finishedAt(c.senderEvents)).toBeLessThanOrEqual(2_020);
    expectBitExact(c.receivedFile, doc.pages);
  });

  test('seed 311 with no hang-up from the far end: the session hangs the receiver up 15 s after the document', async () => {
    const c = await call('loss=0.5%,seed=311', { farEndHangUpMs: Infinity });
    // SpanDSP would wait for ever (to the line's time limit before the session's deadline).
    expect(c.receiver).toMatchObject({ code: ResultCode.OK, success: true, pages: 3, detail: '' });
    expect(ladder(c.receiverEvents).slice(-2)).toEqual(['< PPS-EOP', '> MCF']);
    expect(finishedAt(c.receiverEvents) - lastFrame(c.receiverEvents).timeMs).toBe(15_000);
    expectBitExact(c.receivedFile, doc.pages);
    expect(c.durationMs).toBeLessThan(TEN_MINUTES_MS);
  });

  test('loss=1%, seed 170: the sender gives up and its DCN is lost; the far end’s hang-up ends the receiver', async () => {
    const c = await call('loss=1%,seed=170');
    expect(c.sender.success).toBe(false);
    expect(c.receiver).toMatchObject({ code: ResultCode.CALL_DROPPED, success: false, detail: 'the far end hung up' });
    expect(finishedAt(c.receiverEvents) - finishedAt(c.senderEvents)).toBeLessThanOrEqual(2_020);
    expect(c.durationMs).toBeLessThan(120_000);
  });
});

describe('RFC 2198 redundancy', () => {
  test.each([1, 2, 3, 4, 5])('depth 2 at 2 %% loss, seed %i: both OK, losses recovered', async (seed) => {
    const c = await call(`loss=2%,seed=${seed}`, { redundancy: 2 });
    expect(c.sender).toMatchObject({ code: ResultCode.OK, pages: 3 });
    expect(c.receiver).toMatchObject({ code: ResultCode.OK, pages: 3 });
    expectBitExact(c.receivedFile, doc.pages);
    expect(c.senderLine.droppedBySimulator).toBeGreaterThan(0);
    expect(c.receiverLine.recovered).toBeGreaterThan(0);
    // The simulator dropped exactly the packets lossPattern names for this seed and direction.
    const sent = lineStat(c.senderLine, 'packetsSent');
    const pattern = lossPattern(seed, { kind: 'random', p: 0.02 }, 0, sent);
    expect(pattern.reduce((a, b) => a + b, 0)).toBe(c.senderLine.droppedBySimulator);
    // Each of them was played from a redundant copy or counted lost, but for any in the last two
    // frames: their copies ride in packets the call ended before (the playout waits 2 × 20 ms).
    const settled = pattern.subarray(0, sent - 2).reduce((a, b) => a + b, 0);
    expect(lineStat(c.receiverLine, 'recovered') + lineStat(c.receiverLine, 'lost')).toBe(settled);
  });
});

describe('jitter and duplicates', () => {
  test('jitter=40ms, dup=5%: the fax succeeds and the duplicates are counted, not played', async () => {
    const c = await call('jitter=40ms,dup=5%,seed=1');
    expect(c.sender).toMatchObject({ code: ResultCode.OK, pages: 3 });
    expect(c.receiver).toMatchObject({ code: ResultCode.OK, pages: 3 });
    expectBitExact(c.receivedFile, doc.pages);
    for (const [mine, theirs] of [
      [c.receiverLine, c.senderLine],
      [c.senderLine, c.receiverLine],
    ] as [LineStats, LineStats][]) {
      const sent = lineStat(theirs, 'packetsSent');
      // About 5 % of the packets sent arrive twice.
      expect(mine.duplicate).toBeGreaterThan(0.03 * sent);
      expect(mine.duplicate).toBeLessThan(0.07 * sent);
      expect(mine.droppedBySimulator).toBe(0);
      expect(mine.jitterMs).toBeGreaterThan(0);
    }
  });
});

describe('LoopbackMedia with a line, through sendFax', () => {
  const local = { log: () => undefined, allowFiles: true };

  test('a fax over a jittery line succeeds with the send_fax variables', async () => {
    const media = new LoopbackMedia({ line: parseLineSpec('jitter=20ms,seed=4') });
    const outcome = await sendFax({ document: pathToFileURL(doc.file).href }, { media }, local);
    expect(outcome.variables).toMatchObject({
      send_fax_result: 'success',
      send_fax_result_code: String(ResultCode.OK),
      send_fax_pages: '3',
    });
    expect(media.call!.receiver).toMatchObject({ code: ResultCode.OK, pages: 3 });
    media.call!.receivedPages.forEach((page, i) => expect(differingRows(page, doc.pages[i]!)).toBe(0));
  });

  test('a line with recordAudio and hangUpAtMs: both ends hang up then, the audio of each direction recorded', async () => {
    const media = new LoopbackMedia({
      line: parseLineSpec('loss=0.5%,seed=55'),
      recordAudio: true,
      hangUpAtMs: 10_000,
    });
    await sendFax({ document: pathToFileURL(doc.file).href }, { media }, local);
    const detail = 'both ends hung up at 10 s of line time (hangUpAtMs)';
    expect(media.call!.sender).toMatchObject({ code: ResultCode.CALL_DROPPED, pages: 0, detail });
    expect(media.call!.receiver).toMatchObject({ code: ResultCode.CALL_DROPPED, pages: 0, detail });
    expect(media.call!.durationMs).toBe(10_000);
    // 8000 samples a second of line time, each way; both ends were on the line by then.
    expect(media.call!.audio!.sent).toHaveLength(80_000);
    expect(media.call!.audio!.received).toHaveLength(80_000);
    expect(media.call!.audio!.sent.some((s) => Math.abs(s) > 1000)).toBe(true);
    expect(media.call!.audio!.received.some((s) => Math.abs(s) > 1000)).toBe(true);
  });

  test('a receiver that never answers, on a line: the sender’s T0 (no answer) ends the call, no receiver result', async () => {
    const media = new LoopbackMedia({ line: parseLineSpec('jitter=20ms,seed=4'), receiver: { answers: false } });
    const outcome = await sendFax({ document: pathToFileURL(doc.file).href }, { media }, local);
    expect(outcome.result).toMatchObject({ code: ResultCode.T0_EXPIRED, success: false, pages: 0 });
    expect(media.call!.receiver).toBeNull();
    expect(media.call!.receiverEvents).toEqual([]);
    expect(media.call!.receivedPages).toEqual([]);
  });

  test('T.38 with recordAudio: the call succeeds and the audio is silence, as long as the call', async () => {
    const media = new LoopbackMedia({ t38: {}, recordAudio: true });
    await sendFax({ document: pathToFileURL(doc.file).href }, { media }, local);
    expect(media.call!.sender).toMatchObject({ code: ResultCode.OK, pages: 3 });
    const { sent, received: heard } = media.call!.audio!;
    expect(sent).toHaveLength((media.call!.durationMs * 8000) / 1000);
    expect(heard).toHaveLength(sent.length);
    // Not toEqual: comparing a million samples one by one through jest takes minutes.
    expect(sent.every((s) => s === 0) && heard.every((s) => s === 0)).toBe(true);
  });
});

/**
 * A line written for the test: it hears silence, counts what is read and written, and ends
 * itself (as a peer hanging up would) after `endAfterFrames` frames written.
 */
class FakeLine implements AudioLine {
  readonly kind = 'fake';
  ended: LineEnd | null = null;
  reads = 0;
  writes = 0;
  closed = 0;
  constructor(
    readonly endAfterFrames = Infinity,
    readonly readyWhen: Promise<void> = Promise.resolve(),
  ) {}
  read(heard: Int16Array): boolean {
    this.reads++;
    heard.fill(0);
    return true;
  }
  write(frame: Int16Array): void {
    expect(frame).toHaveLength(SAMPLES_PER_FRAME);
    this.writes++;
    if (this.writes >= this.endAfterFrames) this.ended = { reason: 'hangup', detail: 'X' };
  }
  ready(): Promise<void> {
    return this.readyWhen;
  }
  stats(): LineStats {
    return { kind: this.kind, reads: this.reads, writes: this.writes };
  }
  close(): Promise<void> {
    this.closed++;
    return Promise.resolve();
  }
}

function receiving(): FaxSession {
  return new FaxSession({ direction: 'receive', receivedFile: path.join(doc.dir, `never-${++received}.tif`) });
}

describe('driveOnLine on a hand-written line', () => {
  test('a line that ends itself hangs the session up with the line’s detail', async () => {
    const session = receiving();
    try {
      const line = new FakeLine(100);
      const outcome = await driveOnLine(session, line, { paced: false });
      expect(outcome.result).toMatchObject({ code: ResultCode.CALL_DROPPED, success: false, detail: 'X' });
      expect(outcome.durationMs).toBe(100 * FRAME_MS);
      // The ended line is not read or written again.
      expect(line.writes).toBe(100);
      expect(line.reads).toBe(100);
      expect(outcome.lateTicks).toBe(0);
    } finally {
      session.close();
    }
  });

  test('past timeLimitMs the session is hung up, the detail naming the limit; a 400 ms tail follows', async () => {
    const session = receiving();
    try {
      const line = new FakeLine();
      const outcome = await driveOnLine(session, line, { paced: false, timeLimitMs: 3_000 });
      expect(outcome.result.code).toBe(ResultCode.CALL_DROPPED);
      expect(outcome.result.detail).toBe('the call reached its time limit of 3 s of line time without a page');
      expect(outcome.durationMs).toBe(3_000);
      // 150 frames of call, then 20 frames (400 ms) of what we send only, nothing read.
      expect(line.reads).toBe(150);
      expect(line.writes).toBe(170);
    } finally {
      session.close();
    }
  });

  test('a time limit that is not a positive number is refused', async () => {
    const session = receiving();
    try {
      await expect(driveOnLine(session, new FakeLine(), { paced: false, timeLimitMs: 0 })).rejects.toThrow(
        InvalidOptionError,
      );
    } finally {
      session.close();
    }
  });

  test('a LineMedia whose line is never ready ends with call-dropped, saying so, without using the line', async () => {
    const line = new FakeLine(Infinity, new Promise<void>(() => undefined));
    const media = new LineMedia(line, { paced: false, readyTimeoutMs: 200 });
    const events: FaxEvent[] = [];
    const outcome = await media.receive(
      { receivedFile: path.join(doc.dir, `never-ready-${++received}.tif`) },
      { onEvent: (e) => events.push(e) },
    );
    expect(outcome.result).toMatchObject({
      code: ResultCode.CALL_DROPPED,
      success: false,
      detail: 'the fake line was not ready within 0.2 s',
    });
    expect(outcome.durationMs).toBe(0);
    expect(line.reads + line.writes).toBe(0);
    expect(events.filter((e) => e.type === 'finished')).toHaveLength(1);
    media.end();
    expect(line.closed).toBe(1);
  });
});

describe('FaxSession.hangUp(detail)', () => {
  test('on a running session: call-dropped, with the detail given', async () => {
    const session = receiving();
    try {
      const heard = new Int16Array(SAMPLES_PER_FRAME);
      const sent = new Int16Array(SAMPLES_PER_FRAME);
      for (let i = 0; i < 50; i++) session.process(heard, sent);
      expect(session.finished).toBe(false);
      session.hangUp('why');
      session.hangUp('a later reason does not replace the first');
      const result = await session.done;
      expect(result).toMatchObject({ code: ResultCode.CALL_DROPPED, success: false, detail: 'why' });
      expect(session.result).toBe(result);
    } finally {
      session.close();
    }
  });
});
