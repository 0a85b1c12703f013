/**
 * T.38 calls in one process (runSimulatedCall with `t38` or `t38Switch`): two FaxSessions whose
 * UDPTL datagrams cross a simulated path with the line simulator's loss, and the switch from
 * audio to T.38 as a host's signalling would drive it (accepted, refused, unanswered, refreshed).
 * Unpaced: line time advances by ticks; a seed always gives the same call.
 */
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  FaxSession,
  LoopbackMedia,
  parseLineSpec,
  ResultCode,
  runSimulatedCall,
  sendFax,
  type SimulatedCall,
  type SimulatedCallOptions,
} from '../../lib';
import { differingRows } from '../helpers/pages';
import { expectBitExact, lineStat, useTextDocument } from '../helpers/simulated-calls';

const doc = useTextDocument(3);
let received = 0;

/** Bounds every call far below the default, so a stuck one fails fast. */
const TEN_MINUTES_MS = 600_000;

async function call(
  line: string,
  extra: Partial<SimulatedCallOptions>,
): Promise<SimulatedCall & { receivedFile: string }> {
  const receivedFile = path.join(doc.dir, `received-${++received}.tif`);
  const result = await runSimulatedCall({
    line: parseLineSpec(line),
    sender: { document: doc.file, identity: '100' },
    receiver: { receivedFile, identity: '200' },
    timeLimitMs: TEN_MINUTES_MS,
    ...extra,
  });
  return { ...result, receivedFile };
}

function expectSuccess(c: SimulatedCall & { receivedFile: string }): void {
  expect(c.sender).toMatchObject({ code: ResultCode.OK, success: true, pages: 3 });
  expect(c.receiver).toMatchObject({ code: ResultCode.OK, success: true, pages: 3 });
  expect(c.receiver.stats.remoteIdentity).toBe('100');
  expect(c.sender.stats.remoteIdentity).toBe('200');
  expectBitExact(c.receivedFile, doc.pages);
}

describe('T.38 from the start', () => {
  test('a perfect path: 3 pages bit-exact at 14400 bit/s, every datagram delivered, none lost', async () => {
    const c = await call('seed=1', { t38: {} });
    expectSuccess(c);
    expect(c.senderMedium).toBe('t38');
    expect(c.receiverMedium).toBe('t38');
    expect(c.sender.stats.bitRate).toBe(14400);
    for (const [ours, theirs] of [
      [c.senderLine, c.receiverLine],
      [c.receiverLine, c.senderLine],
    ] as const) {
      expect(lineStat(ours, 'udptlLost')).toBe(0);
      expect(lineStat(ours, 'udptlMalformed')).toBe(0);
      expect(lineStat(ours, 'udptlRecoveredByRedundancy')).toBe(0);
      // Each end received what the other put on the wire, but for the last tick's still in flight;
      // UDPTL counts each IFP once however often SpanDSP asked for it to be repeated.
      expect(lineStat(ours, 'received')).toBeLessThanOrEqual(lineStat(theirs, 'sent'));
      expect(lineStat(ours, 'received')).toBeGreaterThan(lineStat(theirs, 'sent') - 5);
      // Repeated copies (SpanDSP asks for indicators more than once) are duplicates, dropped.
      expect(lineStat(ours, 'udptlReceived')).toBe(lineStat(ours, 'received'));
      expect(lineStat(ours, 'udptlDelivered') + lineStat(ours, 'udptlDuplicates')).toBe(lineStat(ours, 'received'));
      expect(lineStat(theirs, 'udptlSent')).toBeLessThan(lineStat(theirs, 'sent'));
    }
  });

  test('10 % random loss each way with redundancy 3: the fax stands, the lost IFPs rebuilt', async () => {
    const c = await call('loss=10%,seed=7', { t38: { errorCorrection: 'redundancy', redundancy: 3 } });
    expectSuccess(c);
    for (const stats of [c.senderLine, c.receiverLine]) {
      // Four losses in a row beat a depth of 3 now and then; SpanDSP rides over those.
      expect(lineStat(stats, 'udptlRecoveredByRedundancy')).toBeGreaterThan(10 * lineStat(stats, 'udptlLost'));
    }
  });

  test('5 % random loss with FEC: lost IFPs rebuilt from FEC', async () => {
    const c = await call('loss=5%,seed=11', { t38: { errorCorrection: 'fec' } });
    expectSuccess(c);
    expect(
      lineStat(c.receiverLine, 'udptlRecoveredByFec') + lineStat(c.senderLine, 'udptlRecoveredByFec'),
    ).toBeGreaterThan(0);
  });

  test('without error correction every lost datagram is an IFP lost', async () => {
    const c = await call('loss=2%,seed=3', { t38: { errorCorrection: 'none' } });
    const dropped = lineStat(c.receiverLine, 'udptlLost') + lineStat(c.senderLine, 'udptlLost');
    expect(dropped).toBeGreaterThan(0);
    expect(lineStat(c.receiverLine, 'udptlRecoveredByRedundancy')).toBe(0);
    expect(lineStat(c.receiverLine, 'udptlRecoveredByFec')).toBe(0);
  });

  test('sendFax over a T.38 loopback sets the variables of a successful fax', async () => {
    const media = new LoopbackMedia({ t38: {}, receiver: { identity: '200' } });
    const outcome = await sendFax(
      { document: pathToFileURL(doc.file).href, identity: '100' },
      { media },
      { log: () => undefined, allowFiles: true },
    );
    expect(outcome.variables).toMatchObject({
      send_fax_result: 'success',
      send_fax_result_code: String(ResultCode.OK),
      send_fax_pages: '3',
      send_fax_remote_identity: '200',
    });
    expect(outcome.line).toMatchObject({ kind: 'simulated-udptl', udptlLost: 0, udptlMalformed: 0 });
    media.call!.receivedPages.forEach((page, i) => expect(differingRows(page, doc.pages[i]!)).toBe(0));
  });
});

describe('the switch from audio to T.38', () => {
  test('accepted: both ends restart T.30 in T.38 mode and the fax goes over UDPTL', async () => {
    const c = await call('seed=2', {
      t38Switch: { requester: 'receiver', answer: 'accept', offer: { redundancy: 2 } },
    });
    expectSuccess(c);
    expect(c.senderMedium).toBe('t38');
    expect(c.receiverMedium).toBe('t38');
    // The fax itself went over T.38: datagrams both ways, no page in audio.
    expect(lineStat(c.senderLine, 'udptlSent')).toBeGreaterThan(100);
    expect(c.senderLine.kind).toBe('simulated-udptl');
  });

  test('refused (488): the call stays in audio and the fax still succeeds', async () => {
    const c = await call('seed=4', { t38Switch: { requester: 'sender', answer: 'refuse' } });
    expectSuccess(c);
    expect(c.senderMedium).toBe('audio');
    expect(c.receiverMedium).toBe('audio');
  });

  test('unanswered: the request times out in line time and the call stays in audio', async () => {
    const c = await call('seed=5', { t38Switch: { answer: 'none', answerTimeoutMs: 3000 } });
    expectSuccess(c);
    expect(c.receiverMedium).toBe('audio');
  });
});

describe('FaxSession: the switch as a host drives it', () => {
  function sessions(receivedFile: string): { sender: FaxSession; receiver: FaxSession } {
    return {
      sender: new FaxSession({ direction: 'send', document: doc.file, t38Switch: {} }),
      receiver: new FaxSession({
        direction: 'receive',
        receivedFile,
        t38Switch: { request: true, offer: { maxDatagram: 300 }, answerTimeoutMs: 1000 },
      }),
    };
  }

  test('t38-request on the first frame, t38-switched once; a repeated offer is a no-op that keeps the fax', async () => {
    const receivedFile = path.join(doc.dir, `received-${++received}.tif`);
    const { sender, receiver } = sessions(receivedFile);
    const log: string[] = [];
    receiver.on('t38-request', (offer) => {
      log.push(`request ${offer.maxDatagram} ${offer.errorCorrection}`);
      expect(sender.switchToT38(offer)).toBe(true);
      expect(receiver.switchToT38(offer)).toBe(true);
    });
    receiver.on('t38-switched', (s) => log.push(`receiver switched ${s.maxDatagram}`));
    sender.on('t38-switched', (s) => log.push(`sender switched ${s.maxDatagram}`));
    // A session refresh: the same offer again on every page changes nothing.
    receiver.on('page', () => {
      expect(receiver.switchToT38({ maxDatagram: 300 })).toBe(false);
      expect(sender.switchToT38({ maxDatagram: 300 })).toBe(false);
    });
    const heard = new Int16Array(160);
    const out = new Int16Array(160);
    const toReceiver: Uint8Array[] = [];
    const toSender: Uint8Array[] = [];
    const frame = (s: FaxSession, inbox: Uint8Array[], outbox: Uint8Array[]): void => {
      if (s.medium === 't38') {
        for (const d of inbox.splice(0)) s.receiveDatagram(d);
        s.tick((d) => outbox.push(Uint8Array.from(d)));
      } else {
        s.process(heard, out);
      }
    };
    for (let tick = 0; tick < 30_000 && !(sender.finished && receiver.finished); tick++) {
      frame(sender, toSender, toReceiver);
      frame(receiver, toReceiver, toSender);
    }
    expect(log).toEqual(['request 300 redundancy', 'sender switched 300', 'receiver switched 300']);
    expect((await sender.done).success).toBe(true);
    expect((await receiver.done).pages).toBe(3);
    expect(receiver.udptlStats()).toMatchObject({ lost: 0, malformed: 0 });
    expectBitExact(receivedFile, doc.pages);
    sender.close();
    receiver.close();
  });

  test('an unanswered request emits t38-refused with reason timeout after answerTimeoutMs of line time', () => {
    const { receiver } = sessions(path.join(doc.dir, `received-${++received}.tif`));
    const refused: Array<{ reason: string; detail: string; atMs: number }> = [];
    receiver.on('t38-refused', (r) => refused.push({ ...r, atMs: receiver.elapsedMs }));
    const heard = new Int16Array(160);
    const out = new Int16Array(160);
    for (let i = 0; i < 100; i++) receiver.process(heard, out);
    expect(refused).toEqual([
      { reason: 'timeout', detail: 'the far end did not answer the T.38 request within 1 s', atMs: 1020 },
    ]);
    expect(receiver.medium).toBe('audio');
    // A late 200 OK is the host's to honour: switching then still works.
    expect(receiver.switchToT38()).toBe(true);
    expect(receiver.medium).toBe('t38');
    expect(receiver.t38).toMatchObject({ maxDatagram: 300, errorCorrection: 'redundancy', redundancy: 3 });
    receiver.close();
  });

  test('T.38 calls on an audio session and audio calls on a T.38 one are refused clearly', () => {
    const audio = new FaxSession({ direction: 'send', document: doc.file });
    expect(() => audio.tick(() => undefined)).toThrow(/runs on audio/);
    expect(() => audio.receiveDatagram(new Uint8Array(4))).toThrow(/runs on audio/);
    expect(audio.udptlStats()).toBeNull();
    const t38 = new FaxSession({ direction: 'send', document: doc.file, t38: {} });
    expect(() => t38.process(new Int16Array(160), new Int16Array(160))).toThrow(/T\.38/);
    expect(() => new FaxSession({ direction: 'send', document: doc.file, t38: {}, t38Switch: {} })).toThrow(
      /exclude each other/,
    );
    expect(() => new FaxSession({ direction: 'send', document: doc.file, t38: { redundancy: 9 } })).toThrow(
      /t38.redundancy must be a whole number from 0 to 7/,
    );
    audio.close();
    t38.close();
  });
});
