import { EventEmitter } from 'node:events';
import { CapacityError, SessionClosedError } from '../../lib/base/errors';
import { SipTimeoutError } from '../../lib/sip/errors';
import {
  getHeader,
  getHeaders,
  makeResponse,
  parseMessage,
  parseNameAddr,
  parseVia,
  serializeMessage,
  type SipMessage,
  type SipRequest,
  type SipResponse,
} from '../../lib/sip/message';
import {
  TransactionLayer,
  type Clock,
  type ClientTransactionHandler,
  type ServerTransaction,
} from '../../lib/sip/transaction';
import { SipTransport, type SipAddress, type SipTransportKind } from '../../lib/sip/transport';

/** A clock whose time moves only when the test says; counts the timers still pending. */
class FakeClock implements Clock {
  private time = 0;
  private seq = 0;
  private readonly pending = new Map<number, { at: number; fn: () => void }>();
  now(): number {
    return this.time;
  }
  setTimeout(fn: () => void, ms: number): unknown {
    const id = ++this.seq;
    this.pending.set(id, { at: this.time + ms, fn });
    return id;
  }
  clearTimeout(handle: unknown): void {
    this.pending.delete(handle as number);
  }
  /** Timers set and neither fired nor cleared. */
  get live(): number {
    return this.pending.size;
  }
  /** Runs every timer due within `ms`, in time order (ties in the order they were set). */
  advance(ms: number): void {
    const end = this.time + ms;
    for (;;) {
      let next: [number, { at: number; fn: () => void }] | undefined;
      for (const entry of this.pending) {
        if (entry[1].at <= end && (next === undefined || entry[1].at < next[1].at)) next = entry;
      }
      if (next === undefined) break;
      this.pending.delete(next[0]);
      this.time = next[1].at;
      next[1].fn();
    }
    this.time = end;
  }
}

/** What the in-memory transport was asked to send: the bytes, re-parsed, where and when. */
interface Sent {
  text: string;
  message: SipMessage;
  to: SipAddress;
  at: number;
}

/** A transport in memory: records what is sent (through the real serializer), lets the test inject input. */
class MemoryTransport extends EventEmitter {
  readonly sent: Sent[] = [];
  failNext: Error | null = null;
  constructor(private readonly clock: FakeClock) {
    super();
  }
  local(kind: SipTransportKind): SipAddress {
    return { transport: kind, host: '127.0.0.1', port: 5070 };
  }
  send(message: SipMessage, to: SipAddress): Promise<void> {
    if (this.failNext) {
      const error = this.failNext;
      this.failNext = null;
      return Promise.reject(error);
    }
    const bytes = serializeMessage(message);
    this.sent.push({ text: bytes.toString('latin1'), message: parseMessage(bytes), to, at: this.clock.now() });
    return Promise.resolve();
  }
  inject(message: SipMessage | string, source: SipAddress = PEER): void {
    const m = typeof message === 'string' ? parseMessage(Buffer.from(message.split('\n').join('\r\n'))) : message;
    this.emit('message', m, source);
  }
  /** The times at which messages matching `pred` were sent. */
  times(pred: (m: SipMessage) => boolean): number[] {
    return this.sent.filter((s) => pred(s.message)).map((s) => s.at);
  }
}

const PEER: SipAddress = { transport: 'udp', host: '127.0.0.1', port: 5080 };
const PEER_TCP: SipAddress = { transport: 'tcp', host: '127.0.0.1', port: 5080 };

const isRequest = (method: string) => (m: SipMessage) => m.type === 'request' && m.method === method;
const isStatus = (status: number) => (m: SipMessage) => m.type === 'response' && m.status === status;

/** A request as the UA core hands it to the layer: no Via yet. */
function outgoing(method: string, seq = 1): SipRequest {
  return {
    type: 'request',
    method,
    uri: 'sip:bob@127.0.0.1:5080',
    headers: [
      { name: 'Max-Forwards', value: '70' },
      { name: 'Route', value: '<sip:proxy.example;lr>' },
      { name: 'From', value: '<sip:alice@127.0.0.1>;tag=a1' },
      { name: 'To', value: '<sip:bob@127.0.0.1>' },
      { name: 'Call-ID', value: 'c1@127.0.0.1' },
      { name: 'CSeq', value: `${seq} ${method}` },
      { name: 'Contact', value: '<sip:alice@127.0.0.1:5070>' },
    ],
    body: Buffer.alloc(0),
  };
}

/** The far end's response to `request` (Via, From, To + tag, Call-ID, CSeq copied as §8.2.6 says). */
function reply(request: SipRequest, status: number, reason: string, toTag?: string, cseq?: string): SipResponse {
  const to = getHeader(request, 'To') as string;
  const lines = [
    `SIP/2.0 ${status} ${reason}`,
    ...getHeaders(request, 'Via').map((v) => `Via: ${v}`),
    `From: ${getHeader(request, 'From')}`,
    `To: ${toTag ? `${to};tag=${toTag}` : to}`,
    `Call-ID: ${getHeader(request, 'Call-ID')}`,
    `CSeq: ${cseq ?? getHeader(request, 'CSeq')}`,
    'Content-Length: 0',
    '',
    '',
  ];
  return parseMessage(Buffer.from(lines.join('\r\n'))) as SipResponse;
}

/** A request from the far end (PEER), as text. */
function incoming(method: string, opts: { branch?: string; seq?: number; toTag?: string; cseqMethod?: string } = {}) {
  const branch = opts.branch ?? 'z9hG4bKpeer1';
  return [
    `${method} sip:fax@127.0.0.1:5070 SIP/2.0`,
    `Via: SIP/2.0/UDP 127.0.0.1:5080;branch=${branch};rport=5080`,
    'Max-Forwards: 70',
    'From: <sip:carol@127.0.0.1:5080>;tag=c1',
    `To: <sip:fax@127.0.0.1>${opts.toTag ? `;tag=${opts.toTag}` : ''}`,
    'Call-ID: peer-1@127.0.0.1',
    `CSeq: ${opts.seq ?? 7} ${opts.cseqMethod ?? method}`,
    'Contact: <sip:carol@127.0.0.1:5080>',
    'Content-Length: 0',
    '',
    '',
  ].join('\n');
}

/** A handler that records what the transaction told it and when. */
function recorder(clock: FakeClock) {
  const log: { responses: SipResponse[]; timeouts: { at: number; error?: SipTimeoutError }[]; errors: Error[] } = {
    responses: [],
    timeouts: [],
    errors: [],
  };
  const handler: ClientTransactionHandler = {
    onResponse: (r) => log.responses.push(r),
    onTimeout: (error) => log.timeouts.push({ at: clock.now(), error }),
    onTransportError: (e) => log.errors.push(e),
  };
  return { log, handler };
}

function setup(options: { maxTransactions?: number; maxProceeding?: number } = {}) {
  const clock = new FakeClock();
  const transport = new MemoryTransport(clock);
  const layer = new TransactionLayer(transport, { clock, ...options });
  const requests: [SipRequest, ServerTransaction][] = [];
  layer.on('request', (request: SipRequest, tx: ServerTransaction) => requests.push([request, tx]));
  return { clock, transport, layer, requests };
}

/** Lets rejected sends reach their handlers. */
const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

const tag = (m: SipMessage) => parseNameAddr(getHeader(m, 'To') as string).params.tag;

describe('a client INVITE transaction over UDP', () => {
  it('adds one Via with our sent-by, a z9hG4bK branch and rport, leaving the caller’s request unchanged', () => {
    const { transport, layer, clock } = setup();
    const request = outgoing('INVITE');
    const tx = layer.sendRequest(request, PEER, recorder(clock).handler);
    expect(request.headers.some((h) => h.name === 'Via')).toBe(false);
    const vias = getHeaders(transport.sent[0].message, 'Via');
    expect(vias).toHaveLength(1);
    const via = parseVia(vias[0]);
    expect(via).toMatchObject({ host: '127.0.0.1', port: 5070, params: { branch: tx.branch, rport: null } });
    expect(via.transport.toUpperCase()).toBe('UDP');
    expect(tx.branch).toMatch(/^z9hG4bK./);
    expect(transport.sent[0].to).toEqual(PEER);
    expect(tx.request.headers[0]).toEqual({ name: 'Via', value: vias[0] });
    layer.close();
  });

  it('retransmits after 0.5, 1, 2, 4, 8 and 16 s (Timer A) and times out with Timer B at 32 s', () => {
    const { transport, layer, clock } = setup();
    const { log, handler } = recorder(clock);
    layer.sendRequest(outgoing('INVITE'), PEER, handler);
    clock.advance(60_000);
    expect(transport.times(isRequest('INVITE'))).toEqual([0, 500, 1500, 3500, 7500, 15500, 31500]);
    expect(log.timeouts.map((t) => t.at)).toEqual([32_000]);
    expect(log.timeouts[0].error).toBeInstanceOf(SipTimeoutError);
    expect(log.timeouts[0].error).toMatchObject({ code: 'ERR_FAXLINE_SIP_TIMEOUT', timer: 'B', method: 'INVITE' });
    expect(layer.stats()).toMatchObject({ clientTransactions: 0, retransmissionsSent: 6, timeouts: 1 });
    expect(clock.live).toBe(0);
  });

  it('stops retransmitting on a provisional response and passes it up; Timer B no longer applies', () => {
    const { transport, layer, clock } = setup();
    const { log, handler } = recorder(clock);
    const tx = layer.sendRequest(outgoing('INVITE'), PEER, handler);
    clock.advance(700);
    transport.inject(reply(tx.request, 180, 'Ringing', 'b2'));
    clock.advance(60_000);
    expect(transport.times(isRequest('INVITE'))).toEqual([0, 500]);
    expect(log.responses.map((r) => r.status)).toEqual([180]);
    expect(log.timeouts).toEqual([]);
    expect(tx.state).toBe('proceeding');
    layer.close();
  });

  it('ACKs a 486 in the transaction: same Request-URI, Via (branch), From, Call-ID, Route; the 486’s To; CSeq ACK', () => {
    const { transport, layer, clock } = setup();
    const { log, handler } = recorder(clock);
    const tx = layer.sendRequest(outgoing('INVITE'), PEER, handler);
    const via = getHeaders(transport.sent[0].message, 'Via')[0];
    transport.inject(reply(tx.request, 486, 'Busy Here', 'b2'));
    const acks = transport.sent.filter((s) => isRequest('ACK')(s.message));
    expect(acks).toHaveLength(1);
    expect(acks[0].text).toBe(
      [
        'ACK sip:bob@127.0.0.1:5080 SIP/2.0',
        `Via: ${via}`,
        'Max-Forwards: 70',
        'Route: <sip:proxy.example;lr>',
        'From: <sip:alice@127.0.0.1>;tag=a1',
        'To: <sip:bob@127.0.0.1>;tag=b2',
        'Call-ID: c1@127.0.0.1',
        'CSeq: 1 ACK',
        'Content-Length: 0',
        '',
        '',
      ].join('\r\n'),
    );
    expect(acks[0].to).toEqual(PEER);
    expect(log.responses.map((r) => r.status)).toEqual([486]);
    expect(tx.state).toBe('completed');
  });

  it('absorbs a retransmitted 486 by sending the ACK again, and ends 32 s later (Timer D)', () => {
    const { transport, layer, clock } = setup();
    const { log, handler } = recorder(clock);
    const tx = layer.sendRequest(outgoing('INVITE'), PEER, handler);
    transport.inject(reply(tx.request, 486, 'Busy Here', 'b2'));
    clock.advance(1000);
    transport.inject(reply(tx.request, 486, 'Busy Here', 'b2'));
    const acks = transport.sent.filter((s) => isRequest('ACK')(s.message));
    expect(acks.map((a) => a.at)).toEqual([0, 1000]);
    expect(acks[1].text).toBe(acks[0].text);
    expect(log.responses).toHaveLength(1);
    expect(layer.stats()).toMatchObject({ retransmissionsAbsorbed: 1, retransmissionsSent: 1, clientTransactions: 1 });
    clock.advance(30_999);
    expect(layer.stats().clientTransactions).toBe(1);
    clock.advance(1);
    expect(layer.stats().clientTransactions).toBe(0);
    expect(tx.state).toBe('terminated');
    expect(clock.live).toBe(0);
  });

  it('enters Accepted on a 2xx (RFC 6026): each further 2xx goes up, the layer sends no ACK, Timer M ends it', () => {
    const { transport, layer, clock } = setup();
    const { log, handler } = recorder(clock);
    const tx = layer.sendRequest(outgoing('INVITE'), PEER, handler);
    transport.inject(reply(tx.request, 200, 'OK', 'b2'));
    expect(tx.state).toBe('accepted');
    clock.advance(500);
    transport.inject(reply(tx.request, 200, 'OK', 'b2'));
    transport.inject(reply(tx.request, 486, 'Busy Here', 'b3')); // not a 2xx: not for the core
    clock.advance(1500);
    transport.inject(reply(tx.request, 200, 'OK', 'b2'));
    expect(log.responses.map((r) => r.status)).toEqual([200, 200, 200]);
    expect(transport.sent.map((s) => (s.message as SipRequest).method)).toEqual(['INVITE']);
    clock.advance(32_000 - 2000 - 1);
    expect(layer.stats().clientTransactions).toBe(1);
    clock.advance(1);
    expect(layer.stats().clientTransactions).toBe(0);
    transport.inject(reply(tx.request, 200, 'OK', 'b2'));
    expect(log.responses).toHaveLength(3);
    expect(layer.stats().strayResponses).toBe(1);
    expect(clock.live).toBe(0);
  });

  it('reports a transport failure of the request (§17.1.4) and ends, leaving no timer', async () => {
    const { transport, layer, clock } = setup();
    const { log, handler } = recorder(clock);
    const failure = new Error('connect ECONNREFUSED 127.0.0.1:5080');
    transport.failNext = failure;
    layer.sendRequest(outgoing('INVITE'), PEER_TCP, handler);
    await flush();
    expect(log.errors).toEqual([failure]);
    expect(log.timeouts).toEqual([]);
    expect(layer.stats().clientTransactions).toBe(0);
    expect(clock.live).toBe(0);
  });

  it('matches responses on branch and CSeq method: the same branch with another method is stray', () => {
    const { transport, layer, clock } = setup();
    const { log, handler } = recorder(clock);
    const tx = layer.sendRequest(outgoing('INVITE'), PEER, handler);
    transport.inject(reply(tx.request, 200, 'OK', 'b2', '1 OPTIONS'));
    expect(log.responses).toEqual([]);
    expect(layer.stats().strayResponses).toBe(1);
    layer.close();
  });
});

describe('a client non-INVITE transaction', () => {
  it('retransmits with Timer E doubling up to T2 (4 s) and times out with Timer F at 32 s', () => {
    const { transport, layer, clock } = setup();
    const { log, handler } = recorder(clock);
    layer.sendRequest(outgoing('OPTIONS'), PEER, handler);
    clock.advance(60_000);
    expect(transport.times(isRequest('OPTIONS'))).toEqual([
      0, 500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500,
    ]);
    expect(log.timeouts.map((t) => [t.at, t.error?.timer])).toEqual([[32_000, 'F']]);
    expect(clock.live).toBe(0);
  });

  it('retransmits every T2 once a provisional came, and absorbs final retransmissions for T4 (Timer K)', () => {
    const { transport, layer, clock } = setup();
    const { log, handler } = recorder(clock);
    const tx = layer.sendRequest(outgoing('OPTIONS'), PEER, handler);
    clock.advance(100);
    transport.inject(reply(tx.request, 100, 'Trying'));
    clock.advance(8900); // to 9000 ms
    expect(transport.times(isRequest('OPTIONS'))).toEqual([0, 500, 4500, 8500]);
    transport.inject(reply(tx.request, 200, 'OK', 'b2'));
    transport.inject(reply(tx.request, 200, 'OK', 'b2'));
    expect(log.responses.map((r) => r.status)).toEqual([100, 200]);
    expect(layer.stats().retransmissionsAbsorbed).toBe(1);
    clock.advance(4999);
    expect(tx.state).toBe('completed');
    clock.advance(1);
    expect(tx.state).toBe('terminated');
    expect(transport.sent).toHaveLength(4);
    expect(clock.live).toBe(0);
  });

  it('over TCP sends once, still times out with Timer F, and ends at once on a final (Timer K zero)', () => {
    const { transport, layer, clock } = setup();
    const a = recorder(clock);
    layer.sendRequest(outgoing('OPTIONS'), PEER_TCP, a.handler);
    clock.advance(60_000);
    expect(transport.times(isRequest('OPTIONS'))).toEqual([0]);
    expect(a.log.timeouts.map((t) => [t.at, t.error?.timer])).toEqual([[32_000, 'F']]);

    const b = recorder(clock);
    const tx = layer.sendRequest(outgoing('OPTIONS', 2), PEER_TCP, b.handler);
    transport.inject(reply(tx.request, 200, 'OK', 'b2'), PEER_TCP);
    expect(b.log.responses.map((r) => r.status)).toEqual([200]);
    expect(tx.state).toBe('terminated');
    expect(layer.stats().clientTransactions).toBe(0);
    expect(clock.live).toBe(0);
  });
});

describe('a client INVITE transaction over TCP', () => {
  it('never retransmits, ACKs a 486 and ends at once (Timer D zero)', () => {
    const { transport, layer, clock } = setup();
    const { log, handler } = recorder(clock);
    const tx = layer.sendRequest(outgoing('INVITE'), PEER_TCP, handler);
    clock.advance(20_000);
    expect(transport.times(isRequest('INVITE'))).toEqual([0]);
    transport.inject(reply(tx.request, 486, 'Busy Here', 'b2'), PEER_TCP);
    expect(transport.times(isRequest('ACK'))).toEqual([20_000]);
    expect(getHeader(transport.sent[1].message, 'Via')).toBe(getHeader(transport.sent[0].message, 'Via'));
    expect(parseVia(getHeaders(transport.sent[0].message, 'Via')[0]).transport.toUpperCase()).toBe('TCP');
    expect(log.responses.map((r) => r.status)).toEqual([486]);
    expect(tx.state).toBe('terminated');
    expect(clock.live).toBe(0);
  });
});

describe('cancelling a client INVITE (§9.1)', () => {
  it('defers the CANCEL until a provisional, then sends it with the INVITE’s fields and top Via', () => {
    const { transport, layer, clock } = setup();
    const { log, handler } = recorder(clock);
    const tx = layer.sendRequest(outgoing('INVITE'), PEER, handler);
    const via = getHeaders(transport.sent[0].message, 'Via')[0];
    const cancel = tx.cancel();
    clock.advance(600);
    expect(transport.times(isRequest('CANCEL'))).toEqual([]);
    transport.inject(reply(tx.request, 180, 'Ringing', 'b2'));
    const sent = transport.sent.filter((s) => isRequest('CANCEL')(s.message));
    expect(sent).toHaveLength(1);
    expect(sent[0].text).toBe(
      [
        'CANCEL sip:bob@127.0.0.1:5080 SIP/2.0',
        `Via: ${via}`,
        'Max-Forwards: 70',
        'Route: <sip:proxy.example;lr>',
        'From: <sip:alice@127.0.0.1>;tag=a1',
        'To: <sip:bob@127.0.0.1>',
        'Call-ID: c1@127.0.0.1',
        'CSeq: 1 CANCEL',
        'Content-Length: 0',
        '',
        '',
      ].join('\r\n'),
    );
    expect(serializeMessage(cancel).toString('latin1')).toBe(sent[0].text);
    expect(tx.cancel()).toBe(cancel);
    expect(transport.times(isRequest('CANCEL'))).toEqual([600]); // a second cancel() sends nothing
    expect(log.responses.map((r) => r.status)).toEqual([180]);
  });

  it('keeps the INVITE alive on the CANCEL’s 200, ends it with the 487 (ACKed), and retransmits the CANCEL by Timer E', () => {
    const { transport, layer, clock } = setup();
    const { log, handler } = recorder(clock);
    const tx = layer.sendRequest(outgoing('INVITE'), PEER, handler);
    transport.inject(reply(tx.request, 180, 'Ringing', 'b2'));
    const cancel = tx.cancel();
    clock.advance(1600);
    expect(transport.times(isRequest('CANCEL'))).toEqual([0, 500, 1500]);
    transport.inject(reply(cancel, 200, 'OK', 'b2'));
    clock.advance(5000);
    expect(transport.times(isRequest('CANCEL'))).toEqual([0, 500, 1500]);
    expect(tx.state).toBe('proceeding');
    expect(log.responses.map((r) => r.status)).toEqual([180]);
    transport.inject(reply(tx.request, 487, 'Request Terminated', 'b2'));
    expect(log.responses.map((r) => r.status)).toEqual([180, 487]);
    expect(tx.state).toBe('completed');
    const ack = transport.sent.find((s) => isRequest('ACK')(s.message));
    expect(getHeader(ack!.message, 'CSeq')).toBe('1 ACK');
    layer.close();
    expect(clock.live).toBe(0);
  });

  it('gives up 64*T1 after the CANCEL when no final response comes', () => {
    const { transport, layer, clock } = setup();
    const { log, handler } = recorder(clock);
    const tx = layer.sendRequest(outgoing('INVITE'), PEER, handler);
    clock.advance(1000);
    transport.inject(reply(tx.request, 183, 'Session Progress', 'b2'));
    tx.cancel();
    clock.advance(60_000);
    expect(log.timeouts.map((t) => [t.at, t.error?.timer])).toEqual([[33_000, 'cancel']]);
    expect(layer.stats().clientTransactions).toBe(0);
    expect(clock.live).toBe(0);
  });

  it('sends no CANCEL once a final response came, and refuses to cancel a non-INVITE', () => {
    const { transport, layer, clock } = setup();
    const tx = layer.sendRequest(outgoing('INVITE'), PEER, recorder(clock).handler);
    transport.inject(reply(tx.request, 603, 'Decline', 'b2'));
    expect(tx.cancel().method).toBe('CANCEL');
    expect(transport.times(isRequest('CANCEL'))).toEqual([]);
    const options = layer.sendRequest(outgoing('OPTIONS', 2), PEER, recorder(clock).handler);
    expect(() => options.cancel()).toThrow(/INVITE transaction for cancel\(\)/);
    layer.close();
  });

  it('cancels a ringing INVITE by itself after maxProceeding', () => {
    const { transport, layer, clock } = setup({ maxProceeding: 10_000 });
    const tx = layer.sendRequest(outgoing('INVITE'), PEER, recorder(clock).handler);
    transport.inject(reply(tx.request, 180, 'Ringing', 'b2'));
    clock.advance(9_999);
    expect(transport.times(isRequest('CANCEL'))).toEqual([]);
    clock.advance(1);
    expect(transport.times(isRequest('CANCEL'))).toEqual([10_000]);
    layer.close();
  });
});

describe('a server INVITE transaction', () => {
  it('sends 100 Trying when the TU has not answered within 200 ms, and resends the last provisional on a retransmission', () => {
    const { transport, layer, clock, requests } = setup();
    transport.inject(incoming('INVITE'));
    expect(requests).toHaveLength(1);
    const [request, tx] = requests[0];
    expect(request.method).toBe('INVITE');
    expect(tx.state).toBe('proceeding');
    clock.advance(199);
    expect(transport.sent).toEqual([]);
    clock.advance(1);
    expect(transport.sent.map((s) => [s.at, (s.message as SipResponse).status])).toEqual([[200, 100]]);
    expect(tag(transport.sent[0].message)).toBeUndefined();
    expect(getHeader(transport.sent[0].message, 'Via')).toBe(getHeader(request, 'Via'));
    expect(transport.sent[0].to).toEqual(PEER);
    transport.inject(incoming('INVITE'));
    expect(transport.sent.map((s) => (s.message as SipResponse).status)).toEqual([100, 100]);
    tx.respond(makeResponse(request, 180, 'Ringing', 'f1'));
    transport.inject(incoming('INVITE'));
    expect(transport.sent.map((s) => (s.message as SipResponse).status)).toEqual([100, 100, 180, 180]);
    expect(requests).toHaveLength(1);
    expect(layer.stats()).toMatchObject({ serverTransactions: 1, retransmissionsAbsorbed: 2, retransmissionsSent: 2 });
    layer.close();
  });

  it('sends no 100 Trying when the TU answers at once', () => {
    const { transport, layer, clock, requests } = setup();
    layer.on('request', (request: SipRequest, tx: ServerTransaction) =>
      tx.respond(makeResponse(request, 180, 'Ringing', 'f1')),
    );
    transport.inject(incoming('INVITE'));
    clock.advance(1000);
    expect(requests).toHaveLength(1);
    expect(transport.sent.map((s) => (s.message as SipResponse).status)).toEqual([180]);
    layer.close();
  });

  it('retransmits a 486 with Timer G (0.5, 1, 2, 4, 4 s …) until the ACK, then absorbs ACKs for T4 (Timer I)', () => {
    const { transport, layer, clock, requests } = setup();
    transport.inject(incoming('INVITE'));
    const [request, tx] = requests[0];
    tx.respond(makeResponse(request, 486, 'Busy Here', 'f1'));
    clock.advance(12_000);
    expect(transport.times(isStatus(486))).toEqual([0, 500, 1500, 3500, 7500, 11500]);
    transport.inject(incoming('INVITE')); // a retransmitted INVITE gets the final again
    expect(transport.times(isStatus(486))).toEqual([0, 500, 1500, 3500, 7500, 11500, 12000]);
    transport.inject(incoming('ACK', { toTag: 'f1', cseqMethod: 'ACK' }));
    expect(tx.state).toBe('confirmed');
    transport.inject(incoming('ACK', { toTag: 'f1', cseqMethod: 'ACK' }));
    clock.advance(4999);
    expect(transport.sent).toHaveLength(7);
    expect(layer.stats().serverTransactions).toBe(1);
    clock.advance(1);
    expect(tx.state).toBe('terminated');
    expect(layer.stats()).toMatchObject({ serverTransactions: 0, timeouts: 0 });
    expect(clock.live).toBe(0);
  });

  it('gives up waiting for the ACK with Timer H at 32 s and tells the TU', () => {
    const { transport, layer, clock, requests } = setup();
    const timeouts: [ServerTransaction, SipTimeoutError, number][] = [];
    layer.on('timeout', (tx: ServerTransaction, error: SipTimeoutError) => timeouts.push([tx, error, clock.now()]));
    transport.inject(incoming('INVITE'));
    const [request, tx] = requests[0];
    tx.respond(makeResponse(request, 480, 'Temporarily Unavailable', 'f1'));
    clock.advance(60_000);
    expect(transport.times(isStatus(480))).toEqual([
      0, 500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500,
    ]);
    expect(timeouts).toHaveLength(1);
    expect(timeouts[0][0]).toBe(tx);
    expect(timeouts[0][1]).toMatchObject({ code: 'ERR_FAXLINE_SIP_TIMEOUT', timer: 'H', method: 'INVITE' });
    expect(timeouts[0][2]).toBe(32_000);
    expect(clock.live).toBe(0);
  });

  it('in Accepted (RFC 6026) sends the TU’s 2xx retransmissions, absorbs INVITE retransmissions, ends by Timer L', () => {
    const { transport, layer, clock, requests } = setup();
    const acks: SipRequest[] = [];
    layer.on('ack', (ack: SipRequest) => acks.push(ack));
    transport.inject(incoming('INVITE'));
    const [request, tx] = requests[0];
    const ok = makeResponse(request, 200, 'OK', 'f1');
    tx.respond(ok);
    expect(tx.state).toBe('accepted');
    clock.advance(500);
    transport.inject(incoming('INVITE'));
    tx.respond(ok);
    expect(transport.times(isStatus(200))).toEqual([0, 500]);
    expect(layer.stats().retransmissionsAbsorbed).toBe(1);
    transport.inject(incoming('ACK', { branch: 'z9hG4bKpeer2', toTag: 'f1', cseqMethod: 'ACK' }));
    expect(acks).toHaveLength(1);
    expect(getHeader(acks[0], 'CSeq')).toBe('7 ACK');
    tx.respond(makeResponse(request, 486, 'Busy Here', 'f1')); // too late for a second final
    clock.advance(31_499);
    expect(tx.state).toBe('accepted');
    clock.advance(1);
    expect(tx.state).toBe('terminated');
    expect(transport.sent).toHaveLength(2);
    expect(requests).toHaveLength(1);
    expect(clock.live).toBe(0);
  });

  it('over TCP sends a final once, and ends on the ACK at once (Timers G none, I zero)', () => {
    const { transport, layer, clock, requests } = setup();
    transport.inject(incoming('INVITE'), PEER_TCP);
    const [request, tx] = requests[0];
    tx.respond(makeResponse(request, 486, 'Busy Here', 'f1'));
    clock.advance(10_000);
    expect(transport.times(isStatus(486))).toEqual([0]);
    expect(transport.sent[0].to).toEqual(PEER_TCP);
    transport.inject(incoming('ACK', { toTag: 'f1', cseqMethod: 'ACK' }), PEER_TCP);
    expect(tx.state).toBe('terminated');
    expect(layer.stats().serverTransactions).toBe(0);
    expect(clock.live).toBe(0);
  });

  it('treats the same branch from another sent-by, or with another method, as another transaction', () => {
    const { transport, layer, requests } = setup();
    transport.inject(incoming('INVITE'));
    transport.inject(incoming('INVITE').replace('127.0.0.1:5080;branch', '127.0.0.1:5090;branch'));
    transport.inject(incoming('OPTIONS'));
    expect(requests.map(([r]) => r.method)).toEqual(['INVITE', 'INVITE', 'OPTIONS']);
    expect(layer.stats().serverTransactions).toBe(3);
    layer.close();
  });

  it('answers 408 itself after maxProceeding without a final response, and reports it', () => {
    const { transport, layer, clock, requests } = setup({ maxProceeding: 5_000 });
    const timers: string[] = [];
    layer.on('timeout', (_tx: ServerTransaction, error: SipTimeoutError) => timers.push(error.timer));
    transport.inject(incoming('INVITE'));
    const [request, tx] = requests[0];
    tx.respond(makeResponse(request, 180, 'Ringing', 'f1'));
    clock.advance(5_000);
    const last = transport.sent[transport.sent.length - 1];
    expect([last.at, (last.message as SipResponse).status, tag(last.message)]).toEqual([5_000, 408, 'f1']);
    expect(timers).toEqual(['proceeding']);
    expect(tx.state).toBe('completed');
    layer.close();
  });
});

describe('a server non-INVITE transaction', () => {
  it('absorbs retransmissions in Trying, resends the provisional in Proceeding and the final in Completed, ends by Timer J', () => {
    const { transport, layer, clock, requests } = setup();
    transport.inject(incoming('OPTIONS'));
    const [request, tx] = requests[0];
    expect(tx.state).toBe('trying');
    clock.advance(1000);
    transport.inject(incoming('OPTIONS'));
    expect(transport.sent).toEqual([]); // no 100 Trying for non-INVITE
    tx.respond(makeResponse(request, 100, 'Trying'));
    transport.inject(incoming('OPTIONS'));
    tx.respond(makeResponse(request, 200, 'OK', 'f1'));
    transport.inject(incoming('OPTIONS'));
    expect(transport.sent.map((s) => (s.message as SipResponse).status)).toEqual([100, 100, 200, 200]);
    expect(requests).toHaveLength(1);
    expect(layer.stats().retransmissionsAbsorbed).toBe(3);
    clock.advance(31_999);
    expect(tx.state).toBe('completed');
    clock.advance(1);
    expect(tx.state).toBe('terminated');
    expect(clock.live).toBe(0);
  });

  it('over TCP ends as soon as the final is sent (Timer J zero)', () => {
    const { transport, clock, requests } = setup();
    transport.inject(incoming('OPTIONS'), PEER_TCP);
    const [request, tx] = requests[0];
    tx.respond(makeResponse(request, 200, 'OK', 'f1'));
    expect(tx.state).toBe('terminated');
    expect(clock.live).toBe(0);
  });

  it('ends a request the TU never answers after 64*T1, reporting it', () => {
    const { transport, layer, clock } = setup();
    const timers: string[] = [];
    layer.on('timeout', (_tx: ServerTransaction, error: SipTimeoutError) => timers.push(error.timer));
    transport.inject(incoming('OPTIONS'));
    clock.advance(32_000);
    expect(timers).toEqual(['unanswered']);
    expect(layer.stats().serverTransactions).toBe(0);
    expect(clock.live).toBe(0);
  });
});

describe('a received CANCEL (§9.2)', () => {
  it('for a pending INVITE: the layer answers 200 with the INVITE’s To tag and emits cancel; the TU’s 487 goes out', () => {
    const { transport, layer, clock, requests } = setup();
    const cancels: [ServerTransaction, SipRequest][] = [];
    layer.on('cancel', (tx: ServerTransaction, cancel: SipRequest) => cancels.push([tx, cancel]));
    transport.inject(incoming('INVITE'));
    const [request, tx] = requests[0];
    tx.respond(makeResponse(request, 180, 'Ringing', 'f1'));
    transport.inject(incoming('CANCEL'));
    const ok = transport.sent[1].message as SipResponse;
    expect([ok.status, getHeader(ok, 'CSeq'), tag(ok)]).toEqual([200, '7 CANCEL', 'f1']);
    expect(getHeader(ok, 'Via')).toBe(getHeader(request, 'Via'));
    expect(cancels).toHaveLength(1);
    expect(cancels[0][0]).toBe(tx);
    expect(cancels[0][1].method).toBe('CANCEL');
    expect(requests).toHaveLength(1); // the CANCEL is not a new request for the TU
    expect(tx.localTag).toBe('f1');
    tx.respond(makeResponse(request, 487, 'Request Terminated', tx.localTag));
    expect(transport.sent.map((s) => [(s.message as SipResponse).status, getHeader(s.message, 'CSeq')])).toEqual([
      [180, '7 INVITE'],
      [200, '7 CANCEL'],
      [487, '7 INVITE'],
    ]);
    transport.inject(incoming('CANCEL')); // a retransmitted CANCEL: its own transaction resends the 200
    expect(transport.sent.map((s) => (s.message as SipResponse).status)).toEqual([180, 200, 487, 200]);
    expect(cancels).toHaveLength(1);
    layer.close();
    expect(clock.live).toBe(0);
  });

  it('answers 487 itself when nobody listens for cancel, using the tag of its 200', () => {
    const { transport, layer, requests } = setup();
    transport.inject(incoming('INVITE'));
    transport.inject(incoming('CANCEL'));
    const sent = transport.sent.map((s) => s.message as SipResponse);
    expect(sent.map((r) => [r.status, getHeader(r, 'CSeq')])).toEqual([
      [200, '7 CANCEL'],
      [487, '7 INVITE'],
    ]);
    expect(tag(sent[0])).toMatch(/./);
    expect(tag(sent[1])).toBe(tag(sent[0]));
    expect(requests[0][1].state).toBe('completed');
    layer.close();
  });

  it('after the INVITE’s final response: 200 to the CANCEL and nothing else', () => {
    const { transport, layer, requests } = setup();
    const cancels: unknown[] = [];
    layer.on('cancel', (tx: unknown) => cancels.push(tx));
    transport.inject(incoming('INVITE'));
    const [request, tx] = requests[0];
    tx.respond(makeResponse(request, 486, 'Busy Here', 'f1'));
    transport.inject(incoming('CANCEL'));
    expect(transport.sent.map((s) => (s.message as SipResponse).status)).toEqual([486, 200]);
    expect(tag(transport.sent[1].message)).toBe('f1');
    expect(cancels).toEqual([]);
    layer.close();
  });

  it('matching no transaction: 481, and the retransmitted CANCEL gets the same 481', () => {
    const { transport, layer, requests } = setup();
    transport.inject(incoming('CANCEL', { branch: 'z9hG4bKnothing' }));
    transport.inject(incoming('CANCEL', { branch: 'z9hG4bKnothing' }));
    const sent = transport.sent.map((s) => s.message as SipResponse);
    expect(sent.map((r) => [r.status, r.reason, getHeader(r, 'CSeq')])).toEqual([
      [481, 'Call/Transaction Does Not Exist', '7 CANCEL'],
      [481, 'Call/Transaction Does Not Exist', '7 CANCEL'],
    ]);
    expect(transport.sent[1].text).toBe(transport.sent[0].text);
    expect(requests).toEqual([]);
    layer.close();
  });
});

describe('the layer', () => {
  it('passes an ACK that matches no transaction (the ACK of a 2xx) up as ack', () => {
    const { transport, layer } = setup();
    const acks: [SipRequest, SipAddress][] = [];
    layer.on('ack', (ack: SipRequest, source: SipAddress) => acks.push([ack, source]));
    transport.inject(incoming('ACK', { branch: 'z9hG4bKack9', toTag: 'f1' }));
    expect(acks.map(([a, s]) => [a.method, s])).toEqual([['ACK', PEER]]);
    expect(layer.stats().serverTransactions).toBe(0);
    layer.close();
  });

  it('sends an ACK for a 2xx statelessly with its own new Via branch', async () => {
    const { transport, layer, clock } = setup();
    const tx = layer.sendRequest(outgoing('INVITE'), PEER, recorder(clock).handler);
    await layer.sendStateless({ ...outgoing('ACK'), headers: outgoing('ACK').headers }, PEER);
    const ack = transport.sent[1].message;
    const via = parseVia(getHeaders(ack, 'Via')[0]);
    expect(getHeaders(ack, 'Via')).toHaveLength(1);
    expect(via.params.branch).toMatch(/^z9hG4bK./);
    expect(via.params.branch).not.toBe(tx.branch);
    expect(() => layer.sendRequest(outgoing('ACK'), PEER, recorder(clock).handler)).toThrow(/other than ACK/);
    layer.close();
  });

  it('close() ends every transaction, leaves no timer, stops listening, and refuses new requests', () => {
    const { transport, layer, clock, requests } = setup();
    const { log, handler } = recorder(clock);
    layer.sendRequest(outgoing('INVITE'), PEER, handler);
    layer.sendRequest(outgoing('OPTIONS', 2), PEER, handler);
    transport.inject(incoming('INVITE'));
    requests[0][1].respond(makeResponse(requests[0][0], 486, 'Busy Here', 'f1'));
    transport.inject(incoming('OPTIONS', { branch: 'z9hG4bKpeer3' }));
    expect(clock.live).toBeGreaterThan(4);
    expect(layer.stats()).toMatchObject({ clientTransactions: 2, serverTransactions: 2 });
    layer.close();
    layer.close();
    expect(clock.live).toBe(0);
    expect(layer.stats()).toMatchObject({ clientTransactions: 0, serverTransactions: 0 });
    expect(transport.listenerCount('message')).toBe(0);
    const before = transport.sent.length;
    clock.advance(100_000);
    expect(transport.sent).toHaveLength(before);
    expect(log.timeouts).toEqual([]);
    expect(() => layer.sendRequest(outgoing('OPTIONS', 3), PEER, handler)).toThrow(SessionClosedError);
  });

  it('holds at most maxTransactions: past it sendRequest throws and a new request gets 503 naming the limit', () => {
    const { transport, layer, clock, requests } = setup({ maxTransactions: 1 });
    layer.sendRequest(outgoing('OPTIONS'), PEER, recorder(clock).handler);
    expect(() => layer.sendRequest(outgoing('OPTIONS', 2), PEER, recorder(clock).handler)).toThrow(CapacityError);
    transport.inject(incoming('INVITE'));
    expect(requests).toEqual([]);
    const busy = transport.sent[1].message as SipResponse;
    expect(busy.status).toBe(503);
    expect(getHeader(busy, 'Retry-After')).toBe('5');
    expect(getHeader(busy, 'Warning')).toBe('399 faxline "maxTransactions (1) reached"');
    expect(layer.stats().refused).toBe(1);
    layer.close();
  });

  it('drops a message whose Via or CSeq cannot be read, counting it', () => {
    const { transport, layer, requests } = setup();
    // The transport's parser would refuse it; a message object can still carry one (a transport of another kind).
    const request = parseMessage(Buffer.from(incoming('OPTIONS').split('\n').join('\r\n')));
    request.headers[0] = { name: 'Via', value: 'nonsense' };
    transport.inject(request);
    const via = { name: 'Via', value: 'SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKx' };
    const response = reply({ ...outgoing('OPTIONS'), headers: [via, ...outgoing('OPTIONS').headers] }, 200, 'OK');
    response.headers = response.headers.filter((h) => h.name !== 'CSeq');
    transport.inject(response);
    expect(requests).toEqual([]);
    expect(layer.stats()).toMatchObject({ dropped: 2, serverTransactions: 0, strayResponses: 0 });
    layer.close();
  });

  it('checks its options', () => {
    const transport = new MemoryTransport(new FakeClock());
    expect(() => new TransactionLayer(transport, { timers: { T1: 0 } })).toThrow(
      'Expected a positive number for options.timers.T1 but got 0',
    );
    expect(() => new TransactionLayer(transport, { maxTransactions: 0 })).toThrow(
      'Expected an integer from 1 for options.maxTransactions but got 0',
    );
  });
});

describe('two transaction layers over real UDP on 127.0.0.1', () => {
  const open: { close(): unknown }[] = [];
  afterEach(async () => {
    for (const o of open.splice(0).reverse()) await o.close();
  });

  /** Resolves when `check` holds, polling every 10 ms; rejects after 5 s. */
  async function until(check: () => boolean, what: string): Promise<void> {
    const deadline = Date.now() + 5000;
    while (!check()) {
      if (Date.now() > deadline) throw new Error(`timed out after 5 s waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  it('carries an INVITE, its 486 and the ACK, and an OPTIONS with its 200', async () => {
    const ta = await SipTransport.open({ udp: { host: '127.0.0.1', port: 0 } });
    open.push(ta);
    const tb = await SipTransport.open({ udp: { host: '127.0.0.1', port: 0 } });
    open.push(tb);
    const a = new TransactionLayer(ta);
    open.push(a);
    const b = new TransactionLayer(tb);
    open.push(b);
    const serverTxs: ServerTransaction[] = [];
    b.on('request', (request: SipRequest, tx: ServerTransaction) => {
      serverTxs.push(tx);
      tx.respond(makeResponse(request, request.method === 'INVITE' ? 486 : 200, undefined, 'srv1'));
    });
    const to = tb.local('udp');
    const invite = { responses: [] as number[], failures: [] as string[] };
    const handler: ClientTransactionHandler = {
      onResponse: (r) => invite.responses.push(r.status),
      onTimeout: () => invite.failures.push('timeout'),
      onTransportError: (e) => invite.failures.push(e.message),
    };
    const itx = a.sendRequest(outgoing('INVITE'), to, handler);
    await until(() => serverTxs[0]?.state === 'confirmed', 'the server INVITE transaction to be confirmed by the ACK');
    expect(invite.responses).toEqual([486]);
    expect(itx.state).toBe('completed');

    const options = { responses: [] as number[] };
    a.sendRequest(outgoing('OPTIONS', 2), to, { ...handler, onResponse: (r) => options.responses.push(r.status) });
    await until(() => options.responses.length > 0, 'the 200 to the OPTIONS');
    expect(options.responses).toEqual([200]);
    expect(invite.failures).toEqual([]);
    expect(serverTxs.map((t) => t.request.method)).toEqual(['INVITE', 'OPTIONS']);
    expect(a.stats()).toMatchObject({ strayResponses: 0, dropped: 0 });
  });
});
