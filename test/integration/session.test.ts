import * as path from 'node:path';
import {
  connectSessions,
  FaxSession,
  InvalidOptionError,
  ResultCode,
  SessionClosedError,
  readTiffPages,
  SAMPLES_PER_FRAME,
  type FaxEvent,
} from '../../lib';
import { differingRows, tempDir, writeTextDocument } from '../helpers/pages';

let tmp: ReturnType<typeof tempDir>;
beforeAll(() => (tmp = tempDir()));
afterAll(() => tmp.cleanup());

function pair(name: string, pages: number, signal?: AbortSignal) {
  const doc = writeTextDocument(tmp.dir, pages, { name: `${name}.tif`, firstSeed: 40 });
  const receivedFile = path.join(tmp.dir, `${name}-received.tif`);
  const sender = new FaxSession({ direction: 'send', document: doc.file, identity: '555 0199', signal });
  const receiver = new FaxSession({ direction: 'receive', receivedFile, identity: '555 0142' });
  return { doc, receivedFile, sender, receiver };
}

describe('two FaxSessions driven frame by frame', () => {
  test('complete a 2-page fax with events in order and identical pages', async () => {
    const { doc, receivedFile, sender, receiver } = pair('frames', 2);
    const events: FaxEvent[] = [];
    sender.on('event', (e) => events.push(e));
    const iterated: string[] = [];
    const iteration = (async () => {
      for await (const e of receiver.events()) iterated.push(e.type);
    })();
    await connectSessions(sender, receiver);
    await iteration;
    const result = await sender.done;
    expect(result).toMatchObject({ code: ResultCode.OK, success: true, pages: 2, remoteIdentity: '555 0142' });
    expect(receiver.result).toMatchObject({ code: ResultCode.OK, pages: 2, remoteIdentity: '555 0199' });
    const types = events.map((e) => e.type);
    expect(types.filter((t) => t === 'page')).toHaveLength(2);
    expect(types.at(-1)).toBe('finished');
    expect(types.indexOf('negotiated')).toBeLessThan(types.indexOf('page'));
    const names = events.flatMap((e) => (e.type === 'frame' ? [`${e.direction}:${e.name}`] : []));
    expect(names).toEqual(expect.arrayContaining(['received:DIS', 'sent:DCS', 'received:MCF', 'sent:DCN']));
    expect(iterated.at(-1)).toBe('finished');
    sender.close();
    receiver.close();
    const received = readTiffPages(receivedFile);
    expect(received.map((p, i) => differingRows(p, doc.pages[i]!))).toEqual([0, 0]);
  });

  test('an AbortSignal mid-fax hangs up with call-dropped and the pages confirmed so far', async () => {
    const controller = new AbortController();
    const { sender, receiver } = pair('abort', 3, controller.signal);
    sender.on('page', (e) => {
      if (e.page === 1) setImmediate(() => controller.abort());
    });
    await connectSessions(sender, receiver);
    const result = await sender.done;
    expect(result.code).toBe(ResultCode.CALL_DROPPED);
    expect(result.pages).toBe(1);
    sender.close();
    receiver.close();
  });

  test('a document that cannot be sent finishes at once with a file code and a detail', async () => {
    const sender = new FaxSession({ direction: 'send', document: path.join(tmp.dir, 'missing.tif') });
    const finished = new Promise<FaxEvent>((resolve) => sender.once('finished', resolve));
    const result = await sender.done;
    expect(result.code).toBe(ResultCode.FILE_ERROR);
    expect(result.detail).toMatch(/missing\.tif/);
    expect((await finished).type).toBe('finished');
    sender.close();
  });
});

describe('a paced line', () => {
  test('never runs ahead of real time: one second of line takes at least one second', async () => {
    const { sender, receiver } = pair('paced', 1);
    const started = performance.now();
    const lineMs = await connectSessions(sender, receiver, { paced: true, timeLimitMs: 1000 });
    const wallMs = performance.now() - started;
    expect(lineMs).toBe(1000);
    // Pacing sleeps to each frame's due time; only the last frame may be early by < 20 ms.
    expect(wallMs).toBeGreaterThanOrEqual(lineMs - 20);
    expect((await sender.done).code).toBe(ResultCode.CALL_DROPPED);
    sender.close();
    receiver.close();
  });
});

describe('a receiver whose file cannot be created', () => {
  test('finishes at once with the file-error code and says which path', async () => {
    const receiver = new FaxSession({
      direction: 'receive',
      receivedFile: path.join(tmp.dir, 'no', 'such', 'dir', 'rx.tif'),
    });
    const result = await receiver.done;
    expect(result.code).toBe(ResultCode.FILE_ERROR);
    expect(result.detail).toMatch(/no\/such\/dir\/rx\.tif/);
    receiver.close();
  });
});

describe('FaxSession options', () => {
  test.each([
    [{ direction: 'send', document: 'x.tif', identity: 'A'.repeat(21) }, /at most 20/],
    [{ direction: 'send', document: 'x.tif', identity: 'ACME' }, /digits/],
    [{ direction: 'send', document: 'x.tif', headerInfo: 'é' }, /printable ASCII/],
    [{ direction: 'send', document: 'x.tif', modems: ['v34'] }, /v17, v29, v27ter/],
    [{ direction: 'send', document: 'x.tif', compressions: [] }, /at least one/],
    [{ direction: 'send', document: 'x.tif', ecm: 'yes' }, /Expected a boolean for ecm but got string/],
    [{ direction: 'send', document: 'x.tif', pages: { first: 3, last: 2 } }, /pages\.last/],
    [{ direction: 'send' }, /Expected a file path for document/],
    [{ direction: 'receive' }, /Expected a file path for receivedFile/],
    [{ direction: 'both' }, /direction must be/],
  ])('%j is refused with InvalidOptionError', (options, message) => {
    const create = () => new FaxSession(options as never);
    expect(create).toThrow(InvalidOptionError);
    expect(create).toThrow(message);
  });

  test('errors carry a stable code', () => {
    try {
      new FaxSession({ direction: 'send', document: 'x.tif', identity: 'ACME' });
    } catch (e) {
      expect((e as InvalidOptionError).code).toBe('ERR_FAXLINE_INVALID_OPTION');
    }
    expect.assertions(1);
  });

  test('a closed session throws SessionClosedError', () => {
    const { sender, receiver } = pair('closed', 1);
    sender.close();
    receiver.close();
    expect(() => sender.process(null, new Int16Array(160))).toThrow(SessionClosedError);
    expect(() => sender.elapsedMs).toThrow(SessionClosedError);
  });
});

describe('the per-frame calls check their buffers as strictly as the addon', () => {
  test('a Float32Array frame or a plain array datagram is refused, not converted, and the session goes on', () => {
    const audio = new FaxSession({ direction: 'receive', receivedFile: path.join(tmp.dir, 'strict.tif') });
    const frame = new Int16Array(SAMPLES_PER_FRAME);
    expect(() => audio.process(new Float32Array(SAMPLES_PER_FRAME) as never, frame)).toThrow(
      new InvalidOptionError('Expected an Int16Array for received but got a Float32Array'),
    );
    expect(() => audio.process(frame, [] as never)).toThrow(/Expected an Int16Array for transmit but got an array/);
    audio.process(frame, frame);
    expect(audio.elapsedMs).toBe(20);
    audio.close();
    const t38 = new FaxSession({ direction: 'receive', receivedFile: path.join(tmp.dir, 'strict-t38.tif'), t38: {} });
    expect(() => t38.receiveDatagram([0, 0, 0] as never)).toThrow(
      new InvalidOptionError('Expected a Uint8Array for the datagram but got an array'),
    );
    expect(t38.udptlStats()).toMatchObject({ received: 0, malformed: 0 });
    t38.close();
  });
});
