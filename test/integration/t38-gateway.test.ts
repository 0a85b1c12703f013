/**
 * The T.38 gateway between an audio leg and a T.38 leg: a G.711 fax machine (an audio FaxSession)
 * to a T.38 terminal and back the other way, in one process over the simulated lines (unpaced),
 * and once paced over real sockets on 127.0.0.1 with runGateway (RTP on one side, UDPTL on the
 * other), as a media server would run it.
 */
import * as path from 'node:path';
import {
  FaxSession,
  InvalidOptionError,
  LineMedia,
  parseLineSpec,
  readTiffPages,
  ResultCode,
  RtpLine,
  runGateway,
  SessionClosedError,
  simulatedDatagramPair,
  simulatedLinePair,
  T38Gateway,
  UdptlLine,
  type FaxPage,
  type GatewayFrameEvent,
} from '../../lib';
import { writeShortDocument } from '../helpers/cli-peers';
import { differingRows, tempDir } from '../helpers/pages';

let tmp: ReturnType<typeof tempDir>;
let doc: { file: string; pages: FaxPage[] };
beforeAll(() => {
  tmp = tempDir();
  doc = writeShortDocument(tmp.dir, 2, { firstSeed: 41 });
});
afterAll(() => tmp.cleanup());

function expectBitExact(file: string): void {
  const pages = readTiffPages(file);
  expect(pages).toHaveLength(doc.pages.length);
  doc.pages.forEach((page, i) => expect(differingRows(pages[i]!, page)).toBe(0));
}

/**
 * One call through the gateway, unpaced: `audioSide` on the simulated RTP line, the other end on
 * the simulated UDPTL path, the gateway in the middle. Returns the relayed frames as "leg name".
 */
async function bridged(
  audioSide: 'send' | 'receive',
  lines: { audio: string; t38: string },
): Promise<{ frames: string[]; file: string; recovered: number }> {
  const file = path.join(tmp.dir, `gw-${audioSide}-${lines.t38.replace(/\W/g, '')}.tif`);
  const [audioEnd, gatewayAudio] = simulatedLinePair(parseLineSpec(lines.audio));
  const [gatewayT38, t38End] = simulatedDatagramPair({ line: parseLineSpec(lines.t38) });
  const audio =
    audioSide === 'send'
      ? new FaxSession({ direction: 'send', document: doc.file, identity: '1' })
      : new FaxSession({ direction: 'receive', receivedFile: file, identity: '2' });
  const t38 =
    audioSide === 'send'
      ? new FaxSession({ direction: 'receive', receivedFile: file, identity: '2', t38: {} })
      : new FaxSession({ direction: 'send', document: doc.file, identity: '1', t38: {} });
  const gateway = new T38Gateway();
  const frames: string[] = [];
  gateway.on('frame', (f: GatewayFrameEvent) => frames.push(`${f.from} ${f.name}`));
  const heard = new Int16Array(160);
  const sent = new Int16Array(160);
  try {
    for (let tick = 0; tick < 30_000 && !(audio.finished && t38.finished); tick++) {
      const nowMs = tick * 20;
      // The audio fax machine.
      const got = audioEnd.read(heard, nowMs);
      audio.process(got ? heard : null, sent);
      audioEnd.write(sent, nowMs);
      // The gateway.
      gatewayT38.poll((d) => gateway.receiveDatagram(d), nowMs);
      const gotGw = gatewayAudio.read(heard, nowMs);
      gateway.process(gotGw ? heard : null, sent, (d) => gatewayT38.send(d, nowMs));
      gatewayAudio.write(sent, nowMs);
      // The T.38 terminal.
      t38End.poll((d) => t38.receiveDatagram(d), nowMs);
      t38.tick((d) => t38End.send(d, nowMs));
    }
    for (const s of [audio, t38]) {
      expect(await s.done).toMatchObject({ code: ResultCode.OK, success: true, pages: doc.pages.length });
    }
    expect((await (audioSide === 'send' ? audio : t38).done).stats.remoteIdentity).toBe('2');
    expect(gateway.stats()).toMatchObject({ ecm: true, pagesTransferred: doc.pages.length });
    return { frames, file, recovered: gateway.stats().udptl.recoveredByRedundancy };
  } finally {
    audio.close();
    t38.close();
    gateway.close();
  }
}

describe('T38Gateway in one process', () => {
  test('a G.711 sender to a T.38 receiver: pages bit-exact; DIS came in on T.38, DCS on audio', async () => {
    const { frames, file } = await bridged('send', { audio: 'seed=1', t38: 'seed=1' });
    expectBitExact(file);
    expect(frames).toContain('t38 DIS');
    expect(frames).toContain('audio DCS');
    expect(frames).toContain('t38 MCF');
  });

  test('a T.38 sender to a G.711 receiver, 5 % loss on the T.38 leg: redundancy rebuilds, pages bit-exact', async () => {
    const { frames, file, recovered } = await bridged('receive', { audio: 'seed=5', t38: 'loss=5%,seed=5' });
    expectBitExact(file);
    expect(recovered).toBeGreaterThan(0);
    expect(frames).toContain('audio DIS');
    expect(frames).toContain('t38 DCS');
  });

  test('runGateway ends a bridge with no page at its time limit, naming it', async () => {
    // Nobody on either leg: the gateway hears silence and nothing on UDPTL.
    const [, gatewayAudio] = simulatedLinePair(parseLineSpec('seed=1'));
    const [gatewayT38] = simulatedDatagramPair({ line: parseLineSpec('seed=1') });
    const gateway = new T38Gateway();
    try {
      const outcome = await runGateway(gateway, gatewayAudio, gatewayT38, { paced: false, timeLimitMs: 3_000 });
      expect(outcome.end).toEqual({
        reason: 'time-limit',
        detail: 'the call reached its time limit of 3 s of line time without a page',
      });
      expect(outcome.durationMs).toBe(3_000);
      expect(gateway.listenerCount('frame')).toBe(0);
    } finally {
      gateway.close();
    }
  });

  test('options are checked; a closed gateway says so', () => {
    expect(() => new T38Gateway({ ecm: 'yes' as never })).toThrow(InvalidOptionError);
    expect(() => new T38Gateway({ t38: { maxBitRate: 1234 } })).toThrow(/maxBitRate/);
    expect(() => new T38Gateway({ modems: ['v99' as never] })).toThrow(/modems/);
    const gateway = new T38Gateway({ modems: ['v29'] });
    expect(() => gateway.process(new Int16Array(80), new Int16Array(160), () => undefined)).toThrow(/160 samples/);
    // A datagram longer than any UDPTL datagram is counted as malformed, never thrown.
    gateway.receiveDatagram(new Uint8Array(2000));
    gateway.receiveDatagram(new Uint8Array([0xff]));
    expect(gateway.stats().udptl.malformed).toBe(2);
    gateway.close();
    gateway.close();
    expect(gateway.closed).toBe(true);
    expect(() => gateway.stats()).toThrow(SessionClosedError);
    expect(() => gateway.receiveDatagram(new Uint8Array(4))).toThrow(/gateway is closed/);
  });
});

describe('runGateway over real sockets (paced)', () => {
  test('RTP caller → gateway → UDPTL terminal on 127.0.0.1: the fax succeeds, the bridge ends when a leg hangs up', async () => {
    const file = path.join(tmp.dir, 'gw-sockets.tif');
    // Caller and gateway over RTP; gateway and terminal over UDPTL. Each far end is latched.
    const gatewayRtp = new RtpLine({ local: { host: '127.0.0.1', port: 0 } });
    const gatewayUdptl = new UdptlLine({ local: { host: '127.0.0.1', port: 0 } });
    const rtpPort = (await gatewayRtp.bound()).port;
    const terminalUdptl = new UdptlLine({
      local: { host: '127.0.0.1', port: 0 },
      remote: { host: '127.0.0.1', port: (await gatewayUdptl.bound()).port },
    });
    const callerRtp = new RtpLine({
      local: { host: '127.0.0.1', port: 0 },
      remote: { host: '127.0.0.1', port: rtpPort },
    });
    const gateway = new T38Gateway();
    const controller = new AbortController();
    const bridge = (async () => {
      await Promise.all([gatewayRtp.ready(), gatewayUdptl.ready()]);
      return runGateway(gateway, gatewayRtp, gatewayUdptl, { signal: controller.signal, timeLimitMs: 120_000 });
    })();
    try {
      const [sent, received] = await Promise.all([
        new LineMedia(callerRtp, { readyTimeoutMs: 10_000 }).send(
          { document: doc.file, identity: '1' },
          { onEvent: () => undefined },
        ),
        new LineMedia(terminalUdptl, { readyTimeoutMs: 10_000 }).receive(
          { receivedFile: file, identity: '2' },
          { onEvent: () => undefined },
        ),
      ]);
      expect(sent.result).toMatchObject({ code: ResultCode.OK, pages: doc.pages.length });
      expect(received.result).toMatchObject({ code: ResultCode.OK, pages: doc.pages.length });
      expect(received.line).toMatchObject({ kind: 'udptl', udptlMalformed: 0 });
      expectBitExact(file);
      controller.abort();
      const outcome = await bridge;
      expect(outcome.end.reason).toBe('cancelled');
      expect(outcome.stats).toMatchObject({ pagesTransferred: doc.pages.length, ecm: true });
      expect(outcome.t38Line).toMatchObject({ kind: 'udptl', udptlMalformed: 0 });
      expect(outcome.audioLine).toMatchObject({ kind: 'rtp', malformed: 0 });
    } finally {
      controller.abort();
      gateway.close();
      await Promise.all([gatewayRtp.close(), gatewayUdptl.close(), terminalUdptl.close(), callerRtp.close()]);
    }
  }, 90_000);
});
