/**
 * Two SipEndpoints on 127.0.0.1 fax each other over real UDP: SIP signalling through our own user
 * agent, the fax paced at real time over RTP/G.711 or T.38 UDPTL. Each call is one short page
 * (about 20 s of line time); the pages that arrive are compared row for row with those sent.
 */
import * as dgram from 'node:dgram';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { readTiffPages, ResultCode } from '../../lib';
import { CapacityError } from '../../lib/base/errors';
import {
  CallMedia,
  MediaPorts,
  SipEndpoint,
  parseMessage,
  type SipEndpointOptions,
  type SipIncomingFax,
  type SipReceiveFaxOutcome,
} from '../../lib/sip';
import { differingRows, tempDir } from '../helpers/pages';
import { waitUntil, within, writeShortDocument } from '../helpers/cli-peers';

/** Bounds each fax far below the defaults, so a stuck call fails the test fast. */
const CALL_MS = 90_000;
jest.setTimeout(150_000);

let tmp: { dir: string; cleanup: () => void };
let doc: { file: string; pages: ReturnType<typeof readTiffPages> };
const endpoints: SipEndpoint[] = [];

beforeAll(() => {
  tmp = tempDir();
  doc = writeShortDocument(tmp.dir, 1, { height: 300 });
});

afterEach(async () => {
  await Promise.all(endpoints.splice(0).map((e) => e.close()));
});

afterAll(() => tmp.cleanup());

/** A started endpoint on 127.0.0.1, any port; closed after the test. */
async function endpoint(options: Partial<SipEndpointOptions> = {}): Promise<SipEndpoint> {
  const e = new SipEndpoint({
    listen: 'udp:127.0.0.1:0',
    ports: { min: 30000, max: 31999 },
    timeLimitMs: CALL_MS,
    ...options,
  });
  endpoints.push(e);
  await e.start();
  return e;
}

function uriOf(e: SipEndpoint, user = '5551234'): string {
  return `sip:${user}@127.0.0.1:${e.address.port}`;
}

/** The receiver answers every call, storing into its own folder; resolves with each outcome. */
function answerAll(
  e: SipEndpoint,
  options: { signalAfterMs?: number } = {},
): { outcomes: Promise<SipReceiveFaxOutcome>[]; calls: SipIncomingFax[] } {
  const outcomes: Promise<SipReceiveFaxOutcome>[] = [];
  const calls: SipIncomingFax[] = [];
  e.on('call', (call) => {
    calls.push(call);
    const signal = options.signalAfterMs ? AbortSignal.timeout(options.signalAfterMs) : undefined;
    outcomes.push(
      call.receiveFax({ identity: '200', storeDir: path.join(tmp.dir, 'store'), ...(signal && { signal }) }),
    );
  });
  return { outcomes, calls };
}

function expectPagesArrived(outcome: SipReceiveFaxOutcome): void {
  expect(outcome.pagesFile).toBeDefined();
  const pages = readTiffPages(outcome.pagesFile!);
  expect(pages).toHaveLength(doc.pages.length);
  doc.pages.forEach((page, i) => expect(differingRows(pages[i]!, page)).toBe(0));
}

const send = (from: SipEndpoint, to: SipEndpoint, extra: object = {}) =>
  within(
    from.sendFax({
      to: uriOf(to),
      document: pathToFileURL(doc.file).href,
      allowFiles: true,
      identity: '100',
      ...extra,
    }),
    CALL_MS,
    'the fax',
  );

/** One fax from a new sender to a new receiver that answers it: both ends and both outcomes. */
async function faxBetween(senderOptions: Partial<SipEndpointOptions>, receiverOptions: Partial<SipEndpointOptions>) {
  const receiver = await endpoint(receiverOptions);
  const sender = await endpoint(senderOptions);
  const inbound = answerAll(receiver);
  const sent = await send(sender, receiver);
  await waitUntil(() => inbound.outcomes.length === 1, 5_000, 'the inbound call');
  const received = await within(inbound.outcomes[0]!, CALL_MS, 'the received fax');
  return { sender, receiver, inbound, sent, received };
}

describe('a fax over G.711', () => {
  test("both ends 'off': one page arrives row for row, code 0 and the seven variables on both sides", async () => {
    const { sender, receiver, inbound, sent, received } = await faxBetween({ t38: 'off' }, { t38: 'off' });

    expect(sent.variables).toEqual({
      send_fax_document: pathToFileURL(doc.file).href,
      send_fax_identity: '100',
      send_fax_remote_identity: '200',
      send_fax_pages: '1',
      send_fax_result_code: String(ResultCode.OK),
      send_fax_result_text: 'OK',
      send_fax_result: 'success',
    });
    expect(sent.result.code).toBe(ResultCode.OK);
    expect(sent.transport).toBe('g711');
    expect(sent.fellBack).toBe(false);
    expect(sent.sip.status).toBe(200);
    expect(sent.sip.callId).toBe(inbound.calls[0]!.callId);
    expect(sent.line?.kind).toBe('rtp');

    expect(received.variables).toMatchObject({
      receive_fax_identity: '200',
      receive_fax_remote_identity: '100',
      receive_fax_pages: '1',
      receive_fax_result_code: String(ResultCode.OK),
      receive_fax_result: 'success',
    });
    expect(received.transport).toBe('g711');
    expect(inbound.calls[0]!.number).toBe('5551234');
    expectPagesArrived(received);
    await waitUntil(() => sender.stats().active === 0 && receiver.stats().active === 0, 10_000, 'the hang-up');
    expect(sender.stats()).toMatchObject({
      callsOut: 1,
      faxesOk: 1,
      faxesFailed: 0,
      g711: 1,
      t38: 0,
      fallbacks: 0,
      mediaPorts: 0,
    });
    expect(receiver.stats()).toMatchObject({ callsIn: 1, faxesOk: 1, g711: 1, mediaPorts: 0 });
  });
});

describe('T.38', () => {
  test("'prefer' both sides: the answering side's re-INVITE moves the fax to T.38, the page arrives", async () => {
    const { sender, receiver, sent, received } = await faxBetween({ t38: 'prefer' }, { t38: 'prefer' });
    expect(sent.result.code).toBe(ResultCode.OK);
    expect(sent.variables.send_fax_result).toBe('success');
    expect(sent).toMatchObject({ transport: 't38', fellBack: false });
    expect(sent.line?.kind).toBe('udptl');
    expect(received.result.code).toBe(ResultCode.OK);
    expect(received).toMatchObject({ transport: 't38', fellBack: false });
    expectPagesArrived(received);
    await waitUntil(() => sender.stats().active === 0 && receiver.stats().active === 0, 10_000, 'the hang-up');
    expect(sender.stats()).toMatchObject({ faxesOk: 1, t38: 1, g711: 0, fallbacks: 0 });
    expect(receiver.stats()).toMatchObject({ faxesOk: 1, t38: 1, g711: 0, fallbacks: 0 });
  });

  test("a receiver with T.38 'off' answers the re-INVITE 488: the sender falls back and the fax goes on in G.711", async () => {
    const { sender, sent, received } = await faxBetween({ t38: 'prefer' }, { t38: 'off' });
    expect(sent.result.code).toBe(ResultCode.OK);
    expect(sent).toMatchObject({ transport: 'g711', fellBack: true });
    expect(received.result.code).toBe(ResultCode.OK);
    expect(received).toMatchObject({ transport: 'g711', fellBack: false });
    expectPagesArrived(received);
    await waitUntil(() => sender.stats().active === 0, 10_000, 'the hang-up');
    expect(sender.stats()).toMatchObject({ faxesOk: 1, g711: 1, t38: 0, fallbacks: 1 });
  });

  test("a sender with 'only' offers m=image first: the receiver takes T.38 from the start", async () => {
    const { sent, received } = await faxBetween({ t38: 'only' }, { t38: 'prefer' });
    expect(sent.result.code).toBe(ResultCode.OK);
    expect(sent).toMatchObject({ transport: 't38', fellBack: false });
    expect(received).toMatchObject({ transport: 't38', fellBack: false });
    expect(received.line?.kind).toBe('udptl');
    expectPagesArrived(received);
  });
});

describe('calls that end early', () => {
  test('the far end hangs up mid-fax (BYE): the sender reports CALL_DROPPED saying so', async () => {
    const receiver = await endpoint({ t38: 'off' });
    const sender = await endpoint({ t38: 'off' });
    // The receiver gives up 8 s into the call (mid-training or mid-page) and hangs up at once.
    const inbound = answerAll(receiver, { signalAfterMs: 8_000 });
    const sent = await send(sender, receiver);
    await waitUntil(() => inbound.outcomes.length === 1, 5_000, 'the inbound call');
    const received = await within(inbound.outcomes[0]!, CALL_MS, 'the received fax');
    expect(received.result.code).toBe(ResultCode.CALL_DROPPED);
    expect(sent.result.code).toBe(ResultCode.CALL_DROPPED);
    expect(sent.result.detail).toBe('the far end hung up (SIP BYE)');
    expect(sent.variables).toMatchObject({ send_fax_result: 'failed', send_fax_pages: '0' });
    expect(sent.sip.status).toBe(200);
  });

  test('486 Busy Here: a call-level failure, CALL_DROPPED with the status in the detail', async () => {
    const receiver = await endpoint();
    const sender = await endpoint();
    receiver.on('call', (call) => call.reject(486));
    const sent = await send(sender, receiver);
    expect(sent.result.code).toBe(ResultCode.CALL_DROPPED);
    expect(sent.result.detail).toBe('the call failed: SIP 486 Busy Here');
    expect(sent.variables).toMatchObject({
      send_fax_result: 'failed',
      send_fax_result_code: String(ResultCode.CALL_DROPPED),
      send_fax_pages: '0',
    });
    expect(sent.sip.status).toBe(486);
    expect(sent.durationMs).toBe(0);
    expect(sender.stats()).toMatchObject({ callsOut: 1, faxesFailed: 1, active: 0, mediaPorts: 0 });
    expect(receiver.stats()).toMatchObject({ callsIn: 1, active: 0 });
  });
});

/** Sends one OPTIONS to `e` from a bare UDP socket and resolves with the response's status. */
async function optionsStatus(e: SipEndpoint): Promise<number> {
  const socket = dgram.createSocket('udp4');
  try {
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    const port = socket.address().port;
    const text =
      `OPTIONS sip:127.0.0.1:${e.address.port} SIP/2.0\r\n` +
      `Via: SIP/2.0/UDP 127.0.0.1:${port};branch=z9hG4bK-probe-${port};rport\r\n` +
      'Max-Forwards: 70\r\n' +
      `From: <sip:probe@127.0.0.1:${port}>;tag=probe\r\n` +
      `To: <sip:127.0.0.1:${e.address.port}>\r\n` +
      `Call-ID: probe-${port}@127.0.0.1\r\n` +
      'CSeq: 1 OPTIONS\r\n' +
      'Content-Length: 0\r\n\r\n';
    const reply = new Promise<Buffer>((resolve) => socket.once('message', resolve));
    socket.send(text, e.address.port, '127.0.0.1');
    const message = parseMessage(await within(reply, 5_000, 'the OPTIONS response'));
    if (message.type !== 'response') throw new Error('expected a response');
    return message.status;
  } finally {
    socket.close();
  }
}

describe('drain', () => {
  test('OPTIONS 503, a new call refused 503, the fax in flight finishes and drain() resolves true', async () => {
    const receiver = await endpoint({ t38: 'off' });
    const sender = await endpoint({ t38: 'off' });
    const late = await endpoint({ t38: 'off' });
    const inbound = answerAll(receiver);
    expect(await optionsStatus(receiver)).toBe(200);
    const inFlight = send(sender, receiver);
    await waitUntil(() => receiver.stats().active === 1, 10_000, 'the call in flight');
    const drained = receiver.drain(CALL_MS);
    expect(receiver.draining).toBe(true);
    expect(await optionsStatus(receiver)).toBe(503);
    const refused = await send(late, receiver);
    expect(refused.result.code).toBe(ResultCode.CALL_DROPPED);
    expect(refused.sip.status).toBe(503);
    expect(refused.result.detail).toMatch(/^the call failed: SIP 503/);
    const sent = await inFlight;
    expect(sent.result.code).toBe(ResultCode.OK);
    expect(await within(drained, 20_000, 'drain')).toBe(true);
    expect(inbound.outcomes).toHaveLength(1);
    expectPagesArrived(await inbound.outcomes[0]!);
    expect(receiver.stats()).toMatchObject({ active: 0, faxesOk: 1 });
  });
});

/** A UDP socket on an even port of 127.0.0.1 (another process's, as far as MediaPorts knows). */
async function holdEvenPort(): Promise<dgram.Socket> {
  for (let i = 0; i < 50; i++) {
    const socket = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    const port = socket.address().port;
    if (port % 2 === 0 && port + 2 <= 65535) return socket;
    socket.close();
  }
  throw new Error('no even port in 50 tries');
}

describe('media ports and lines', () => {
  test('an even port held by another socket is skipped (EADDRINUSE); with none left, CapacityError names the bound', async () => {
    const held = await holdEvenPort();
    const taken = held.address().port;
    const ports = new MediaPorts('127.0.0.1', { min: taken, max: taken + 2 });
    const media = await CallMedia.open(ports, { audio: 'pcmu', address: '127.0.0.1' });
    try {
      expect(media.rtp!.localAddress).toEqual({ host: '127.0.0.1', port: taken + 2 });
      expect(ports.inUse).toBe(1);
      const second = ports.openRtp({});
      await expect(second).rejects.toThrow(CapacityError);
      await expect(second).rejects.toThrow(/after 32 tries \(MAX_BIND_ATTEMPTS\)/);
      expect(ports.inUse).toBe(1);
    } finally {
      await media.close();
      held.close();
    }
    expect(ports.inUse).toBe(0);
  });

  test('setRemote after binding makes the line ready; prime sends empty datagrams from the RTP port; setCodec keeps the port', async () => {
    const far = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => far.bind(0, '127.0.0.1', resolve));
    const ports = new MediaPorts('127.0.0.1', { min: 33000, max: 33998 });
    const media = await CallMedia.open(ports, { audio: 'pcmu', t38: true, address: '127.0.0.1' });
    try {
      const rtpPort = media.rtp!.localAddress!.port;
      expect(rtpPort % 2).toBe(0);
      expect(media.udptl!.localAddress!.port % 2).toBe(0);
      expect(media.local()).toMatchObject({ address: '127.0.0.1', audioPort: rtpPort, version: 1 });
      expect(media.next().version).toBe(2);

      await media.setCodec('pcma');
      expect(media.rtp!.codec).toBe('pcma');
      expect(media.rtp!.localAddress!.port).toBe(rtpPort);

      const got: { length: number; port: number }[] = [];
      far.on('message', (m, r) => got.push({ length: m.length, port: r.port }));
      media.rtp!.setRemote({ host: '127.0.0.1', port: far.address().port });
      await within(media.rtp!.ready(), 2_000, 'the RTP line to be ready');
      expect(media.rtp!.prime(3)).toBe(3);
      await waitUntil(() => got.length === 3, 2_000, 'the primed datagrams');
      expect(got).toEqual([0, 1, 2].map(() => ({ length: 0, port: rtpPort })));
      expect(media.rtp!.stats().packetsSent).toBe(3);
      expect(() => media.rtp!.prime(17)).toThrow(/\[0, 16\]/);
    } finally {
      await media.close();
      far.close();
    }
    expect(ports.inUse).toBe(0);
  });
});
