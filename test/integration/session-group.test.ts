/**
 * SessionGroup: many sessions, audio and T.38, sending and receiving, advanced by one native call per
 * tick, with events delivered after the tick in order. Unpaced: line time advances by ticks.
 */
import * as path from 'node:path';
import { FaxSession, ResultCode, type FaxEvent } from '../../lib';
import { CapacityError, ReentrantCallError } from '../../lib/base/errors';
import { SessionGroup } from '../../lib/realtime/group';
import { defaultLineSpec } from '../../lib/transports/impairments';
import { simulatedLinePair } from '../../lib/transports/impaired-line';
import { simulatedDatagramPair } from '../../lib/transports/t38/datagram-pair';
import { native } from '../../lib/native';
import { expectNativeError } from '../helpers/native-errors';
import { expectBitExact, useTextDocument } from '../helpers/simulated-calls';

const doc = useTextDocument(2);
let files = 0;
const receivedFile = (): string => path.join(doc.dir, `group-${++files}.tif`);
const TEN_MINUTES_MS = 600_000;

/** A sender and a receiver on one line pair, both run in `group`. */
function pair(group: SessionGroup, medium: 'audio' | 't38' | 'switch') {
  const file = receivedFile();
  const t38 = medium === 't38' ? { t38: {} } : {};
  const sender = new FaxSession({
    direction: 'send',
    document: doc.file,
    identity: '100',
    ...t38,
    ...(medium === 'switch' ? { t38Switch: {} } : {}),
  });
  const receiver = new FaxSession({
    direction: 'receive',
    receivedFile: file,
    identity: '200',
    ...t38,
    ...(medium === 'switch' ? { t38Switch: { request: true } } : {}),
  });
  let lines;
  if (medium === 'audio') {
    const [a, b] = simulatedLinePair(defaultLineSpec());
    lines = [{ audio: a }, { audio: b }];
  } else if (medium === 't38') {
    const [a, b] = simulatedDatagramPair();
    lines = [{ t38: a }, { t38: b }];
  } else {
    const [a, b] = simulatedLinePair(defaultLineSpec());
    const [c, d] = simulatedDatagramPair();
    lines = [
      { audio: a, t38: c },
      { audio: b, t38: d },
    ];
    // The simulated signalling: the far end takes the receiver's offer as it is.
    receiver.on('t38-request', (offer) => {
      sender.switchToT38(offer);
      receiver.switchToT38(offer);
    });
  }
  const runs = [
    group.run(sender, lines[0]!, { timeLimitMs: TEN_MINUTES_MS }),
    group.run(receiver, lines[1]!, { timeLimitMs: TEN_MINUTES_MS }),
  ];
  return { sender, receiver, file, runs };
}

describe('a group carries many faxes at once', () => {
  test('six audio pairs, four T.38 pairs and two that switch: every fax arrives bit-exact', async () => {
    const group = new SessionGroup({ paced: false, capacity: 32 });
    const pairs = [
      ...Array.from({ length: 6 }, () => pair(group, 'audio')),
      ...Array.from({ length: 4 }, () => pair(group, 't38')),
      ...Array.from({ length: 2 }, () => pair(group, 'switch')),
    ];
    expect(group.size).toBe(24);
    const outcomes = await Promise.all(pairs.flatMap((p) => p.runs));
    for (const o of outcomes) expect(o.result).toMatchObject({ code: ResultCode.OK, pages: 2 });
    for (const p of pairs) {
      expectBitExact(p.file, doc.pages);
      p.sender.close();
      p.receiver.close();
    }
    expect(pairs.map((p) => p.sender.medium)).toEqual([...Array(6).fill('audio'), ...Array(6).fill('t38')]);
    expect(group.size).toBe(0);
    const stats = group.stats();
    expect(stats.frames).toBeGreaterThan(24 * 500);
    expect(stats.droppedDatagrams).toBe(0);
    group.close();
  });
});

describe('events come after the tick, in order', () => {
  test('a hang-up from a listener comes after the events already being delivered, and ends the fax', async () => {
    const group = new SessionGroup({ paced: false, capacity: 4 });
    const p = pair(group, 'audio');
    const seen: string[] = [];
    p.sender.on('event', (e: FaxEvent) => {
      seen.push(e.type === 'frame' ? `${e.direction} ${e.name}` : e.type);
      if (e.type === 'negotiated') p.sender.hangUp('hung up by the test');
    });
    const [sent] = await Promise.all(p.runs);
    expect(sent!.result).toMatchObject({ code: ResultCode.CALL_DROPPED, detail: 'hung up by the test' });
    const negotiated = seen.indexOf('negotiated');
    expect(negotiated).toBeGreaterThan(0);
    expect(seen.at(-1)).toBe('finished');
    expect(seen.filter((s) => s === 'finished')).toHaveLength(1);
    group.close();
  });

  test('ticking the group from inside a listener of its own tick is refused with ReentrantCallError', async () => {
    const group = new SessionGroup({ paced: false, capacity: 4 });
    const p = pair(group, 'audio');
    let refused: unknown = null;
    p.sender.once('negotiated', () => {
      try {
        group.tick();
      } catch (error) {
        refused = error;
      }
    });
    const outcomes = await Promise.all(p.runs);
    expect(refused).toBeInstanceOf(ReentrantCallError);
    expect((refused as Error).message).toMatch(/inside a listener of its own tick/);
    for (const o of outcomes) expect(o.result.code).toBe(ResultCode.OK);
    group.close();
  });
});

describe('membership', () => {
  test('a session in a group refuses its own per-frame calls; closing it frees its slot', () => {
    const group = new SessionGroup({ paced: false, capacity: 1 });
    const session = new FaxSession({ direction: 'receive', receivedFile: receivedFile() });
    const [a] = simulatedLinePair(defaultLineSpec());
    void group.run(session, a);
    const frame = new Int16Array(160);
    expect(() => session.process(frame, frame)).toThrow(/driven by a SessionGroup/);
    expect(() => group.run(new FaxSession({ direction: 'receive', receivedFile: receivedFile() }), a)).toThrow(
      CapacityError,
    );
    session.close();
    group.tick();
    expect(group.size).toBe(0);
    group.close();
  });

  test('the native group checks what it is given', () => {
    const group = new native.SessionGroup(2);
    expectNativeError(() => group.add({} as never), 'TypeError', /Expected a FaxSession for the session/);
    expectNativeError(() => new native.SessionGroup(0), 'RangeError');
    expectNativeError(() => group.tick(1_000_000), 'RangeError');
    const s = new native.FaxSession({ direction: 'receive', rxFile: receivedFile() } as never);
    const slot = group.add(s);
    expect(slot).toBe(0);
    expectNativeError(() => group.add(s), 'Error', /already in a group/);
    group.close();
    // Released by the closed group: the session runs on its own again.
    const frame = new Int16Array(160);
    expect(typeof s.process(frame, frame)).toBe('number');
    expectNativeError(() => group.tick(0), 'Error', /closed/);
    s.close();
  });
});
