/**
 * The CLI's real media end to end: `faxline receive` and `faxline send` as two processes over
 * 127.0.0.1 (RTP/G.711 and AudioSocket, paced at real time), a silent and a vanishing peer, the
 * loopback's built-in sender, and the usage errors of the media flags.
 */
import * as dgram from 'node:dgram';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { ResultCode, prepareDocument, readTiffPages, type FaxPage } from '../../lib';
import { makePdf } from '../helpers/pdfs';
import { faxline, type ChildOutput } from '../helpers/cli';
import {
  freePorts,
  killCliChildren,
  parseRtpHeader,
  parseVariables,
  rtpPacket,
  startCli,
  waitForUdpListener,
  waitUntil,
  within,
  writeShortDocument,
} from '../helpers/cli-peers';
import { differingRows, tempDir, writeTextDocument } from '../helpers/pages';

/** Station identities (T.30: up to 20 of 0-9, '+' and space), different per end so each sees the other's. */
const SENDER_ID = '+1 555 0100';
const RECEIVER_ID = '555 0200';

/**
 * A paced call of the short page takes about 20 s of line time; a wait on one is bounded well
 * above that (and below the 100 s after which test/helpers/cli kills any child).
 */
const CALL_BOUND_MS = 95_000;
/** How long a receiver may take to start (ts-node) and bind its port. */
const LISTEN_BOUND_MS = 30_000;

/** What `--json` prints: the variables and the stats with the line's. */
interface JsonOutput {
  variables: Record<string, string>;
  stats: { ecm: boolean; pagesTransferred: number; line?: Record<string, unknown> };
}

let tmp: ReturnType<typeof tempDir>;
/** Sent over the paced lines: one short page. */
let doc1: ReturnType<typeof writeShortDocument>;
/** Two full A4 pages: a long first page to hang up in, and the loopback's own document. */
let doc2: ReturnType<typeof writeTextDocument>;
beforeAll(() => {
  tmp = tempDir();
  doc1 = writeShortDocument(tmp.dir, 1, { firstSeed: 21, name: 'one.tif' });
  doc2 = writeTextDocument(tmp.dir, 2, { firstSeed: 31, name: 'two.tif' });
});
afterAll(() => {
  killCliChildren();
  tmp.cleanup();
});

/** The child's one JSON line, after checking its exit status (stderr shown when it differs). */
function jsonOf(out: ChildOutput, status: number): JsonOutput {
  if (out.status !== status) throw new Error(`exit status ${out.status}, expected ${status}; stderr:\n${out.stderr}`);
  const lines = out.stdout.trim().split('\n');
  expect(lines).toHaveLength(1);
  return JSON.parse(lines[0]!) as JsonOutput;
}

/** A fresh output folder for one receiver. */
function outDir(name: string): string {
  return path.join(tmp.dir, name);
}

interface CallOptions {
  /** rtp, audiosocket or t38. */
  kind: 'rtp' | 'audiosocket' | 't38';
  port: number;
  out: string;
  document: string;
  /** Flags both ends get (codec, --no-ecm, --redundancy). */
  both?: string[];
  /** Flags only the sender gets. */
  sender?: string[];
}

/** Starts a receiver on `port`, then, once it listens, a sender to it; resolves with both outputs. */
async function call(options: CallOptions): Promise<{ receiver: ChildOutput; sender: ChildOutput }> {
  const url = `${options.kind}://127.0.0.1:${options.port}`;
  const both = options.both ?? [];
  const receiver = startCli(
    'receive',
    '--listen',
    url,
    '--out',
    options.out,
    '--json',
    '--identity',
    RECEIVER_ID,
    '--timeout',
    '45',
    ...both,
  );
  if (options.kind !== 'audiosocket') {
    await waitForUdpListener(options.port, LISTEN_BOUND_MS);
  } else {
    await waitUntil(
      () => receiver.stderrSoFar().includes('Waiting for an AudioSocket call'),
      LISTEN_BOUND_MS,
      'the AudioSocket receiver',
    );
  }
  const sender = startCli(
    'send',
    options.document,
    '--to',
    url,
    '--json',
    '--identity',
    SENDER_ID,
    '--timeout',
    '45',
    ...both,
    ...(options.sender ?? []),
  );
  const [r, s] = await within(Promise.all([receiver.done, sender.done]), CALL_BOUND_MS, `the call over ${url}`);
  return { receiver: r, sender: s };
}

/** Checks a successful call: both exit 0, both variable sets exactly, and the pages that arrived. */
function expectSuccess(
  result: { receiver: ChildOutput; sender: ChildOutput },
  options: { out: string; document: { file: string; pages: FaxPage[] }; ecm: boolean; maxBadRows?: number },
): { receiver: JsonOutput; sender: JsonOutput } {
  const receiver = jsonOf(result.receiver, 0);
  const sender = jsonOf(result.sender, 0);
  const pages = String(options.document.pages.length);
  expect(sender.variables).toEqual({
    send_fax_document: pathToFileURL(options.document.file).href,
    send_fax_identity: SENDER_ID,
    send_fax_remote_identity: RECEIVER_ID,
    send_fax_pages: pages,
    send_fax_result_code: String(ResultCode.OK),
    send_fax_result_text: 'OK',
    send_fax_result: 'success',
  });
  expect(receiver.variables).toEqual({
    receive_fax_document: pathToFileURL(path.join(options.out, 'received.pdf')).href,
    receive_fax_identity: RECEIVER_ID,
    receive_fax_remote_identity: SENDER_ID,
    receive_fax_pages: pages,
    receive_fax_result_code: String(ResultCode.OK),
    receive_fax_result_text: 'OK',
    receive_fax_result: 'success',
  });
  expect(receiver.stats.ecm).toBe(options.ecm);
  expect(sender.stats.ecm).toBe(options.ecm);
  expect(fs.readdirSync(options.out).sort()).toEqual(
    ['ladder.svg', 'received.pdf', 'received.tif']
      .concat(options.document.pages.map((_, i) => `page-${String(i + 1).padStart(3, '0')}.png`))
      .sort(),
  );
  const received = readTiffPages(path.join(options.out, 'received.tif'));
  expect(received).toHaveLength(options.document.pages.length);
  const bad = received.map((page, i) => differingRows(page, options.document.pages[i]!));
  // ECM retransmits every bad frame: the page arrives bit-exact. Without it a clean
  // 127.0.0.1 line still may cost a row or two to a late packet's fill-in.
  if (options.ecm) expect(bad).toEqual(received.map(() => 0));
  else for (const rows of bad) expect(rows).toBeLessThanOrEqual(options.maxBadRows ?? 4);
  return { receiver, sender };
}

describe('receive --listen rtp:// and send --to rtp:// (two processes, paced)', () => {
  test('PCMU and PCMA, with and without ECM, four calls at once: both succeed with the exact variables and the pages', async () => {
    const cases = [
      { codec: 'pcmu', ecm: true },
      { codec: 'pcma', ecm: true },
      { codec: 'pcmu', ecm: false },
      { codec: 'pcma', ecm: false },
    ];
    const ports = await freePorts('udp', cases.length);
    const results = await Promise.all(
      cases.map((c, i) =>
        call({
          kind: 'rtp',
          port: ports[i]!,
          out: outDir(`rtp-${c.codec}-${c.ecm ? 'ecm' : 'noecm'}`),
          document: doc1.file,
          both: ['--codec', c.codec, ...(c.ecm ? [] : ['--no-ecm'])],
        }),
      ),
    );
    for (const [i, c] of cases.entries()) {
      const out = outDir(`rtp-${c.codec}-${c.ecm ? 'ecm' : 'noecm'}`);
      const { receiver, sender } = expectSuccess(results[i]!, { out, document: doc1, ecm: c.ecm });
      expect(receiver.stats.line).toMatchObject({
        kind: 'rtp',
        codec: c.codec,
        local: `127.0.0.1:${ports[i]}`,
        malformed: 0,
        foreign: 0,
      });
      expect(receiver.stats.line!.packetsReceived).toBeGreaterThan(0);
      expect(sender.stats.line).toMatchObject({ kind: 'rtp', codec: c.codec, remote: `127.0.0.1:${ports[i]}` });
      expect(sender.stats.line!.packetsReceived).toBeGreaterThan(0);
      expect(sender.stats.line!.malformed).toBe(0);
    }
  }, 150_000);
});

describe('receive --listen t38:// and send --to t38:// (two processes, paced, UDPTL)', () => {
  test('a 3-page PDF with redundancy (the default) and a page with FEC, at once: both succeed, pages bit-exact', async () => {
    // The PDF's pages as the sender renders them (rendering is deterministic): what must arrive.
    const pdfFile = path.join(tmp.dir, 'three.pdf');
    fs.writeFileSync(
      pdfFile,
      await makePdf([
        { text: { lines: 6 } },
        { text: { lines: 4, seed: 2 }, marks: [[20, 20, 40, 10]] },
        { vector: true },
      ]),
    );
    const prepared = await prepareDocument(pathToFileURL(pdfFile).href, { resolution: 'standard', allowFiles: true });
    const pdfPages = readTiffPages(prepared.file);
    await prepared.cleanup();
    expect(pdfPages).toHaveLength(3);
    const cases = [
      {
        name: 'redundancy',
        document: { file: pdfFile, pages: pdfPages },
        both: [],
        sender: ['--resolution', 'standard'],
      },
      { name: 'fec', document: doc1, both: ['--fec'], sender: [] },
    ];
    const ports = await freePorts('udp', cases.length);
    const results = await Promise.all(
      cases.map((c, i) =>
        call({
          kind: 't38',
          port: ports[i]!,
          out: outDir(`t38-${c.name}`),
          document: c.document.file,
          both: c.both,
          sender: c.sender,
        }),
      ),
    );
    for (const [i, c] of cases.entries()) {
      const { receiver, sender } = expectSuccess(results[i]!, {
        out: outDir(`t38-${c.name}`),
        document: c.document,
        ecm: true,
      });
      expect(receiver.stats.line).toMatchObject({
        kind: 'udptl',
        local: `127.0.0.1:${ports[i]}`,
        foreign: 0,
        udptlLost: 0,
        udptlMalformed: 0,
      });
      expect(sender.stats.line).toMatchObject({ kind: 'udptl', remote: `127.0.0.1:${ports[i]}`, udptlMalformed: 0 });
      // The pages went as IFPs: the receiver took in several times what it sent (its few control frames).
      expect(receiver.stats.line!.udptlDelivered).toBeGreaterThan(5 * Number(receiver.stats.line!.udptlSent));
    }
  }, 150_000);
});

/** The header of the silent peer's packet i: sequence and timestamp counting up from fixed values. */
function silentPeerHeader(i: number) {
  return { marker: i === 0, payloadType: 0, sequence: 0x1234 + i, timestamp: 0x10000 + 160 * i, ssrc: 0xdeadbeef };
}

describe('hand-built RTP for the silent peer', () => {
  test('header bytes as RFC 3550 §5.1 lays them out', () => {
    // Byte 0: V=2 (binary 10), P=0, X=0, CC=0000 -> 1000 0000 = 0x80.
    // Byte 1: M=1 on the first packet of the stream, PT=0 (PCMU, RFC 3551 table 4) -> 1000 0000 = 0x80;
    //         M=0 afterwards -> 0x00.
    // Bytes 2-3: sequence 0x1234, then 0x1235. Bytes 4-7: timestamp 0x00010000, then + 160 samples
    // (20 ms at 8 kHz) = 0x000100a0. Bytes 8-11: SSRC 0xdeadbeef.
    const first = [0x80, 0x80, 0x12, 0x34, 0x00, 0x01, 0x00, 0x00, 0xde, 0xad, 0xbe, 0xef];
    const second = [0x80, 0x00, 0x12, 0x35, 0x00, 0x01, 0x00, 0xa0, 0xde, 0xad, 0xbe, 0xef];
    const payload = new Uint8Array(160).fill(0xff);
    const p0 = rtpPacket(silentPeerHeader(0), payload);
    const p1 = rtpPacket(silentPeerHeader(1), payload);
    expect([...p0.subarray(0, 12)]).toEqual(first);
    expect([...p1.subarray(0, 12)]).toEqual(second);
    expect(p0.length).toBe(172);
    expect(parseRtpHeader(p1)).toEqual({ version: 2, ...silentPeerHeader(1) });
  });
});

/** A receiver fed 1 s of hand-built PCMU from a raw socket, which then falls silent. */
async function silentPeerCall(port: number, out: string) {
  const receiver = startCli('receive', '--listen', `rtp://127.0.0.1:${port}`, '--out', out, '--timeout', '30');
  await waitForUdpListener(port, LISTEN_BOUND_MS);
  const socket = dgram.createSocket('udp4');
  const heard: Buffer[] = [];
  socket.on('message', (msg) => heard.length < 1000 && heard.push(msg));
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
  const peerPort = socket.address().port;
  // PCMU 0xff is the code for +0 (G.711 µ-law inverts the bits of sign 0, segment 0, step 0): silence.
  const payload = new Uint8Array(160).fill(0xff);
  try {
    // 50 packets of 20 ms: 1 s of audio, then the peer goes quiet without a word.
    for (let i = 0; i < 50; i++) {
      socket.send(rtpPacket(silentPeerHeader(i), payload), port, '127.0.0.1');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    // The receiver's silence timeout is 10 s: it is done well within 30.
    const result = await within(receiver.done, 30_000, 'the receiver after its peer went silent');
    return { result, peerPort, heard };
  } finally {
    socket.close();
  }
}

/** Packets of 20 ms the vanishing sender sends before it is killed: 20 s of line time. */
const PACKETS_BEFORE_KILL = 1000;

/**
 * A 2-page RTP call whose sender is killed (SIGKILL: no goodbye of any kind) during page 1. The
 * sender talks to the receiver through a relay of ours, which counts its packets: the kill lands
 * 20 s of line time into the call (phase B and training take about 10 s; page 1's 70 kB of image
 * then take some 40 s at 14 400 bit/s), however long the sender took to start.
 */
async function vanishingSenderCall(port: number, out: string) {
  const receiver = startCli('receive', '--listen', `rtp://127.0.0.1:${port}`, '--out', out, '--json');
  await waitForUdpListener(port, LISTEN_BOUND_MS);
  const relay = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => relay.bind(0, '127.0.0.1', () => resolve()));
  let senderAddress: { port: number } | null = null;
  let fromSender = 0;
  let reachedKillPoint: () => void = () => undefined;
  const killPoint = new Promise<void>((resolve) => (reachedKillPoint = resolve));
  relay.on('message', (msg, rinfo) => {
    if (rinfo.port === port) {
      if (senderAddress) relay.send(msg, senderAddress.port, '127.0.0.1');
      return;
    }
    senderAddress = { port: rinfo.port };
    relay.send(msg, port, '127.0.0.1');
    if (++fromSender === PACKETS_BEFORE_KILL) reachedKillPoint();
  });
  try {
    const sender = startCli('send', doc2.file, '--to', `rtp://127.0.0.1:${relay.address().port}`, '--json');
    await within(killPoint, 90_000, 'the sender reaching 20 s of line time');
    sender.child.kill('SIGKILL');
    const killed = await within(sender.done, 10_000, 'the killed sender');
    const result = await within(receiver.done, 40_000, 'the receiver after its sender vanished');
    return { killed, result };
  } finally {
    relay.close();
  }
}

// The single calls below run at the same time (each on its own ports) so the file stays short;
// each test then checks its own call.
describe('single paced calls, run at once', () => {
  let calls: {
    audiosocket: ReturnType<typeof call>;
    redundancy: ReturnType<typeof call>;
    silent: ReturnType<typeof silentPeerCall>;
    vanishing: ReturnType<typeof vanishingSenderCall>;
  };
  beforeAll(async () => {
    const [tcp] = await freePorts('tcp', 1);
    const [red, silent, vanishing] = await freePorts('udp', 3);
    calls = {
      audiosocket: call({ kind: 'audiosocket', port: tcp!, out: outDir('audiosocket'), document: doc1.file }),
      redundancy: call({
        kind: 'rtp',
        port: red!,
        out: outDir('rtp-red'),
        document: doc1.file,
        both: ['--redundancy', '2'],
        sender: ['--line', 'loss=2%,seed=5'],
      }),
      silent: silentPeerCall(silent!, outDir('silent')),
      vanishing: vanishingSenderCall(vanishing!, outDir('hung-up')),
    };
    // Each test awaits (and reports) its own call; none may go unhandled meanwhile.
    for (const pending of Object.values(calls)) pending.catch(() => undefined);
  });

  describe('receive --listen audiosocket:// and send --to audiosocket://', () => {
    test('one call succeeds with the exact variables and the page bit-exact (ECM)', async () => {
      const out = outDir('audiosocket');
      const { receiver, sender } = expectSuccess(await calls.audiosocket, { out, document: doc1, ecm: true });
      expect(receiver.stats.line).toMatchObject({ kind: 'audiosocket', malformed: 0 });
      expect(sender.stats.line).toMatchObject({ kind: 'audiosocket', malformed: 0 });
    }, 120_000);
  });

  describe('RTP with RFC 2198 redundancy on both ends and a lossy sender', () => {
    test("--redundancy 2 and --line 'loss=2%,seed=5': the fax succeeds and the receiver recovered lost frames", async () => {
      const out = outDir('rtp-red');
      const { receiver } = expectSuccess(await calls.redundancy, { out, document: doc1, ecm: true });
      expect(receiver.stats.line).toMatchObject({ kind: 'rtp', malformed: 0 });
      expect(receiver.stats.line!.recovered).toBeGreaterThan(0);
    }, 120_000);
  });

  describe('a peer that goes silent', () => {
    test('1 s of PCMU then nothing: receive exits 1 with CALL_DROPPED and says no RTP came from the peer', async () => {
      const { result, peerPort, heard } = await calls.silent;
      if (result.status !== 1) throw new Error(`exit status ${result.status}, expected 1; stderr:\n${result.stderr}`);
      expect(parseVariables(result.stdout)).toMatchObject({
        receive_fax_pages: '0',
        receive_fax_result_code: String(ResultCode.CALL_DROPPED),
        receive_fax_result: 'failed',
      });
      expect(result.stderr).toContain(`no RTP from 127.0.0.1:${peerPort}`);
      expect(fs.existsSync(path.join(outDir('silent'), 'ladder.svg'))).toBe(true);
      // The receiver answered the peer it latched on to: G.711 RTP of its own, PCMU, one SSRC.
      const answers = heard.map((msg) => parseRtpHeader(msg));
      expect(answers.length).toBeGreaterThan(0);
      for (const header of answers) expect(header).toMatchObject({ version: 2, payloadType: 0 });
      expect(new Set(answers.map((h) => h!.ssrc)).size).toBe(1);
    }, 120_000);
  });

  describe('a sender that vanishes mid-page', () => {
    test('SIGKILL 20 s of line time into a 2-page call: receive exits 1 with CALL_DROPPED, fewer pages, and still writes the ladder', async () => {
      const { killed, result } = await calls.vanishing;
      expect(killed.status).toBeNull(); // ended by the signal, not by an exit of its own
      const json = jsonOf(result, 1);
      expect(json.variables).toMatchObject({
        receive_fax_identity: '',
        receive_fax_remote_identity: '',
        receive_fax_result_code: String(ResultCode.CALL_DROPPED),
        receive_fax_result: 'failed',
      });
      const pages = Number(json.variables.receive_fax_pages);
      expect(pages).toBeLessThan(2);
      const out = outDir('hung-up');
      const files = fs.readdirSync(out);
      expect(files).toContain('ladder.svg');
      // The pages that did arrive (if any) are kept, and they are the pages sent.
      if (pages > 0) {
        const received = readTiffPages(path.join(out, 'received.tif'));
        expect(received.map((page, i) => differingRows(page, doc2.pages[i]!))).toEqual(received.map(() => 0));
      } else {
        expect(files).not.toContain('received.pdf');
      }
      expect(json.stats.line).toMatchObject({ kind: 'rtp', malformed: 0 });
    }, 120_000);
  });
});

describe('receive --listen loopback (the built-in sender, unpaced)', () => {
  test('the sample letter: exit 0, 2 pages, all files written', () => {
    const out = outDir('loopback-sample');
    const r = faxline('receive', '--listen', 'loopback', '--out', out, '--json');
    const json = jsonOf(r, 0);
    expect(json.variables).toEqual({
      receive_fax_document: pathToFileURL(path.join(out, 'received.pdf')).href,
      receive_fax_identity: '',
      receive_fax_remote_identity: '',
      receive_fax_pages: '2',
      receive_fax_result_code: String(ResultCode.OK),
      receive_fax_result_text: 'OK',
      receive_fax_result: 'success',
    });
    expect(fs.readdirSync(out).sort()).toEqual([
      'ladder.svg',
      'page-001.png',
      'page-002.png',
      'received.pdf',
      'received.tif',
    ]);
    expect(readTiffPages(path.join(out, 'received.tif'))).toHaveLength(2);
  });

  test('--document DOC: our own 2-page TIFF arrives bit-exact', () => {
    const out = outDir('loopback-doc');
    const r = faxline('receive', '--listen', 'loopback', '--document', doc2.file, '--out', out, '--json');
    expect(jsonOf(r, 0).variables).toMatchObject({ receive_fax_pages: '2', receive_fax_result: 'success' });
    const received = readTiffPages(path.join(out, 'received.tif'));
    expect(received.map((page, i) => differingRows(page, doc2.pages[i]!))).toEqual([0, 0]);
  });
});

describe('send --to loopback --line and bad media arguments', () => {
  test("--line 'loss=0.3%,seed=1': the exit status agrees with the variables", () => {
    const r = faxline('send', doc1.file, '--to', 'loopback', '--line', 'loss=0.3%,seed=1', '--json');
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    const { variables } = JSON.parse(lines[0]!) as JsonOutput;
    const success = variables.send_fax_result === 'success';
    expect(r.status).toBe(success ? 0 : 1);
    expect(variables.send_fax_result).toMatch(/^(success|failed)$/);
    expect(variables.send_fax_result_code === '0').toBe(success);
    expect(variables.send_fax_result_text === 'OK').toBe(success);
    if (success) expect(variables.send_fax_pages).toBe('1');
  });

  test.each([
    [['send', 'DOC', '--to', 'loopback', '--line', 'loss=200%'], /loss=200%/],
    [['send', 'DOC', '--to', 'rtp://nohost'], /nohost/],
    [['send', 'DOC', '--to', 'rtp://127.0.0.1:0'], /127\.0\.0\.1:0/],
    [['receive', '--listen', 'ftp://x:1', '--out', 'OUT'], /ftp:\/\/x:1/],
  ])('%j exits 2 and says why on stderr', (args, message) => {
    const r = faxline(...args.map((a) => (a === 'DOC' ? doc1.file : a === 'OUT' ? outDir('never') : a)));
    expect({ status: r.status, stdout: r.stdout }).toEqual({ status: 2, stdout: '' });
    expect(r.stderr).toMatch(message);
    expect(fs.existsSync(outDir('never'))).toBe(false);
  });

  test('--redundancy 2 with --to audiosocket:// exits 2: redundancy is RTP and T.38 only', () => {
    const r = faxline('send', doc1.file, '--redundancy', '2', '--to', 'audiosocket://127.0.0.1:9');
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('--redundancy, --symmetric and --local apply to RTP and T.38 only');
  });

  test.each([
    [['--fec', '--to', 'rtp://127.0.0.1:9'], '--fec is for T.38 (t38://HOST:PORT)'],
    [['--fec', '--to', 'loopback'], '--fec is for T.38 (t38://, or the loopback with --t38)'],
    [['--fec', '--redundancy', '2', '--to', 't38://127.0.0.1:9'], '--fec and --redundancy exclude each other'],
    [['--redundancy', '8', '--to', 't38://127.0.0.1:9'], 'UDPTL redundancy is at most 7'],
    [['--codec', 'pcma', '--to', 't38://127.0.0.1:9'], '--codec is for audio; T.38 carries no audio'],
    [['--t38', '--to', 't38://127.0.0.1:9'], '--t38 is for the loopback; a T.38 line is t38://HOST:PORT'],
  ])('T.38 flags: %j exits 2 with "%s"', (args, message) => {
    const r = faxline('send', doc1.file, ...args);
    expect({ status: r.status, stdout: r.stdout }).toEqual({ status: 2, stdout: '' });
    expect(r.stderr).toContain(message);
  });

  test('--t38 on the loopback with 10 % loss: the fax succeeds over UDPTL, lost IFPs rebuilt', () => {
    const r = faxline('send', doc1.file, '--t38', '--line', 'loss=10%,seed=3', '--json');
    const output = jsonOf(r, 0);
    expect(output.variables.send_fax_result).toBe('success');
    expect(output.stats.line).toMatchObject({ kind: 'simulated-udptl', udptlLost: 0, udptlMalformed: 0 });
  });
});
