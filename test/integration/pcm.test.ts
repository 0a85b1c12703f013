import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  FaxSession,
  PcmMedia,
  ResultCode,
  SAMPLES_PER_FRAME,
  readTiffPages,
  sendFax,
  type SendFaxOptions,
} from '../../lib';
import { startStatusServer } from '../helpers/status-server';
import { differingRows, tempDir, writeTextDocument } from '../helpers/pages';

// The document is a local file, which only the host may permit.
const quiet: SendFaxOptions = { log: () => undefined, allowPrivate: true, allowFiles: true };
const MAX_FRAMES = 20_000; // 400 s of line time

let tmp: ReturnType<typeof tempDir>;
let doc: ReturnType<typeof writeTextDocument>;
let docUrl: string;
let n = 0;
beforeAll(() => {
  tmp = tempDir();
  doc = writeTextDocument(tmp.dir, 2, { firstSeed: 61 });
  docUrl = pathToFileURL(doc.file).href;
});
afterAll(() => tmp.cleanup());

function receiver(): { session: FaxSession; file: string } {
  const file = path.join(tmp.dir, `rx-${++n}.tif`);
  return { session: new FaxSession({ direction: 'receive', receivedFile: file, identity: '555 0200' }), file };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

/**
 * Waits (30 s at most) until the fax has started, or ended without starting. An unpaced line
 * must stand still until then: it would otherwise run far ahead of the document's
 * preparation and the far end would give up (35 s of line time), where a live line waits in
 * real time.
 */
async function untilFaxStarts(media: PcmMedia): Promise<void> {
  const startBy = Date.now() + 30_000;
  while (!media.active && !media.ended && Date.now() < startBy) await new Promise((resolve) => setTimeout(resolve, 1));
  expect(media.active || media.ended).toBe(true);
}

/** The media server's 20 ms loop, unpaced, from the fax's start: the far end is a receiving FaxSession. */
async function driveFrames(media: PcmMedia, rx: FaxSession, style: 'push-pull' | 'process') {
  const toReceiver = new Int16Array(SAMPLES_PER_FRAME);
  const toSender = new Int16Array(SAMPLES_PER_FRAME);
  await untilFaxStarts(media);
  for (let frame = 0; frame < MAX_FRAMES && !(media.ended && rx.finished); frame++) {
    if (style === 'push-pull') {
      media.push(toSender);
      media.pull(toReceiver);
    } else {
      media.process(toSender, toReceiver);
    }
    rx.process(toReceiver, toSender);
    if (frame % 100 === 0) await tick();
  }
}

describe('PcmMedia: a media server drives the fax with its own frames', () => {
  test.each(['push-pull', 'process'] as const)(
    '%s completes a fax against a receiving FaxSession, pages bit-exact',
    async (style) => {
      const media = new PcmMedia();
      const rx = receiver();
      const outcome = sendFax({ document: docUrl, identity: '555 0100' }, { media }, quiet);
      await driveFrames(media, rx.session, style);
      const { variables, result } = await outcome;
      expect(variables).toMatchObject({
        send_fax_result: 'success',
        send_fax_pages: '2',
        send_fax_remote_identity: '555 0200',
      });
      expect(result.stats.ecm).toBe(true);
      expect(rx.session.result).toMatchObject({ success: true, pages: 2, remoteIdentity: '555 0100' });
      rx.session.close();
      const pages = readTiffPages(rx.file);
      expect(pages.map((p, i) => differingRows(p, doc.pages[i]!))).toEqual([0, 0]);
    },
  );

  test('sends silence before the terminal starts and after the fax, and ignores what it hears then', async () => {
    const media = new PcmMedia();
    const out = new Int16Array(SAMPLES_PER_FRAME).fill(123);
    media.push(new Int16Array(SAMPLES_PER_FRAME).fill(1000));
    media.pull(out);
    expect(out.every((s) => s === 0)).toBe(true);
    expect(media.active).toBe(false);
    const outcome = await sendFax({ document: 'https//example.com/x.pdf' }, { media }, quiet);
    expect(outcome.result.code).toBe(ResultCode.FILE_ERROR);
    expect(media.ended).toBe(true);
    out.fill(7);
    media.process(null, out);
    expect(out.every((s) => s === 0)).toBe(true);
  });

  test('writes into the caller’s own Int16Array (no copy handed back)', async () => {
    const media = new PcmMedia();
    const rx = receiver();
    const outcome = sendFax({ document: docUrl }, { media }, quiet);
    const backing = new ArrayBuffer(4 * SAMPLES_PER_FRAME);
    const out = new Int16Array(backing, 2 * SAMPLES_PER_FRAME, SAMPLES_PER_FRAME); // a view at an offset
    const heard = new Int16Array(SAMPLES_PER_FRAME);
    let energy = 0;
    await untilFaxStarts(media);
    for (let i = 0; i < 200; i++) {
      media.push(heard);
      media.pull(out);
      for (const s of out) energy += Math.abs(s);
      rx.session.process(out, heard);
    }
    expect(energy).toBeGreaterThan(0); // the CNG tone landed in the caller's buffer
    media.hangUp();
    await driveFrames(media, rx.session, 'process');
    expect((await outcome).result.code).toBe(ResultCode.CALL_DROPPED);
    rx.session.close();
  });

  test('hangUp() mid-fax (the call ended): call-dropped, the confirmed pages, one finished event', async () => {
    const server = await startStatusServer();
    try {
      const media = new PcmMedia();
      const rx = receiver();
      rx.session.on('page', () => media.hangUp());
      const outcome = sendFax(
        { document: docUrl, status_url: server.url },
        { project_id: 'p', space_id: 's', call_id: 'c', node_id: 'n', swml_session_id: 'w', media },
        quiet,
      );
      await driveFrames(media, rx.session, 'process');
      const { result } = await outcome;
      expect(result).toMatchObject({ code: ResultCode.CALL_DROPPED, success: false });
      expect(result.pages).toBeLessThanOrEqual(1);
      const fax = server.requests.map((r) => r.json.params.fax);
      expect(fax.filter((f) => f.type === 'finished')).toEqual([
        {
          type: 'finished',
          params: expect.objectContaining({ success: false, result: ResultCode.CALL_DROPPED, pages: result.pages }),
        },
      ]);
      expect(fax.filter((f) => f.type === 'page')).toHaveLength(result.pages);
      rx.session.close();
    } finally {
      await server.close();
    }
  });

  test('an AbortSignal fired after page 1 is confirmed: call-dropped with 1 page, page 1 then finished', async () => {
    const server = await startStatusServer();
    try {
      const media = new PcmMedia();
      const rx = receiver();
      const controller = new AbortController();
      const outcome = sendFax(
        { document: docUrl, status_url: server.url },
        { project_id: 'p', space_id: 's', call_id: 'c', node_id: 'n', swml_session_id: 'w', media },
        { ...quiet, signal: controller.signal, onEvent: (e) => e.type === 'page' && controller.abort() },
      );
      await driveFrames(media, rx.session, 'push-pull');
      const { result, variables, trace } = await outcome;
      expect(result).toMatchObject({ code: ResultCode.CALL_DROPPED, success: false, pages: 1 });
      expect(variables).toMatchObject({
        send_fax_result: 'failed',
        send_fax_result_code: String(ResultCode.CALL_DROPPED),
        send_fax_pages: '1',
      });
      expect(trace.entries.at(-1)).toMatchObject({ kind: 'finished', code: ResultCode.CALL_DROPPED, pages: 1 });
      expect(server.requests.map((r) => r.json.params.fax)).toEqual([
        { type: 'page', params: { direction: 'send', number: 1 } },
        {
          type: 'finished',
          params: expect.objectContaining({
            success: false,
            result: ResultCode.CALL_DROPPED,
            result_text: 'The call dropped prematurely',
            pages: 1,
          }),
        },
      ]);
      rx.session.close();
    } finally {
      await server.close();
    }
  });

  test('carries one fax: a second send on the same media is refused', async () => {
    const media = new PcmMedia();
    const rx = receiver();
    const first = sendFax({ document: docUrl }, { media }, quiet);
    await driveFrames(media, rx.session, 'process');
    await first;
    rx.session.close();
    await expect(sendFax({ document: docUrl }, { media }, quiet)).rejects.toThrow(/carries one fax/);
  });
});

describe('PcmMedia.stream(): s16le 8 kHz as a Duplex', () => {
  /** The far end writes its audio in odd-sized chunks and reads one frame back per frame written. */
  async function driveStream(media: PcmMedia, rx: FaxSession): Promise<number> {
    const stream = media.stream();
    const ended = new Promise<void>((resolve) => stream.once('end', resolve));
    const toSender = new Int16Array(SAMPLES_PER_FRAME);
    const toReceiver = new Int16Array(SAMPLES_PER_FRAME);
    let bytesOut = 0;
    let frame = 0;
    await untilFaxStarts(media);
    for (; frame < MAX_FRAMES && !(media.ended && rx.finished); frame++) {
      const bytes = Buffer.from(toSender.buffer.slice(0));
      stream.write(bytes.subarray(0, 100));
      stream.write(bytes.subarray(100, 317));
      stream.write(bytes.subarray(317));
      const back = stream.read(SAMPLES_PER_FRAME * 2) as Buffer | null;
      if (back) {
        bytesOut += back.length;
        toReceiver.set(new Int16Array(back.buffer.slice(back.byteOffset, back.byteOffset + back.length)));
      } else {
        toReceiver.fill(0);
      }
      rx.process(toReceiver, toSender);
      if (frame % 100 === 0) await tick();
    }
    stream.end();
    stream.resume();
    await ended;
    return bytesOut;
  }

  test('completes a fax; one 320-byte frame out per frame in; the readable side ends with the fax', async () => {
    const media = new PcmMedia();
    const rx = receiver();
    const outcome = sendFax({ document: docUrl }, { media }, quiet);
    const bytesOut = await driveStream(media, rx.session);
    const { result, durationMs } = await outcome;
    expect(result).toMatchObject({ success: true, pages: 2 });
    expect(bytesOut % 320).toBe(0);
    expect(bytesOut / 320).toBeGreaterThanOrEqual(durationMs / 20);
    expect(rx.session.result).toMatchObject({ success: true, pages: 2 });
    rx.session.close();
  });

  test('ending the writable side mid-fax hangs up: call-dropped', async () => {
    const media = new PcmMedia();
    const rx = receiver();
    const outcome = sendFax({ document: docUrl }, { media }, quiet);
    const stream = media.stream();
    stream.resume();
    const silence = Buffer.alloc(320);
    await untilFaxStarts(media);
    for (let i = 0; i < 100; i++) stream.write(silence);
    stream.end();
    const { result } = await outcome;
    expect(result).toMatchObject({ code: ResultCode.CALL_DROPPED, pages: 0 });
    rx.session.close();
  });

  test('holds writes while the reader is not reading (backpressure), then carries on', async () => {
    const media = new PcmMedia();
    const stream = media.stream();
    const outcome = sendFax({ document: docUrl }, { media }, quiet);
    await untilFaxStarts(media);
    let accepted = 0;
    const frame = Buffer.alloc(320);
    while (stream.write(frame) && accepted < 10_000) accepted++;
    expect(accepted).toBeLessThan(10_000); // the readable buffer filled up and write() said so
    expect(stream.readableLength).toBeGreaterThan(0);
    const drained = new Promise((resolve) => stream.once('drain', resolve));
    stream.resume();
    await drained;
    media.hangUp();
    expect((await outcome).result.code).toBe(ResultCode.CALL_DROPPED);
  });
});

describe('the per-frame path', () => {
  test('push and pull allocate nothing on the JS heap in steady state', () => {
    // In a child with --expose-gc, away from jest's own allocations: the heap growth per frame
    // of push+pull mid-call (CNG, before T1 runs out, so no events either), after warm-up, in
    // the quietest of three windows (the JIT allocates now and then while it optimises).
    const script = `
      const { PcmMedia, SAMPLES_PER_FRAME, sendFax } = require('./lib');
      (async () => {
        const media = new PcmMedia();
        const done = sendFax({ document: ${JSON.stringify(docUrl)} }, { media }, { log: () => {}, allowFiles: true });
        while (!media.active) await new Promise((r) => setImmediate(r));
        const heard = new Int16Array(SAMPLES_PER_FRAME), out = new Int16Array(SAMPLES_PER_FRAME);
        const frame = () => { media.push(heard); media.pull(out); };
        for (let i = 0; i < 600; i++) frame();
        const growth = [];
        for (let w = 0; w < 3; w++) {
          gc();
          const before = process.memoryUsage().heapUsed;
          for (let i = 0; i < 300; i++) frame();
          growth.push((process.memoryUsage().heapUsed - before) / 300);
        }
        process.stdout.write(String(Math.min(...growth)));
        media.hangUp();
        await done;
      })();`;
    const r = spawnSync(process.execPath, ['--expose-gc', '-r', 'ts-node/register/transpile-only', '-e', script], {
      cwd: path.resolve(__dirname, '../..'),
      encoding: 'utf8',
    });
    expect(r.stderr).toBe('');
    const bytesPerFrame = Number(r.stdout);
    // Measured: about 5 bytes/frame of noise; one small object per frame shows as about 50.
    expect(bytesPerFrame).toBeLessThan(24);
  });
});
