// Exercises every native entry point once or a few times, then exits, so that valgrind can
// report what the addon leaks. Plain JS on purpose: it loads build/Release/faxline.node
// directly, with no TypeScript layer in between.
//
//   valgrind --leak-check=full --errors-for-leak-kinds=definite \
//     node test/leak/addon-leaks.js
//
// Exits non-zero if an expectation fails; leaks are valgrind's to report.
'use strict';

const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { Worker } = require('node:worker_threads');

const root = path.resolve(__dirname, '..', '..');
const addon = require('node-gyp-build')(root);
const C = addon.constants;

// A fine-resolution page of text-like strokes, packed 1-bit rows, MSB first, 1 = black.
function textPage(height, seed) {
  const width = 1728;
  const stride = width / 8;
  const data = new Uint8Array(stride * height);
  let s = seed;
  const next = () => (s = (s * 1103515245 + 12345) >>> 0) >>> 16;
  for (let top = 16; top + 16 < height; top += 24) {
    for (let x = 100; x + 12 < 1628; x += 11) {
      if (next() % 6 === 0) continue;
      const stem = next() % 2 === 0;
      for (let y = top; y < top + 16; ++y) {
        for (let dx = 0; dx < (stem ? 2 : 8); ++dx) {
          if (!stem && y !== top + 6 && y !== top + 14) continue;
          const px = x + dx;
          data[y * stride + (px >> 3)] |= 0x80 >> (px & 7);
        }
      }
    }
  }
  return { width, height, xDpi: 204, yDpi: 196, data };
}

function expectThrow(fn, type, what) {
  assert.throws(fn, (e) => e instanceof type, what);
}

async function main() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'faxline-leaks-'));
  try {
    const txFile = path.join(dir, 'document.tif');
    const missing = path.join(dir, 'missing.tif');
    const pages = [textPage(240, 1), textPage(200, 2)];

    // ---- bilevel: gray to 1-bit (text thresholded and its edges placed, tone screened), the
    // streaming TIFF-F writer, and their errors
    const grayWidth = 1728;
    const grayHeight = 160;
    const gray = new Uint8Array(grayWidth * grayHeight).fill(255);
    for (let y = 0; y < grayHeight; ++y) {
      for (let x = 0; x < grayWidth; ++x) {
        if (x >= 1000)
          gray[y * grayWidth + x] = (x * 7 + y * 3) % 256; // a photo-like region
        else if ((x % 11 < 2 || y % 24 === 6) && y % 24 < 16) gray[y * grayWidth + x] = (x * 13) % 120;
      }
    }
    const bilevel = addon.grayToBilevel(gray, grayWidth, grayHeight);
    assert.equal(bilevel.data.length, (grayWidth / 8) * grayHeight);
    addon.grayToBilevel(gray, grayWidth, grayHeight, { mode: 'text', yDpi: 391 });
    expectThrow(() => addon.grayToBilevel(gray, grayWidth, grayHeight + 1), RangeError, 'gray too short');
    const writer = new addon.TiffFWriter(path.join(dir, 'written.tif'), 't6', 1);
    writer.addPage(bilevel);
    assert.equal(writer.close(), 1);

    // ---- image: write, read, check, and their errors
    addon.writeTiffF(txFile, pages, 't4-2d');
    for (const compression of ['t4-1d', 't6']) {
      addon.writeTiffF(path.join(dir, `${compression}.tif`), pages, compression);
    }
    const read = addon.readTiff(txFile);
    assert.equal(read.length, 2);
    assert.ok(read[1].data.equals(pages[1].data), 'page 2 reads back as written');
    assert.equal(addon.checkTiff(txFile, 1, 0).code, C.T30_ERR_OK);
    assert.equal(addon.checkTiff(txFile, 3, 0).code, C.T30_ERR_NOPAGE);
    assert.equal(addon.checkTiff(missing, 1, 0).code, C.T30_ERR_FILEERROR);
    assert.equal((await addon.checkTiffAsync(txFile, 1, 0)).code, C.T30_ERR_OK);
    assert.equal((await addon.checkTiffAsync(missing, 1, 0)).code, C.T30_ERR_FILEERROR);
    assert.throws(() => addon.readTiff(missing), { code: 'ERR_FAXLINE_TIFF' });
    fs.writeFileSync(path.join(dir, 'cut.tif'), fs.readFileSync(txFile).subarray(0, 300));
    assert.throws(() => addon.readTiff(path.join(dir, 'cut.tif')), { code: 'ERR_FAXLINE_TIFF' });
    assert.throws(() => addon.writeTiffF(path.join(dir, 'no', 'dir.tif'), pages, 't4-2d'), {
      code: 'ERR_FAXLINE_TIFF',
    });
    expectThrow(() => addon.writeTiffF(txFile, 'pages', 't4-2d'), TypeError, 'pages not an array');
    expectThrow(() => addon.writeTiffF(txFile, [], 't4-2d'), RangeError, 'no pages');
    expectThrow(() => addon.writeTiffF(txFile, pages, 'jpeg'), RangeError, 'bad compression');
    expectThrow(
      () => addon.writeTiffF(txFile, [{ ...pages[0], data: new Uint8Array(7) }], 't4-2d'),
      RangeError,
      'short data',
    );
    expectThrow(() => addon.writeTiffF(txFile, [{ ...pages[0], width: -1 }], 't4-2d'), RangeError, 'width');
    expectThrow(() => addon.checkTiff(txFile, 0, 0), RangeError, 'firstPage 0');
    expectThrow(() => addon.checkTiffAsync(txFile, 0, 0), RangeError, 'async firstPage 0');
    expectThrow(() => addon.checkTiffAsync(7, 1, 0), TypeError, 'async path not a string');
    expectThrow(() => addon.readTiff(42), TypeError, 'path not a string');

    // ---- sessions: send and receive, driven a little, closed (twice) or left to teardown
    const frame = new Int16Array(C.SAMPLES_PER_FRAME);
    const out = new Int16Array(C.SAMPLES_PER_FRAME);
    const leftOpen = [];
    for (let i = 0; i < 20; ++i) {
      const send = new addon.FaxSession({
        direction: 'send',
        txFile,
        identity: '+1 555 0100',
        pagesChecked: i % 2 === 1,
      });
      const recv = new addon.FaxSession({
        direction: 'receive',
        callingParty: false,
        rxFile: path.join(dir, `rx-session-${i}.tif`),
      });
      // Wire them back to back for a few seconds of line time.
      const a = new Int16Array(C.SAMPLES_PER_FRAME);
      const b = new Int16Array(C.SAMPLES_PER_FRAME);
      for (let f = 0; f < 150; ++f) {
        send.transmit(a);
        recv.process(a, b);
        send.receive(b);
      }
      send.receiveMissing(C.SAMPLES_PER_FRAME);
      // The frame line: its buffers, its bound functions and their finalizers.
      const line = send.frameBuffers();
      line.process();
      line.processLost();
      send.takeEvents();
      recv.takeEvents();
      send.elapsedMs();
      if (i % 4 === 0) {
        leftOpen.push(send, recv); // closed by the cleanup hook at exit
        continue;
      }
      if (i % 2 === 0) {
        send.hangUp();
        send.hangUp();
        assert.equal(send.result().code, C.T30_ERR_CALLDROPPED);
      }
      send.close();
      send.close();
      recv.close();
      assert.throws(() => send.transmit(out), /closed/);
    }
    const failed = new addon.FaxSession({ direction: 'send', txFile: missing });
    assert.equal(failed.finished(), true);
    assert.equal(failed.result().code, C.T30_ERR_FILEERROR);
    failed.process(frame, out);
    failed.takeEvents();
    failed.close();

    // ---- argument errors
    expectThrow(() => new addon.FaxSession(), TypeError, 'no options');
    expectThrow(() => addon.FaxSession({ direction: 'send', txFile }), TypeError, 'without new');
    expectThrow(() => new addon.FaxSession({ direction: 'fly' }), RangeError, 'bad direction');
    expectThrow(
      () => new addon.FaxSession({ direction: 'send', txFile, identity: '1'.repeat(21) }),
      RangeError,
      '21-digit identity',
    );
    expectThrow(() => new addon.FaxSession({ direction: 'send', txFile, ecm: 'yes' }), TypeError, 'ecm');
    expectThrow(() => new addon.FaxSession({ direction: 'receive' }), RangeError, 'no rxFile');
    const probe = new addon.FaxSession({ direction: 'send', txFile });
    expectThrow(() => probe.process(new Int16Array(10), new Int16Array(11)), RangeError, 'lengths');
    expectThrow(() => probe.process([1, 2], out), TypeError, 'array not Int16Array');
    expectThrow(() => probe.transmit(new Int16Array(80001)), RangeError, 'too long');
    expectThrow(() => probe.receiveMissing(-1), RangeError, 'negative count');
    expectThrow(() => addon.FaxSession.prototype.process.call({}, frame, out), TypeError, 'forged this');
    probe.close();

    // ---- media: G.711 both ways, AWGN closed (twice), left open to teardown, and their errors
    const pcm = Int16Array.from({ length: 160 }, (_, i) => ((i * 409) % 65536) - 32768);
    const coded = new Uint8Array(160);
    const decoded = new Int16Array(160);
    for (const law of [0, 1]) {
      addon.g711Encode(law, pcm, coded);
      addon.g711Decode(law, coded, decoded);
    }
    assert.equal(decoded[0], -32256); // A-law's largest negative output
    expectThrow(() => addon.g711Encode(2, pcm, coded), RangeError, 'bad law');
    expectThrow(() => addon.g711Encode(0, coded, coded), TypeError, 'bytes for pcm');
    expectThrow(() => addon.g711Decode(1, coded, new Int16Array(159)), RangeError, 'lengths differ');
    const noise = new addon.NoiseGenerator(7, -20);
    noise.add(decoded);
    noise.close();
    noise.close();
    expectThrow(() => noise.add(decoded), Error, 'noise after close');
    expectThrow(() => new addon.NoiseGenerator(-1, 0), RangeError, 'negative seed');
    expectThrow(() => addon.NoiseGenerator(1, 0), TypeError, 'noise without new');
    expectThrow(() => addon.NoiseGenerator.prototype.add.call({}, decoded), TypeError, 'forged noise this');
    globalThis.keepNoise = new addon.NoiseGenerator(8, -30); // freed by the environment's teardown
    globalThis.keepNoise.add(decoded);

    // ---- whole calls: two sessions back to back through their frame buffers until both
    // finish (ECM on and off), one hung up mid-call, one whose document is refused
    const wholeCall = (sendOptions, rxFile, hangUpAtFrame = Infinity) => {
      const sender = new addon.FaxSession({ direction: 'send', txFile, ...sendOptions });
      const receiver = new addon.FaxSession({
        direction: 'receive',
        callingParty: false,
        rxFile,
        ecm: sendOptions.ecm,
      });
      const s = sender.frameBuffers();
      const r = receiver.frameBuffers();
      for (let f = 0; f < 30000 && !(sender.finished() && receiver.finished()); ++f) {
        if (f === hangUpAtFrame) {
          sender.hangUp();
          receiver.hangUp();
          break;
        }
        s.process();
        r.received.set(s.transmit);
        r.process();
        s.received.set(r.transmit);
        sender.takeEvents();
        receiver.takeEvents();
      }
      const results = { sender: sender.result(), receiver: receiver.result() };
      sender.close();
      receiver.close();
      return results;
    };
    for (const ecm of [true, false]) {
      const rxFile = path.join(dir, `rx-call-${ecm}.tif`);
      const result = wholeCall({ ecm }, rxFile);
      assert.equal(result.sender.code, C.T30_ERR_OK, result.sender.text);
      assert.equal(result.receiver.pages, 2);
      assert.equal(addon.readTiff(rxFile).length, 2);
    }
    const dropped = wholeCall({}, path.join(dir, 'rx-dropped.tif'), 500);
    assert.equal(dropped.sender.code, C.T30_ERR_CALLDROPPED);
    const refused = wholeCall({ firstPage: 3 }, path.join(dir, 'rx-refused.tif'), 0);
    assert.equal(refused.sender.code, C.T30_ERR_NOPAGE);
    assert.equal(refused.receiver.pages, 0);

    // ---- T.38: two T.38 sessions through their datagram buffers for a whole call, an audio
    // session switched to T.38, a gateway, the UDPTL codec; some closed, some left to teardown
    const MAXD = C.UDPTL_MAX_DATAGRAM;
    const carry = (from, ticked, to) => {
      for (let i = 0; i < (ticked & 0xffff); ++i) {
        to.inbound.set(from.outbox.subarray(i * MAXD, i * MAXD + from.lengths[i]));
        to.receive(from.lengths[i]);
      }
    };
    const t38Send = new addon.FaxSession({ direction: 'send', txFile, t38: { errorCorrection: 2 } });
    const t38Recv = new addon.FaxSession({
      direction: 'receive',
      callingParty: false,
      rxFile: path.join(dir, 'rx-t38.tif'),
      t38: {},
    });
    const ps = t38Send.datagramBuffers();
    const pr = t38Recv.datagramBuffers();
    for (let f = 0; f < 30000 && !(t38Send.finished() && t38Recv.finished()); ++f) {
      carry(ps, ps.tick(C.SAMPLES_PER_FRAME), pr);
      carry(pr, pr.tick(C.SAMPLES_PER_FRAME), ps);
      t38Send.takeEvents();
      t38Recv.takeEvents();
    }
    assert.equal(t38Recv.result().pages, 2, 'the T.38 call delivered both pages');
    assert.ok(t38Send.udptlStats().sent > 0);
    t38Send.close();
    t38Send.close();
    assert.throws(() => ps.tick(C.SAMPLES_PER_FRAME), /closed/);
    leftOpen.push(t38Recv);
    const switching = new addon.FaxSession({ direction: 'send', txFile });
    switching.process(frame, out);
    switching.switchToT38({ redundancy: 2 });
    assert.equal(switching.medium(), 't38');
    switching.datagramBuffers().tick(C.SAMPLES_PER_FRAME);
    expectThrow(() => switching.switchToT38({}), Error, 'second switch');
    expectThrow(() => switching.process(frame, out), Error, 'audio on T.38');
    switching.close();
    expectThrow(
      () => new addon.FaxSession({ direction: 'send', txFile, t38: { version: 9 } }),
      RangeError,
      't38.version',
    );
    const gateway = new addon.T38Gateway({ ecm: true });
    const leg = gateway.frameBuffers();
    const gport = gateway.datagramBuffers();
    for (let f = 0; f < 100; ++f) {
      leg.process();
      gport.take();
    }
    gport.inbound.set([0xff, 0x01]);
    gport.receive(2);
    assert.equal(gateway.udptlStats().malformed, 1);
    gateway.takeEvents();
    gateway.close();
    gateway.close();
    globalThis.keepGateway = new addon.T38Gateway({}); // freed by the environment's teardown
    const codec = new addon.Udptl({ errorCorrection: 1, redundancy: 3, fecSpan: 3, fecEntries: 3, maxDatagram: 400 });
    const peer = new addon.Udptl({ errorCorrection: 2, redundancy: 3, fecSpan: 3, fecEntries: 3, maxDatagram: 400 });
    for (let i = 0; i < 20; ++i) {
      const datagram = codec.encode(Uint8Array.of(0xc0, i, 0x80, 0x00));
      if (i % 3 !== 1) assert.ok(peer.decode(datagram).length >= 1);
    }
    peer.decode(Uint8Array.of(0xff));
    codec.close();
    globalThis.keepUdptl = peer;

    // ---- session groups: audio and T.38 sessions ticked together; a session closed inside its
    // group, a group closed with sessions in it, one left to teardown with its sessions
    for (let round = 0; round < 3; ++round) {
      const group = new addon.SessionGroup(8);
      const members = [
        new addon.FaxSession({ direction: 'send', txFile, pagesChecked: true }),
        new addon.FaxSession({ direction: 'receive', rxFile: path.join(dir, `rx-group-${round}.tif`) }),
        new addon.FaxSession({ direction: 'send', txFile, pagesChecked: true, t38: {} }),
        new addon.FaxSession({ direction: 'receive', rxFile: path.join(dir, `rx-group-t38-${round}.tif`), t38: {} }),
      ];
      const slots = members.map((m) => group.add(m));
      const b = group.buffers();
      for (let tick = 0; tick < 200; ++tick) {
        // Audio crosses between slots 0 and 1, datagrams between 2 and 3.
        b.received.copyWithin(slots[0] * 160, slots[1] * 160, slots[1] * 160 + 160);
        b.heard[slots[0]] = tick % 7 === 0 ? 0 : 1;
        let inbound = 0;
        for (let i = 0; i < b.counts[0]; ++i) {
          const to = b.outboxSlots[i] === slots[2] ? slots[3] : slots[2];
          b.inbound.set(
            b.outbox.subarray(i * b.datagramStride, i * b.datagramStride + b.outboxLengths[i]),
            inbound * b.datagramStride,
          );
          b.inboundSlots[inbound] = to;
          b.inboundLengths[inbound++] = b.outboxLengths[i];
        }
        const withEvents = group.tick(inbound);
        for (let i = 0; i < withEvents; ++i) members[slots.indexOf(b.eventSlots[i])].takeEvents();
      }
      members[1].close();
      group.tick(0);
      if (round === 2) {
        globalThis.keepGroup = [group, ...members]; // freed by the environment's teardown
      } else {
        group.close();
        group.close();
        for (const m of members) m.close();
      }
    }

    // ---- a worker_thread that exits with sessions still open
    await new Promise((resolve, reject) => {
      const worker = new Worker(
        `const { parentPort, workerData } = require('node:worker_threads');
         const addon = require('node-gyp-build')(workerData.root);
         globalThis.keep = new addon.FaxSession({ direction: 'send', txFile: workerData.txFile });
         globalThis.keepNoise = new addon.NoiseGenerator(1, -20);
         globalThis.keepT38 = new addon.FaxSession({ direction: 'send', txFile: workerData.txFile, t38: {} });
         globalThis.keepGateway = new addon.T38Gateway({});
         globalThis.keepUdptl = new addon.Udptl({});
         globalThis.keepReceiver = new addon.FaxSession({ direction: 'receive', rxFile: workerData.rxFile });
         globalThis.keepGroup = new addon.SessionGroup(4);
         globalThis.keepGroup.add(globalThis.keepReceiver);
         globalThis.keepGroup.tick(0);
         parentPort.postMessage('ready');`,
        { eval: true, workerData: { root, txFile, rxFile: path.join(dir, 'rx-worker.tif') } },
      );
      worker.once('message', () => worker.terminate());
      worker.once('error', reject);
      worker.once('exit', resolve);
    });

    assert.equal(leftOpen.length, 11);
    console.log(
      `addon-leaks: ok (${addon.completionCodes().length} completion codes, addon ${require('node-gyp-build').resolve(root)})`,
    );
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
