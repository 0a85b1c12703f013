import * as net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { InvalidOptionError } from '../../lib/base/errors';
import { SipTransportError } from '../../lib/sip/errors';
import {
  getHeader,
  getHeaders,
  makeResponse,
  parseMessage,
  serializeMessage,
  type SipMessage,
  type SipRequest,
} from '../../lib/sip/message';
import { responseAddress, SipTransport, type SipAddress } from '../../lib/sip/transport';
import { rawSocket, sendTo, until, useClosables } from '../helpers/udp';

const HOST = '127.0.0.1';
const track = useClosables();

interface Received {
  message: SipMessage;
  source: SipAddress;
}

/** A transport on 127.0.0.1 (UDP and TCP on any port) that records what it emits; closed after the test. */
async function open(publicAddress?: string): Promise<{ t: SipTransport; got: Received[] }> {
  const t = track(
    await SipTransport.open({ udp: { host: HOST, port: 0 }, tcp: { host: HOST, port: 0 }, publicAddress }),
  );
  const got: Received[] = [];
  t.on('message', (message: SipMessage, source: SipAddress) => got.push({ message, source }));
  return { t, got };
}

/** An OPTIONS request written by hand, with the given top Via. */
function options(via: string, extra: string[] = [], body = ''): Buffer {
  return Buffer.from(
    [
      'OPTIONS sip:node@127.0.0.1 SIP/2.0',
      `Via: ${via}`,
      'Max-Forwards: 70',
      'From: <sip:probe@example.test>;tag=f1',
      'To: <sip:node@127.0.0.1>',
      'Call-ID: opt-1@example.test',
      'CSeq: 10 OPTIONS',
      ...extra,
      '',
      body,
    ].join('\r\n'),
  );
}

/** A raw TCP client on 127.0.0.1 that keeps what it receives and whether it was closed. */
async function rawTcp(port: number): Promise<{ socket: net.Socket; data: () => string; closed: () => boolean }> {
  const socket = net.connect({ host: HOST, port });
  track({ close: () => socket.destroy() });
  const chunks: Buffer[] = [];
  let closed = false;
  socket.on('data', (c) => chunks.push(c));
  socket.on('close', () => (closed = true));
  socket.on('error', () => undefined);
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  return { socket, data: () => Buffer.concat(chunks).toString(), closed: () => closed };
}

describe('responseAddress (§18.2.2, RFC 3581)', () => {
  const req = (via: string) => parseMessage(options(via)) as SipRequest;
  const udp: SipAddress = { transport: 'udp', host: '203.0.113.9', port: 40000 };

  test('UDP: received and rport of the top Via', () => {
    expect(
      responseAddress(req('SIP/2.0/UDP 10.0.0.2:5070;branch=z9hG4bK1;received=203.0.113.9;rport=40000'), udp),
    ).toEqual({ transport: 'udp', host: '203.0.113.9', port: 40000 });
  });

  test('UDP: without rport, received and the sent-by port; without either, sent-by and 5060', () => {
    expect(responseAddress(req('SIP/2.0/UDP 10.0.0.2:5070;branch=z9hG4bK1;received=203.0.113.9'), udp)).toEqual({
      transport: 'udp',
      host: '203.0.113.9',
      port: 5070,
    });
    expect(responseAddress(req('SIP/2.0/UDP pbx.example;branch=z9hG4bK1'), udp)).toEqual({
      transport: 'udp',
      host: 'pbx.example',
      port: 5060,
    });
  });

  test('TCP: back to the connection the request came on', () => {
    const tcp: SipAddress = { transport: 'tcp', host: '203.0.113.9', port: 51000 };
    expect(responseAddress(req('SIP/2.0/TCP 10.0.0.2:5070;branch=z9hG4bK1'), tcp)).toEqual(tcp);
  });
});

describe('SipTransport: opening', () => {
  test('local() reports the bound ports, with publicAddress as the host when given', async () => {
    const { t } = await open('198.51.100.20');
    const udp = t.local('udp');
    expect(udp.transport).toBe('udp');
    expect(udp.host).toBe('198.51.100.20');
    expect(udp.port).toBeGreaterThan(0);
    expect(t.local('tcp').port).toBeGreaterThan(0);
  });

  test('bad options throw InvalidOptionError; a taken port rejects with SipTransportError', async () => {
    await expect(SipTransport.open({})).rejects.toThrow(InvalidOptionError);
    await expect(SipTransport.open({ udp: { host: HOST, port: 70000 } })).rejects.toThrow(
      'Expected an integer from 0 to 65535 for options.udp.port but got 70000',
    );
    const { t } = await open();
    await expect(SipTransport.open({ tcp: { host: HOST, port: t.local('tcp').port } })).rejects.toThrow(
      SipTransportError,
    );
  });
});

describe('SipTransport over UDP', () => {
  test('a request gets received and rport=<source port> on its top Via (RFC 3581), and the 200 goes back there', async () => {
    const { t, got } = await open();
    const client = await rawSocket(track);
    await sendTo(client.socket, options('SIP/2.0/UDP 192.0.2.99:5099;branch=z9hG4bKu1;rport'), t.local('udp'));
    await until(() => got.length === 1, 'the OPTIONS');
    const { message, source } = got[0];
    expect(source).toEqual({ transport: 'udp', host: HOST, port: client.address.port });
    expect(getHeader(message, 'Via')).toBe(
      `SIP/2.0/UDP 192.0.2.99:5099;branch=z9hG4bKu1;rport=${client.address.port};received=127.0.0.1`,
    );
    await t.send(
      makeResponse(message as SipRequest, 200, undefined, 'tt'),
      responseAddress(message as SipRequest, source),
    );
    await until(() => client.received.length === 1, 'the 200');
    expect(client.received[0].toString()).toBe(
      [
        'SIP/2.0 200 OK',
        `Via: SIP/2.0/UDP 192.0.2.99:5099;branch=z9hG4bKu1;rport=${client.address.port};received=127.0.0.1`,
        'From: <sip:probe@example.test>;tag=f1',
        'To: <sip:node@127.0.0.1>;tag=tt',
        'Call-ID: opt-1@example.test',
        'CSeq: 10 OPTIONS',
        'Content-Length: 0',
        '',
        '',
      ].join('\r\n'),
    );
    expect(t.stats()).toEqual({
      received: 1,
      sent: 1,
      malformed: 0,
      answered400: 0,
      dropped: 0,
      tcpConnections: 0,
      listenerErrors: 0,
    });
  });

  test('without rport, received is set only when the source differs from sent-by', async () => {
    const { t, got } = await open();
    const client = await rawSocket(track);
    await sendTo(
      client.socket,
      options(`SIP/2.0/UDP 127.0.0.1:${client.address.port};branch=z9hG4bKu2`),
      t.local('udp'),
    );
    await sendTo(client.socket, options('SIP/2.0/UDP 192.0.2.99;branch=z9hG4bKu3'), t.local('udp'));
    await until(() => got.length === 2, 'two requests');
    expect(got.map((g) => getHeader(g.message, 'Via'))).toEqual([
      `SIP/2.0/UDP 127.0.0.1:${client.address.port};branch=z9hG4bKu2`,
      'SIP/2.0/UDP 192.0.2.99;branch=z9hG4bKu3;received=127.0.0.1',
    ]);
  });

  test('two transports talk both ways; a response whose top Via is not ours is dropped and counted', async () => {
    const a = await open();
    const b = await open();
    const aPort = a.t.local('udp').port;
    const request = parseMessage(options(`SIP/2.0/UDP 127.0.0.1:${aPort};branch=z9hG4bKab;rport`)) as SipRequest;
    await a.t.send(request, b.t.local('udp'));
    await until(() => b.got.length === 1, 'the request at b');
    const inbound = b.got[0];
    await b.t.send(
      makeResponse(inbound.message as SipRequest, 200),
      responseAddress(inbound.message as SipRequest, inbound.source),
    );
    await until(() => a.got.length === 1, 'the response at a');
    const response = a.got[0].message;
    expect(response.type === 'response' && response.status).toBe(200);
    expect(getHeader(response, 'Via')).toBe(
      `SIP/2.0/UDP 127.0.0.1:${aPort};branch=z9hG4bKab;rport=${aPort};received=127.0.0.1`,
    );

    // The same response, its Via naming another port on this host (a proxy beside us), is not ours.
    const stray = makeResponse(parseMessage(options('SIP/2.0/UDP 127.0.0.1:5999;branch=z9hG4bKx')) as SipRequest, 200);
    await b.t.send(stray, a.t.local('udp'));
    await until(() => a.t.stats().dropped === 1, 'the stray response dropped');
    expect(a.got.length).toBe(1);
    expect(a.t.stats().received).toBe(1);
  });

  test('a request with a bad Content-Length is answered 400 Bad Content-Length at its rport', async () => {
    const { t, got } = await open();
    const client = await rawSocket(track);
    await sendTo(
      client.socket,
      options('SIP/2.0/UDP 192.0.2.99:5099;branch=z9hG4bKbad;rport', ['Content-Length: 50'], 'short'),
      t.local('udp'),
    );
    await until(() => client.received.length === 1, 'the 400');
    const reply = parseMessage(client.received[0]);
    expect(reply.type === 'response' && [reply.status, reply.reason]).toEqual([400, 'Bad Content-Length']);
    expect(getHeaders(reply, 'Via')).toEqual([
      `SIP/2.0/UDP 192.0.2.99:5099;branch=z9hG4bKbad;rport=${client.address.port};received=127.0.0.1`,
    ]);
    expect(getHeader(reply, 'CSeq')).toBe('10 OPTIONS');
    expect(getHeader(reply, 'Call-ID')).toBe('opt-1@example.test');
    expect(getHeader(reply, 'To')).toMatch(/^<sip:node@127\.0\.0\.1>;tag=[0-9a-f]{16}$/);
    expect(got).toEqual([]);
    expect(t.stats()).toMatchObject({ received: 0, sent: 1, malformed: 1, answered400: 1, dropped: 0 });
  });

  test('garbage, a truncated request without Via, and a malformed ACK are dropped and counted; keep-alives ignored', async () => {
    const { t, got } = await open();
    const client = await rawSocket(track);
    await sendTo(client.socket, Buffer.from([0x00, 0xff, 0x13, 0x37, 0x0d, 0x0a]), t.local('udp'));
    await sendTo(client.socket, Buffer.from('INVITE sip:x@y SIP/2.0\r\nTo: <sip:x@y>\r\nCSeq: 1 INV'), t.local('udp'));
    const ack = options('SIP/2.0/UDP 192.0.2.99;branch=z9hG4bKack', ['Content-Length: 9']).toString();
    await sendTo(client.socket, Buffer.from(ack.replace(/OPTIONS/g, 'ACK')), t.local('udp'));
    await sendTo(client.socket, Buffer.from('\r\n\r\n'), t.local('udp'));
    await until(() => t.stats().dropped === 3, 'three drops');
    // A well-formed request after them still gets through: the socket handler survived.
    await sendTo(client.socket, options('SIP/2.0/UDP 192.0.2.99;branch=z9hG4bKok'), t.local('udp'));
    await until(() => got.length === 1, 'the good request');
    expect(t.stats()).toMatchObject({ received: 1, malformed: 3, answered400: 0, dropped: 3 });
    expect(client.received).toEqual([]);
  });

  test('a listener that throws is caught and counted', async () => {
    const { t } = await open();
    t.on('message', () => {
      throw new Error('listener bug');
    });
    const client = await rawSocket(track);
    await sendTo(client.socket, options('SIP/2.0/UDP 192.0.2.99;branch=z9hG4bKl'), t.local('udp'));
    await until(() => t.stats().listenerErrors === 1, 'the listener error');
  });
});

describe('SipTransport over TCP', () => {
  const framed = (branch: string, cseq: number) =>
    Buffer.from(
      options(`SIP/2.0/TCP 192.0.2.99:5099;branch=${branch}`, ['Content-Length: 0'])
        .toString()
        .replace('CSeq: 10', `CSeq: ${cseq}`),
    );

  test('a request split across chunks, then two in one chunk; the response goes back on the same connection', async () => {
    const { t, got } = await open();
    const client = await rawTcp(t.local('tcp').port);
    const first = framed('z9hG4bKt1', 1);
    for (const [from, to] of [
      [0, 7],
      [7, 60],
      [60, first.length - 1],
      [first.length - 1, first.length],
    ]) {
      client.socket.write(first.subarray(from, to));
      await sleep(10);
    }
    await until(() => got.length === 1, 'the split request');
    client.socket.write(Buffer.concat([framed('z9hG4bKt2', 2), framed('z9hG4bKt3', 3)]));
    await until(() => got.length === 3, 'two requests in one chunk');
    expect(got.map((g) => getHeader(g.message, 'CSeq'))).toEqual(['1 OPTIONS', '2 OPTIONS', '3 OPTIONS']);
    const source = got[0].source;
    expect(source.transport).toBe('tcp');
    expect(source.host).toBe(HOST);
    expect(source.port).toBe(client.socket.localPort);
    expect(getHeader(got[0].message, 'Via')).toBe('SIP/2.0/TCP 192.0.2.99:5099;branch=z9hG4bKt1;received=127.0.0.1');

    const request = got[2].message as SipRequest;
    await t.send(makeResponse(request, 200, undefined, 'x'), responseAddress(request, got[2].source));
    await until(() => client.data().endsWith('\r\n\r\n'), 'the 200 on the connection');
    expect(client.data()).toBe(serializeMessage(makeResponse(request, 200, undefined, 'x')).toString());
    expect(t.stats()).toMatchObject({ received: 3, sent: 1, tcpConnections: 1 });
  });

  test('two transports: a request over a new connection, the response back over it', async () => {
    const a = await open();
    const b = await open();
    const request = parseMessage(framed('z9hG4bKtt', 5)) as SipRequest;
    await a.t.send(
      {
        ...request,
        headers: request.headers.map((h) =>
          h.name === 'Via'
            ? { name: 'Via', value: `SIP/2.0/TCP 127.0.0.1:${a.t.local('tcp').port};branch=z9hG4bKtt` }
            : h,
        ),
      },
      b.t.local('tcp'),
    );
    await until(() => b.got.length === 1, 'the request at b');
    const inbound = b.got[0];
    await b.t.send(
      makeResponse(inbound.message as SipRequest, 202),
      responseAddress(inbound.message as SipRequest, inbound.source),
    );
    await until(() => a.got.length === 1, 'the response at a');
    expect(a.got[0].message.type === 'response' && a.got[0].message.status).toBe(202);
    expect(a.got[0].source).toEqual(b.t.local('tcp'));
    expect(a.t.stats().tcpConnections).toBe(1);
    expect(b.t.stats().tcpConnections).toBe(1);
  });

  test('a stream without Content-Length is answered 400 Bad Content-Length and closed', async () => {
    const { t, got } = await open();
    const client = await rawTcp(t.local('tcp').port);
    client.socket.write(options('SIP/2.0/TCP 192.0.2.99:5099;branch=z9hG4bKnl'));
    await until(() => client.closed(), 'the connection closed');
    const reply = parseMessage(Buffer.from(client.data()));
    expect(reply.type === 'response' && [reply.status, reply.reason]).toEqual([400, 'Bad Content-Length']);
    expect(got).toEqual([]);
    await until(() => t.stats().tcpConnections === 0, 'the connection forgotten');
    expect(t.stats()).toMatchObject({ malformed: 1, answered400: 1 });
  });

  test('garbage on a stream closes it, dropped and counted', async () => {
    const { t } = await open();
    const client = await rawTcp(t.local('tcp').port);
    client.socket.write(Buffer.from('\x16\x03\x01 not sip at all\r\n\r\n'));
    await until(() => client.closed(), 'the connection closed');
    expect(client.data()).toBe('');
    expect(t.stats()).toMatchObject({ malformed: 1, dropped: 1, answered400: 0 });
  });

  test('connecting to a closed port rejects with SipTransportError', async () => {
    const { t } = await open();
    const spare = net.createServer();
    await new Promise<void>((resolve) => spare.listen(0, HOST, resolve));
    const port = (spare.address() as net.AddressInfo).port;
    await new Promise<void>((resolve) => spare.close(() => resolve()));
    const request = parseMessage(framed('z9hG4bKrf', 1)) as SipRequest;
    await expect(t.send(request, { transport: 'tcp', host: HOST, port })).rejects.toThrow(SipTransportError);
    expect(t.stats().sent).toBe(0);
  });

  test('send after close rejects', async () => {
    const { t } = await open();
    await t.close();
    await expect(
      t.send(parseMessage(framed('z9hG4bKc', 1)), { transport: 'udp', host: HOST, port: 9 }),
    ).rejects.toThrow('The SIP transport is closed');
  });
});
