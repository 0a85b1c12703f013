import * as net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  AudioSocketError,
  AudioSocketLine,
  AudioSocketServer,
  connectAudioSocket,
  type AudioSocketRejection,
  type AudioSocketServerOptions,
} from '../../lib/transports/audiosocket';
import { InvalidOptionError } from '../../lib/base/errors';

const HOST = '127.0.0.1';
const UUID = '40325ec2-5efd-4bd3-805f-53576e581d13';
// The UUID message, by hand: kind 01, length 16 = 00 10, then the UUID's hex digits in order.
const UUID_MESSAGE = hex('01 0010 40325ec25efd4bd3805f53576e581d13');

function hex(text: string): Buffer {
  return Buffer.from(text.replace(/\s+/g, ''), 'hex');
}

/** Polls until `done()` holds; every wait is bounded. */
async function waitFor(done: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > until) throw new Error(`Timed out waiting for ${what}`);
    await sleep(5);
  }
}

/** A 160-sample frame whose every sample says which frame and which sample it is. */
function taggedFrame(n: number): Int16Array {
  const frame = new Int16Array(160);
  for (let i = 0; i < 160; i++) frame[i] = n * 200 - 16000 + i;
  return frame;
}

/** Bytes of `samples` as s16le, written out with writeInt16LE (the test's own encoder). */
function s16le(samples: number[]): Buffer {
  const out = Buffer.alloc(samples.length * 2);
  samples.forEach((s, i) => out.writeInt16LE(s, 2 * i));
  return out;
}

/** An audio message of 8 kHz samples: 10, length big-endian, s16le payload. */
function audioMessage(samples: number[]): Buffer {
  const payload = s16le(samples);
  const header = Buffer.from([0x10, payload.length >> 8, payload.length & 0xff]);
  return Buffer.concat([header, payload]);
}

const cleanups: (() => Promise<unknown> | void)[] = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

async function startServer(
  options: AudioSocketServerOptions = {},
): Promise<{ server: AudioSocketServer; port: number; calls: AudioSocketLine[]; rejections: AudioSocketRejection[] }> {
  const server = new AudioSocketServer(options);
  const calls: AudioSocketLine[] = [];
  const rejections: AudioSocketRejection[] = [];
  server.on('call', (line: AudioSocketLine) => calls.push(line));
  server.on('rejected', (rejection: AudioSocketRejection) => rejections.push(rejection));
  const { port } = await server.listen({ host: HOST, port: 0 });
  cleanups.push(() => server.close());
  return { server, port, calls, rejections };
}

/** A raw TCP peer that speaks hand-built bytes and records every byte it receives. */
async function rawPeer(port: number): Promise<{ socket: net.Socket; received: () => Buffer; closed: () => boolean }> {
  const socket = net.connect({ host: HOST, port });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  const chunks: Buffer[] = [];
  let closed = false;
  socket.on('data', (chunk: Buffer) => chunks.push(chunk));
  socket.on('error', () => undefined);
  socket.on('close', () => (closed = true));
  cleanups.push(() => void socket.destroy());
  return { socket, received: () => Buffer.concat(chunks), closed: () => closed };
}

/** Writes and lets the event loop turn, so the pieces tend to arrive as separate TCP reads. */
async function writeApart(socket: net.Socket, pieces: Buffer[]): Promise<void> {
  for (const piece of pieces) {
    await new Promise<void>((resolve, reject) => socket.write(piece, (error) => (error ? reject(error) : resolve())));
    await sleep(10);
  }
}

describe('a client and a server carry frames both ways', () => {
  it('delivers the same samples in the same order, and the UUID', async () => {
    const { server, port, calls } = await startServer();
    const client = await connectAudioSocket({ host: HOST, port, uuid: UUID });
    cleanups.push(() => client.close());
    await waitFor(() => calls.length === 1, 'the call');
    const call = calls[0];
    expect(call.uuid).toBe(UUID);
    expect(client.uuid).toBe(UUID);
    await expect(call.ready()).resolves.toBeUndefined();

    for (let n = 0; n < 5; n++) client.write(taggedFrame(n));
    await waitFor(() => call.stats().framesReceived === 5, 'five frames at the server');
    const heard = new Int16Array(160);
    for (let n = 0; n < 5; n++) {
      expect(call.read(heard)).toBe(true);
      expect(heard).toEqual(taggedFrame(n));
    }
    expect(call.read(heard)).toBe(false);

    for (let n = 10; n < 13; n++) call.write(taggedFrame(n));
    await waitFor(() => client.stats().framesReceived === 3, 'three frames at the client');
    for (let n = 10; n < 13; n++) {
      expect(client.read(heard)).toBe(true);
      expect(heard).toEqual(taggedFrame(n));
    }

    expect(client.stats()).toMatchObject({ kind: 'audiosocket', uuid: UUID, framesSent: 5, framesReceived: 3 });
    expect(call.stats()).toMatchObject({
      kind: 'audiosocket',
      uuid: UUID,
      framesSent: 3,
      framesReceived: 5,
      late: 0,
      missing: 1,
      stalledSent: 0,
      malformed: 0,
      dtmf: 0,
    });
    expect(server.stats()).toEqual({ accepted: 1, rejected: 0, open: 1 });

    await client.close();
    await waitFor(() => call.ended !== null, 'the server line to end');
    expect(call.ended).toEqual({ reason: 'hangup', detail: 'the AudioSocket peer hung up' });
    expect(client.ended).toBeNull(); // closing is our own act, not the line ending on its side
  });

  it('sends a random UUID when none is given', async () => {
    const { port, calls } = await startServer();
    const client = await connectAudioSocket({ host: HOST, port });
    cleanups.push(() => client.close());
    await waitFor(() => calls.length === 1, 'the call');
    expect(client.uuid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(calls[0].uuid).toBe(client.uuid);
  });
});

describe('the server line parses a raw peer speaking the protocol byte by byte', () => {
  it('reads UUID, audio split at awkward places, DTMF, an unknown kind, then ends on hangup', async () => {
    const digits: string[] = [];
    const { port, calls } = await startServer({ onDtmf: (d) => digits.push(d) });
    const peer = await rawPeer(port);

    // 320 samples, k*100 - 16000, sent as one message of 240 samples and one of 80:
    // 240 samples = 480 bytes = 0x01e0 → header 10 01 e0; 80 samples = 160 bytes = 0x00a0 → 10 00 a0.
    const samples = Array.from({ length: 320 }, (_, k) => k * 100 - 16000);
    const first = audioMessage(samples.slice(0, 240));
    const second = audioMessage(samples.slice(240));
    expect(first.subarray(0, 3)).toEqual(hex('10 01e0'));
    expect(second.subarray(0, 3)).toEqual(hex('10 00a0'));
    const stream = Buffer.concat([
      UUID_MESSAGE,
      first,
      second,
      hex('03 0001 37'), // DTMF '7' (ASCII 0x37)
      hex('20 0002 abcd'), // kind 0x20 is not in the protocol: skipped by its length
      hex('00 0000'), // hangup
    ]);
    // Cuts inside the UUID's header, inside its payload, inside the first audio header, in the
    // middle of a sample (odd offset), across the two audio messages, and inside the DTMF header.
    const cuts = [1, 9, 20, 21, 101, 19 + 483 + 2, 19 + 483 + 163 + 2, stream.length];
    const pieces: Buffer[] = [];
    cuts.reduce((from, to) => (pieces.push(stream.subarray(from, to)), to), 0);
    await writeApart(peer.socket, pieces);

    await waitFor(() => calls.length === 1 && calls[0].ended !== null, 'the line to end');
    const call = calls[0];
    expect(call.uuid).toBe(UUID);
    expect(call.ended).toEqual({ reason: 'hangup', detail: 'the AudioSocket peer hung up' });
    expect(digits).toEqual(['7']);
    const heard = new Int16Array(160);
    expect(call.read(heard)).toBe(true);
    expect(Array.from(heard)).toEqual(samples.slice(0, 160));
    expect(call.read(heard)).toBe(true);
    expect(Array.from(heard)).toEqual(samples.slice(160));
    expect(call.read(heard)).toBe(false);
    expect(call.stats()).toMatchObject({ framesReceived: 2, dtmf: 1, malformed: 1, missing: 1, late: 0 });

    // Our hangup goes out as 00 00 00, then the socket closes.
    await call.close();
    await waitFor(() => peer.closed(), 'the peer to see the close');
    expect(peer.received()).toEqual(hex('00 0000'));
  });

  it('sends each frame as one 323-byte audio message, s16le', async () => {
    const { port, calls } = await startServer();
    const peer = await rawPeer(port);
    peer.socket.write(UUID_MESSAGE);
    await waitFor(() => calls.length === 1, 'the call');
    const frame = new Int16Array(160);
    frame[0] = 0x0102; // → 02 01
    frame[1] = -2; // 0xfffe → fe ff
    frame[159] = -32768; // 0x8000 → 00 80
    calls[0].write(frame);
    await waitFor(() => peer.received().length >= 323, 'the audio message');
    const bytes = peer.received();
    expect(bytes.length).toBe(323);
    // Header: kind 10, length 320 = 0x0140.
    expect(bytes.subarray(0, 7)).toEqual(hex('10 0140 0201 feff'));
    expect(bytes.subarray(7, 321).every((b) => b === 0)).toBe(true);
    expect(bytes.subarray(321)).toEqual(hex('0080'));
  });

  it('ends with an error naming the code when the peer sends an error message', async () => {
    const { port, calls } = await startServer();
    const peer = await rawPeer(port);
    await writeApart(peer.socket, [UUID_MESSAGE, hex('ff 0001 02')]);
    await waitFor(() => calls.length === 1 && calls[0].ended !== null, 'the line to end');
    expect(calls[0].ended).toEqual({ reason: 'error', detail: 'AudioSocket error 0x02 (frame forwarding error)' });
  });

  it('ends with silence when the peer stops sending audio', async () => {
    const { port, calls } = await startServer({ silenceTimeoutMs: 150 });
    const peer = await rawPeer(port);
    await writeApart(peer.socket, [UUID_MESSAGE, audioMessage(new Array(160).fill(7))]);
    await waitFor(() => calls.length === 1 && calls[0].ended !== null, 'the silence timeout', 5000);
    expect(calls[0].ended?.reason).toBe('silence');
    expect(calls[0].ended?.detail).toMatch(/^no AudioSocket audio from 127\.0\.0\.1:\d+ for 0\.15 s$/);
    expect(peer.closed()).toBe(false); // the line reports; the driver decides to hang up
  });

  it('drops the oldest frames past maxQueuedFrames and counts them late', async () => {
    const { port, calls } = await startServer({ maxQueuedFrames: 4 });
    const peer = await rawPeer(port);
    const frames = Array.from({ length: 10 }, (_, n) => audioMessage(Array.from(taggedFrame(n))));
    await writeApart(peer.socket, [UUID_MESSAGE, Buffer.concat(frames)]);
    await waitFor(() => calls.length === 1 && calls[0].stats().framesReceived === 10, 'ten frames');
    const call = calls[0];
    expect(call.stats()).toMatchObject({ framesReceived: 10, late: 6 });
    const heard = new Int16Array(160);
    for (let n = 6; n < 10; n++) {
      expect(call.read(heard)).toBe(true);
      expect(heard).toEqual(taggedFrame(n));
    }
    expect(call.read(heard)).toBe(false);
    expect(call.stats()).toMatchObject({ missing: 1 });
  });
});

describe('the server refuses connections that do not open with a UUID', () => {
  it('closes a connection that sends audio first', async () => {
    const { server, port, calls, rejections } = await startServer();
    const peer = await rawPeer(port);
    peer.socket.write(audioMessage([1, 2]));
    await waitFor(() => peer.closed(), 'the server to close the connection');
    expect(calls).toEqual([]);
    expect(rejections).toHaveLength(1);
    expect(rejections[0].reason).toMatch(/sent message kind 0x10 before its UUID/);
    expect(peer.received()).toEqual(hex('00 0000'));
    // The server's side of the socket closes on its own schedule, just after the peer's.
    await waitFor(() => server.stats().open === 0, 'the server to forget the connection');
    expect(server.stats()).toEqual({ accepted: 0, rejected: 1, open: 0 });
  });

  it('closes a connection whose first message is malformed', async () => {
    const { port, rejections } = await startServer();
    const peer = await rawPeer(port);
    peer.socket.write(hex('01 0004 01020304')); // a UUID of 4 bytes
    await waitFor(() => peer.closed(), 'the server to close the connection');
    expect(rejections[0].reason).toMatch(/malformed message first: a UUID message carries 4 bytes/);
  });

  it('closes a connection that sends no UUID in time', async () => {
    const { port, rejections } = await startServer({ uuidTimeoutMs: 100 });
    const peer = await rawPeer(port);
    await waitFor(() => peer.closed(), 'the server to close the connection');
    expect(rejections[0].reason).toMatch(/sent no UUID within 100 ms/);
  });

  it('hangs up open calls when the server closes', async () => {
    const { server, port, calls } = await startServer();
    const client = await connectAudioSocket({ host: HOST, port, uuid: UUID });
    cleanups.push(() => client.close());
    await waitFor(() => calls.length === 1, 'the call');
    await server.close();
    await waitFor(() => client.ended !== null, 'the client line to end');
    expect(client.ended?.reason).toBe('hangup');
    expect(server.address).toBeNull();
  });
});

describe('sending into a peer that does not read', () => {
  it('drops frames and counts them once the socket backlog passes the bound', async () => {
    const sockets: net.Socket[] = [];
    const sink = net.createServer((socket) => {
      socket.pause(); // never read: the kernel buffers fill, then Node's
      sockets.push(socket);
    });
    await new Promise<void>((resolve) => sink.listen(0, HOST, resolve));
    cleanups.push(
      () =>
        new Promise<void>((resolve) => {
          sockets.forEach((s) => s.destroy());
          sink.close(() => resolve());
        }),
    );
    const port = (sink.address() as net.AddressInfo).port;
    const backlog = 10 * 323;
    const client = await connectAudioSocket({ host: HOST, port, maxSendBacklogBytes: backlog });
    cleanups.push(() => client.close());
    const frame = taggedFrame(1);
    // Bounded: 200 000 frames is 64 MB, far past any loopback socket buffer.
    for (let i = 0; i < 200_000 && client.stats().stalledSent === 0; i++) {
      client.write(frame);
      if (i % 1000 === 999) await sleep(1); // let the socket flush into the kernel as it would live
    }
    const stats = client.stats();
    expect(stats.stalledSent).toBeGreaterThan(0);
    for (let i = 0; i < 100; i++) client.write(frame);
    expect(client.stats().stalledSent).toBe((stats.stalledSent as number) + 100);
    expect(client.stats().framesSent).toBe(stats.framesSent);
  });
});

describe('options and failures are reported as errors', () => {
  it('refuses bad options', async () => {
    expect(() => new AudioSocketServer({ maxQueuedFrames: 0 })).toThrow(InvalidOptionError);
    expect(() => new AudioSocketServer({ silenceTimeoutMs: -1 })).toThrow(InvalidOptionError);
    await expect(connectAudioSocket({ host: HOST, port: 1, uuid: 'not-a-uuid' })).rejects.toThrow(InvalidOptionError);
    await expect(connectAudioSocket({ host: HOST, port: 0 })).rejects.toThrow(InvalidOptionError);
  });

  it('rejects with AudioSocketError when nobody listens', async () => {
    const probe = net.createServer();
    await new Promise<void>((resolve) => probe.listen(0, HOST, resolve));
    const port = (probe.address() as net.AddressInfo).port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const attempt = connectAudioSocket({ host: HOST, port, timeoutMs: 2000 });
    await expect(attempt).rejects.toThrow(AudioSocketError);
    await expect(attempt).rejects.toMatchObject({ code: 'ERR_FAXLINE_AUDIOSOCKET' });
  });
});
