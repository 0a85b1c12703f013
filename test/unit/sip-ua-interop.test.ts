/**
 * The user agent against a scripted far end on 127.0.0.1: a transaction layer driven by hand plays
 * the forking proxy, the challenging PBX, the trunk with odd bodies, so that each RFC 3261 / 4028
 * rule is checked on the wire, message by message.
 */
import { verifyAuthorization } from '../../lib/sip/digest';
import { Dialog } from '../../lib/sip/dialog';
import { SipCallError } from '../../lib/sip/errors';
import {
  addHeader,
  getHeader,
  getHeaders,
  makeResponse,
  newTag,
  parseCSeq,
  parseNameAddr,
  type SipHeader,
  type SipMessage,
  type SipRequest,
  type SipResponse,
} from '../../lib/sip/message';
import { TransactionLayer, type ServerTransaction } from '../../lib/sip/transaction';
import { SipTransport, type SipAddress } from '../../lib/sip/transport';
import {
  SipUserAgent,
  type CallEnd,
  type IncomingCall,
  type SipCall,
  type UserAgentOptions,
} from '../../lib/sip/user-agent';
import { within } from '../helpers/cli-peers';
import { ANSWER, FAST, OFFER, once, sdp } from '../helpers/sip-ua';
import { until } from '../helpers/udp';

const HOST = '127.0.0.1';

/** A response to `request` from the scripted far end: To tag, Contact, extra headers and SDP as asked. */
function reply(
  request: SipRequest,
  status: number,
  tag: string | undefined,
  options: { contact?: string; sdp?: string; headers?: SipHeader[] } = {},
): SipResponse {
  const r = makeResponse(request, status, undefined, tag);
  if (options.contact !== undefined) addHeader(r, 'Contact', options.contact);
  for (const h of options.headers ?? []) addHeader(r, h.name, h.value);
  if (options.sdp !== undefined) {
    addHeader(r, 'Content-Type', 'application/sdp');
    r.body = Buffer.from(options.sdp);
  }
  return r;
}

interface Received {
  request: SipRequest;
  tx: ServerTransaction;
  taken: boolean;
}

/** The far end: a real UDP transport and a transaction layer whose every step the test takes itself. */
class Peer {
  readonly requests: Received[] = [];
  readonly acks: SipRequest[] = [];
  /** Every message the transport delivered, in order (responses included). */
  readonly wire: SipMessage[] = [];
  private acksTaken = 0;
  /** Set at the end of a test: BYEs (the UA's close()) are answered 200 without the test. */
  answerByes = false;

  private constructor(
    readonly transport: SipTransport,
    readonly layer: TransactionLayer,
  ) {
    transport.on('message', (m: SipMessage) => this.wire.push(m));
    layer.on('request', (request: SipRequest, tx: ServerTransaction) => {
      if (this.answerByes && request.method === 'BYE') tx.respond(reply(request, 200, undefined));
      else this.requests.push({ request, tx, taken: false });
    });
    layer.on('ack', (ack: SipRequest) => this.acks.push(ack));
  }

  static async open(): Promise<Peer> {
    const transport = await SipTransport.open({ udp: { host: HOST, port: 0 } });
    return new Peer(transport, new TransactionLayer(transport, { timers: FAST }));
  }

  get port(): number {
    return this.transport.local('udp').port;
  }

  get uri(): string {
    return `sip:fax@${HOST}:${this.port}`;
  }

  get contact(): string {
    return `<sip:peer@${HOST}:${this.port}>`;
  }

  /** The next request of `method` not taken yet (bounded wait). */
  async next(method: string): Promise<{ request: SipRequest; tx: ServerTransaction }> {
    let found: Received | undefined;
    await until(() => {
      found = this.requests.find((r) => !r.taken && r.request.method === method);
      return found !== undefined;
    }, `a ${method} at the peer`);
    found!.taken = true;
    return found!;
  }

  /** The next ACK of a 2xx (bounded wait). */
  async nextAck(): Promise<SipRequest> {
    await until(() => this.acks.length > this.acksTaken, 'an ACK at the peer');
    return this.acks[this.acksTaken++];
  }

  /** Sends a request in a client transaction; resolves its first final response (bounded by Timer B/F). */
  send(request: SipRequest, to: SipAddress): Promise<{ final: SipResponse; sent: SipRequest }> {
    return new Promise((resolve, reject) => {
      const tx = this.layer.sendRequest(request, to, {
        onResponse: (r) => {
          if (r.status >= 200) resolve({ final: r, sent: tx.request });
        },
        onTimeout: () => reject(new Error(`no final response to ${request.method}`)),
        onTransportError: reject,
      });
    });
  }

  async close(): Promise<void> {
    this.layer.close();
    await this.transport.close();
  }
}

const closing: { close(): Promise<void> }[] = [];
afterEach(async () => {
  const all = closing.splice(0);
  for (const c of all) if (c instanceof Peer) c.answerByes = true;
  // The user agents first (their BYEs reach peers still open), then the peers.
  for (const c of all) if (!(c instanceof Peer)) await c.close();
  for (const c of all) if (c instanceof Peer) await c.close();
});

async function peer(): Promise<Peer> {
  const p = await Peer.open();
  closing.push(p);
  return p;
}

async function agent(options: Partial<Omit<UserAgentOptions, 'transport'>> = {}): Promise<SipUserAgent> {
  const transport = await SipTransport.open({ udp: { host: HOST, port: 0 } });
  const ua = new SipUserAgent({ transport, ...options, timers: { ...FAST, ...(options.timers ?? {}) } });
  closing.push(ua);
  return ua;
}

function addressOf(ua: SipUserAgent): SipAddress {
  return { transport: 'udp', host: HOST, port: ua.transport.local('udp').port };
}

function toTag(m: SipMessage): string | undefined {
  return parseNameAddr(getHeader(m, 'To')!).params.tag ?? undefined;
}

function cseqOf(m: SipMessage): { seq: number; method: string } {
  return parseCSeq(getHeader(m, 'CSeq')!);
}

/** An out-of-dialog request from the peer to `ua`. */
function outOfDialog(
  p: Peer,
  ua: SipUserAgent,
  method: string,
  extra: SipHeader[] = [],
  body?: { type: string; text: string },
): SipRequest {
  const headers: SipHeader[] = [
    { name: 'Max-Forwards', value: '70' },
    { name: 'From', value: `<sip:peer@${HOST}>;tag=${newTag()}` },
    { name: 'To', value: `<sip:fax@${HOST}:${addressOf(ua).port}>` },
    { name: 'Call-ID', value: `${newTag()}@${HOST}` },
    { name: 'CSeq', value: `1 ${method}` },
    { name: 'Contact', value: p.contact },
    ...extra,
  ];
  if (body) headers.push({ name: 'Content-Type', value: body.type });
  return {
    type: 'request',
    method,
    uri: `sip:fax@${HOST}:${addressOf(ua).port}`,
    headers,
    body: Buffer.from(body?.text ?? ''),
  };
}

/**
 * The peer calls `ua`, whose application accepts with ANSWER; the peer ACKs. Resolves the peer's
 * dialog (to build its in-dialog requests) and the UA's call.
 */
async function callIn(p: Peer, ua: SipUserAgent, extra: SipHeader[] = []): Promise<{ dialog: Dialog; call: SipCall }> {
  let accepted: Promise<SipCall> | undefined;
  ua.once('call', (incoming: IncomingCall) => (accepted = incoming.accept(ANSWER)));
  const invite = outOfDialog(p, ua, 'INVITE', extra, { type: 'application/sdp', text: OFFER });
  const { final, sent } = await p.send(invite, addressOf(ua));
  expect(final.status).toBe(200);
  const dialog = Dialog.fromUac(sent, final);
  await p.layer.sendStateless(dialog.buildRequest('ACK', { cseq: cseqOf(sent).seq }), addressOf(ua));
  const call = await within(accepted!, 5000, 'accept()');
  return { dialog, call };
}

/**
 * `ua` calls the peer, which answers 200 with ANSWER (To tag `tag`); resolves the call and the
 * peer's dialog (a UAS dialog built from the INVITE).
 */
async function callOut(
  p: Peer,
  ua: SipUserAgent,
  tag = newTag(),
): Promise<{ call: SipCall; dialog: Dialog; invite: SipRequest }> {
  const callP = ua.invite({ to: p.uri, offer: OFFER });
  const { request: invite, tx } = await p.next('INVITE');
  tx.respond(reply(invite, 200, tag, { contact: p.contact, sdp: ANSWER }));
  const call = await within(callP, 5000, 'invite()');
  await p.nextAck();
  return { call, dialog: Dialog.fromUas(invite, tag), invite };
}

describe('forked answers (RFC 3261 §13.2.2.4, §12.1.2)', () => {
  it('takes the 2xx of one fork after a 183 from another, ACKs and BYEs a later 2xx of the first fork once', async () => {
    const ua = await agent();
    const p = await peer();
    const early: string[] = [];
    const earlySdp = sdp('3003', 1, 42000);
    const callP = ua.invite({ to: p.uri, offer: OFFER, onEarly: (s) => early.push(s) });
    const { request: invite, tx } = await p.next('INVITE');
    const seq = cseqOf(invite).seq;
    tx.respond(reply(invite, 183, 'fork-a', { contact: p.contact, sdp: earlySdp }));
    await until(() => early.length === 1, 'the early SDP');
    tx.respond(reply(invite, 200, 'fork-b', { contact: p.contact, sdp: ANSWER }));
    const call = await within(callP, 5000, 'invite()');
    expect(call.remoteSdp).toBe(ANSWER);
    expect(early).toEqual([earlySdp]);
    const ackB = await p.nextAck();
    expect(toTag(ackB)).toBe('fork-b');
    expect(cseqOf(ackB)).toEqual({ seq, method: 'ACK' });

    // The other fork answers too, and its 2xx is retransmitted (its ACK "lost").
    const okA = reply(invite, 200, 'fork-a', { contact: p.contact, sdp: sdp('3003', 2, 42002) });
    tx.respond(okA);
    const ackA = await p.nextAck();
    expect(toTag(ackA)).toBe('fork-a');
    expect(cseqOf(ackA)).toEqual({ seq, method: 'ACK' });
    const { request: byeA, tx: byeTx } = await p.next('BYE');
    expect(toTag(byeA)).toBe('fork-a');
    expect(cseqOf(byeA)).toEqual({ seq: seq + 1, method: 'BYE' });
    byeTx.respond(reply(byeA, 200, undefined));
    tx.respond(okA);
    expect(toTag(await p.nextAck())).toBe('fork-a');

    // Our own BYE for the call we kept: the only other BYE the peer sees.
    const ended = once<CallEnd>(call, 'ended');
    const byeDone = call.bye();
    const { request: byeB, tx: byeBTx } = await p.next('BYE');
    byeBTx.respond(reply(byeB, 200, undefined));
    await within(byeDone, 5000, 'bye()');
    expect((await ended).by).toBe('local');
    expect(toTag(byeB)).toBe('fork-b');
    expect(p.requests.filter((r) => r.request.method === 'BYE').map((r) => toTag(r.request))).toEqual([
      'fork-a',
      'fork-b',
    ]);
  });

  it('takes the answer of the 183 when the same fork’s 2xx comes without SDP', async () => {
    const ua = await agent();
    const p = await peer();
    const earlySdp = sdp('3003', 1, 42000);
    const callP = ua.invite({ to: p.uri, offer: OFFER });
    const { request: invite, tx } = await p.next('INVITE');
    tx.respond(reply(invite, 183, 'one', { contact: p.contact, sdp: earlySdp }));
    tx.respond(reply(invite, 200, 'one', { contact: p.contact }));
    const call = await within(callP, 5000, 'invite()');
    expect(call.remoteSdp).toBe(earlySdp);
    await p.nextAck();
  });
});

describe('a 2xx that crosses our CANCEL (§9.1, §15)', () => {
  it('rejects with 487, ACKs the 2xx and sends BYE in its dialog', async () => {
    const ua = await agent();
    const p = await peer();
    const controller = new AbortController();
    const provisional: number[] = [];
    const callP = ua
      .invite({
        to: p.uri,
        offer: OFFER,
        signal: controller.signal,
        onProvisional: (status) => provisional.push(status),
      })
      .catch((e: unknown) => e);
    const { request: invite, tx } = await p.next('INVITE');
    const seq = cseqOf(invite).seq;
    // The far end answers the INVITE 200 as the CANCEL arrives (the layer has already answered the CANCEL 200).
    p.layer.on('cancel', () => tx.respond(reply(invite, 200, 'late', { contact: p.contact, sdp: ANSWER })));
    tx.respond(reply(invite, 180, 'late', { contact: p.contact }));
    await until(() => provisional.length === 1, 'the 180');
    controller.abort();
    const error = await within(callP, 5000, 'invite()');
    expect(error).toBeInstanceOf(SipCallError);
    expect(error).toMatchObject({ status: 487, reason: 'cancelled (answered before the CANCEL took; BYE sent)' });
    const ack = await p.nextAck();
    expect(toTag(ack)).toBe('late');
    expect(cseqOf(ack)).toEqual({ seq, method: 'ACK' });
    const { request: bye, tx: byeTx } = await p.next('BYE');
    byeTx.respond(reply(bye, 200, undefined));
    expect(toTag(bye)).toBe('late');
    expect(cseqOf(bye)).toEqual({ seq: seq + 1, method: 'BYE' });
    expect(getHeader(bye, 'Call-ID')).toBe(getHeader(invite, 'Call-ID'));
  });
});

describe('digest challenges inside a call (§22.2)', () => {
  const password = (user: string, realm: string) =>
    user === 'alice' && realm === 'faxline.test' ? 'secret' : undefined;

  it.each([
    [401, 'WWW-Authenticate', 'Authorization'],
    [407, 'Proxy-Authenticate', 'Proxy-Authorization'],
  ] as const)(
    'answers a %d on a re-INVITE (the ACK carries the credentials) and on a BYE',
    async (status, challenge, answer) => {
      const ua = await agent({ credentials: { username: 'alice', password: 'secret' } });
      const p = await peer();
      const { call } = await callOut(p, ua);
      const offer2 = sdp('1001', 2, 40002);
      const answer2 = sdp('2002', 2, 41002);
      const challengeValue = (nonce: string): SipHeader[] => [
        { name: challenge, value: `Digest realm="faxline.test", nonce="${nonce}", qop="auth", algorithm=MD5` },
      ];

      const reinviteP = call.reinvite(offer2);
      const first = await p.next('INVITE');
      expect(getHeader(first.request, answer)).toBeUndefined();
      first.tx.respond(reply(first.request, status, undefined, { headers: challengeValue('n-re') }));
      const second = await p.next('INVITE');
      const credentials = getHeader(second.request, answer)!;
      expect(verifyAuthorization(credentials, 'INVITE', password, (n) => n === 'n-re')).toBe(true);
      expect(cseqOf(second.request).seq).toBe(cseqOf(first.request).seq + 1);
      expect(second.request.body.toString()).toBe(offer2);
      second.tx.respond(reply(second.request, 200, undefined, { contact: p.contact, sdp: answer2 }));
      expect(await within(reinviteP, 5000, 'reinvite()')).toEqual({ status: 200, answer: answer2 });
      const ack = await p.nextAck();
      expect(cseqOf(ack)).toEqual({ seq: cseqOf(second.request).seq, method: 'ACK' });
      expect(getHeader(ack, answer)).toBe(credentials);

      const ended = once<CallEnd>(call, 'ended');
      const byeP = call.bye();
      const bye1 = await p.next('BYE');
      bye1.tx.respond(reply(bye1.request, status, undefined, { headers: challengeValue('n-bye') }));
      const bye2 = await p.next('BYE');
      expect(verifyAuthorization(getHeader(bye2.request, answer)!, 'BYE', password, (n) => n === 'n-bye')).toBe(true);
      expect(cseqOf(bye2.request).seq).toBe(cseqOf(bye1.request).seq + 1);
      bye2.tx.respond(reply(bye2.request, 200, undefined));
      await within(byeP, 5000, 'bye()');
      expect(await ended).toEqual({ by: 'local', status: 200, detail: 'BYE sent' });
    },
  );
});

describe('extensions and bodies we do not take (§8.2.2.3, §8.2.3)', () => {
  it('answers an INVITE with Require: 100rel 420 naming it in Unsupported, and the call never rings', async () => {
    const ua = await agent();
    const p = await peer();
    let calls = 0;
    ua.on('call', () => calls++);
    const invite = outOfDialog(p, ua, 'INVITE', [{ name: 'Require', value: '100rel, timer' }], {
      type: 'application/sdp',
      text: OFFER,
    });
    const { final } = await p.send(invite, addressOf(ua));
    expect(final.status).toBe(420);
    expect(getHeaders(final, 'Unsupported')).toEqual(['100rel']);
    expect(calls).toBe(0);
  });

  it('answers a re-INVITE with Require: 100rel 420, and the call goes on', async () => {
    const ua = await agent();
    const p = await peer();
    const { dialog, call } = await callIn(p, ua);
    let reinvites = 0;
    call.on('reinvite', () => reinvites++);
    const reinvite = dialog.buildRequest('INVITE', {
      headers: [
        { name: 'Contact', value: p.contact },
        { name: 'Require', value: '100rel' },
        { name: 'Content-Type', value: 'application/sdp' },
      ],
      body: Buffer.from(sdp('1001', 2, 40002)),
    });
    const { final } = await p.send(reinvite, addressOf(ua));
    expect(final.status).toBe(420);
    expect(getHeaders(final, 'Unsupported')).toEqual(['100rel']);
    expect(reinvites).toBe(0);
    expect(ua.stats().active).toBe(1);
  });

  it('answers an INVITE whose body is not SDP 415 with Accept: application/sdp', async () => {
    const ua = await agent();
    const p = await peer();
    let calls = 0;
    ua.on('call', () => calls++);
    const invite = outOfDialog(p, ua, 'INVITE', [], { type: 'text/plain', text: 'not a session' });
    const { final } = await p.send(invite, addressOf(ua));
    expect(final.status).toBe(415);
    expect(getHeader(final, 'Accept')).toBe('application/sdp');
    expect(calls).toBe(0);
  });

  it('answers a re-INVITE whose body is not SDP 415, keeping the session', async () => {
    const ua = await agent();
    const p = await peer();
    const { dialog, call } = await callIn(p, ua);
    const reinvite = dialog.buildRequest('INVITE', {
      headers: [
        { name: 'Contact', value: p.contact },
        { name: 'Content-Type', value: 'application/isup' },
      ],
      body: Buffer.from([0x01, 0x02]),
    });
    const { final } = await p.send(reinvite, addressOf(ua));
    expect(final.status).toBe(415);
    expect(getHeader(final, 'Accept')).toBe('application/sdp');
    expect(call.remoteSdp).toBe(OFFER);
    expect(call.localSdp).toBe(ANSWER);
  });
});

describe('session timers when the caller supports them but asks for none (RFC 4028 §9)', () => {
  it('answers without Session-Expires or Require: timer: the session has no timer', async () => {
    const ua = await agent();
    const p = await peer();
    let accepted: Promise<SipCall> | undefined;
    ua.once('call', (incoming: IncomingCall) => (accepted = incoming.accept(ANSWER)));
    const invite = outOfDialog(p, ua, 'INVITE', [{ name: 'Supported', value: 'timer' }], {
      type: 'application/sdp',
      text: OFFER,
    });
    const { final, sent } = await p.send(invite, addressOf(ua));
    expect(final.status).toBe(200);
    expect(getHeader(final, 'Session-Expires')).toBeUndefined();
    expect(getHeaders(final, 'Require')).toEqual([]);
    expect(getHeaders(final, 'Supported')).toEqual(['timer']);
    const dialog = Dialog.fromUac(sent, final);
    await p.layer.sendStateless(dialog.buildRequest('ACK', { cseq: cseqOf(sent).seq }), addressOf(ua));
    await within(accepted!, 5000, 'accept()');
  });
});

describe('BYE while a re-INVITE is unanswered (§15.1.2)', () => {
  it('theirs: the BYE gets 200, the pending re-INVITE 487, and a late accept() sends nothing', async () => {
    const ua = await agent();
    const p = await peer();
    const { dialog, call } = await callIn(p, ua);
    let held: { accept(answer: string): void } | undefined;
    call.on('reinvite', (_offer: string, r: { accept(answer: string): void }) => (held = r));
    const reinvite = dialog.buildRequest('INVITE', {
      headers: [
        { name: 'Contact', value: p.contact },
        { name: 'Content-Type', value: 'application/sdp' },
      ],
      body: Buffer.from(sdp('1001', 2, 40002)),
    });
    const reinviteP = p.send(reinvite, addressOf(ua));
    await until(() => held !== undefined, "the UA's 'reinvite'");
    const ended = once<CallEnd>(call, 'ended');
    const { final: byeFinal } = await p.send(dialog.buildRequest('BYE'), addressOf(ua));
    expect(byeFinal.status).toBe(200);
    expect((await reinviteP).final.status).toBe(487);
    expect(await ended).toEqual({ by: 'remote', detail: 'BYE from the peer' });
    held!.accept(sdp('2002', 2, 41002));
    // An OPTIONS round trip after the late accept(): anything it sent would have arrived first.
    expect((await p.send(outOfDialog(p, ua, 'OPTIONS'), addressOf(ua))).final.status).toBe(200);
    const inviteSeq = cseqOf(reinvite).seq;
    const oks = p.wire.filter(
      (m) => m.type === 'response' && m.status === 200 && cseqOf(m).method === 'INVITE' && cseqOf(m).seq === inviteSeq,
    );
    expect(oks).toEqual([]);
  });

  it('ours: bye() ends the call and reinvite() rejects with 481 at once, not after the INVITE’s own bounds', async () => {
    const ua = await agent();
    const p = await peer();
    const { call } = await callOut(p, ua);
    const reinviteP = call.reinvite(sdp('1001', 2, 40002)).catch((e: unknown) => e);
    await p.next('INVITE'); // never answered: the peer's layer sends 100 Trying, no final
    const byeP = call.bye();
    const { request: bye, tx } = await p.next('BYE');
    tx.respond(reply(bye, 200, undefined));
    await within(byeP, 5000, 'bye()');
    const error = await within(reinviteP, 2000, 'reinvite()');
    expect(error).toBeInstanceOf(SipCallError);
    expect(error).toMatchObject({ status: 481, reason: 'the call ended while the re-INVITE was pending' });
  });
});

describe('a second re-INVITE while the first is unanswered (§14.2)', () => {
  it('answers 500 with a Retry-After of 0 to 10 s, and the first still completes', async () => {
    const ua = await agent();
    const p = await peer();
    const { dialog, call } = await callIn(p, ua);
    let held: { accept(answer: string): void } | undefined;
    call.on('reinvite', (_offer: string, r: { accept(answer: string): void }) => (held = r));
    const build = (version: number): SipRequest =>
      dialog.buildRequest('INVITE', {
        headers: [
          { name: 'Contact', value: p.contact },
          { name: 'Content-Type', value: 'application/sdp' },
        ],
        body: Buffer.from(sdp('1001', version, 40002)),
      });
    const firstP = p.send(build(2), addressOf(ua));
    await until(() => held !== undefined, "the UA's 'reinvite'");
    const { final: second } = await p.send(build(3), addressOf(ua));
    expect(second.status).toBe(500);
    const retryAfter = Number(getHeader(second, 'Retry-After'));
    expect(Number.isInteger(retryAfter) && retryAfter >= 0 && retryAfter <= 10).toBe(true);
    held!.accept(sdp('2002', 2, 41002));
    const { final, sent } = await firstP;
    expect(final.status).toBe(200);
    await p.layer.sendStateless(dialog.buildRequest('ACK', { cseq: cseqOf(sent).seq }), addressOf(ua));
  });
});

describe('a re-INVITE without SDP (§14.2: the offer is ours in the 2xx, the answer in the ACK)', () => {
  it('offers the SDP in force unchanged, takes the ACK’s answer as the remote SDP, and emits refresh', async () => {
    const ua = await agent();
    const p = await peer();
    const { dialog, call } = await callIn(p, ua);
    let reinvites = 0;
    call.on('reinvite', () => reinvites++);
    const refreshed = once<void>(call, 'refresh');
    const reinvite = dialog.buildRequest('INVITE', { headers: [{ name: 'Contact', value: p.contact }] });
    const { final, sent } = await p.send(reinvite, addressOf(ua));
    expect(final.status).toBe(200);
    expect(getHeader(final, 'Content-Type')).toBe('application/sdp');
    expect(final.body.toString()).toBe(ANSWER);
    const answerInAck = sdp('1001', 2, 40010);
    await p.layer.sendStateless(
      dialog.buildRequest('ACK', {
        cseq: cseqOf(sent).seq,
        headers: [{ name: 'Content-Type', value: 'application/sdp' }],
        body: Buffer.from(answerInAck),
      }),
      addressOf(ua),
    );
    await refreshed;
    expect(call.remoteSdp).toBe(answerInAck);
    expect(call.localSdp).toBe(ANSWER);
    expect(reinvites).toBe(0);
  });
});

describe('UPDATE (RFC 3311) inside a call', () => {
  it('answers an identical offer with the SDP in force, and a new offer 488 (it cannot change our media)', async () => {
    const ua = await agent();
    const p = await peer();
    const { dialog, call } = await callIn(p, ua);
    const update = (body: string): SipRequest =>
      dialog.buildRequest('UPDATE', {
        headers: [
          { name: 'Contact', value: p.contact },
          { name: 'Content-Type', value: 'application/sdp' },
        ],
        body: Buffer.from(body),
      });
    const same = (await p.send(update(OFFER), addressOf(ua))).final;
    expect(same.status).toBe(200);
    expect(same.body.toString()).toBe(ANSWER);
    const changed = (await p.send(update(sdp('1001', 2, 40002)), addressOf(ua))).final;
    expect(changed.status).toBe(488);
    expect(changed.body.length).toBe(0);
    expect(call.remoteSdp).toBe(OFFER);
  });
});

describe('Max-Forwards on requests addressed to us (§16.3 is a forwarding rule)', () => {
  it('answers OPTIONS with Max-Forwards: 0 as its final recipient (200), and offers such an INVITE to the application', async () => {
    const ua = await agent();
    const p = await peer();
    const options = outOfDialog(p, ua, 'OPTIONS');
    options.headers = options.headers.map((h) => (h.name === 'Max-Forwards' ? { ...h, value: '0' } : h));
    expect((await p.send(options, addressOf(ua))).final.status).toBe(200);
    const calls: IncomingCall[] = [];
    ua.on('call', (incoming: IncomingCall) => {
      calls.push(incoming);
      incoming.reject(486);
    });
    const invite = outOfDialog(p, ua, 'INVITE', [], { type: 'application/sdp', text: OFFER });
    invite.headers = invite.headers.map((h) => (h.name === 'Max-Forwards' ? { ...h, value: '0' } : h));
    expect((await p.send(invite, addressOf(ua))).final.status).toBe(486);
    expect(calls).toHaveLength(1);
    expect(getHeader(calls[0].request, 'Max-Forwards')).toBe('0');
  });
});

describe('the responses that make a dialog (§12.1.1)', () => {
  it('carry one To tag on 180 and 200, a Contact, and the Record-Route in order; our BYE follows that route', async () => {
    const ua = await agent();
    const p = await peer();
    const rr = [`<sip:${HOST}:${p.port};lr;ftag=x>`, `<sip:proxy2.invalid;lr>`];
    let incoming: IncomingCall | undefined;
    ua.once('call', (c: IncomingCall) => (incoming = c));
    const invite = outOfDialog(p, ua, 'INVITE', [{ name: 'Record-Route', value: rr.join(', ') }], {
      type: 'application/sdp',
      text: OFFER,
    });
    const responses: SipResponse[] = [];
    const finalP = new Promise<{ final: SipResponse; sent: SipRequest }>((resolve, reject) => {
      const tx = p.layer.sendRequest(invite, addressOf(ua), {
        onResponse: (r) => {
          responses.push(r);
          if (r.status >= 200) resolve({ final: r, sent: tx.request });
        },
        onTimeout: () => reject(new Error('no final response')),
        onTransportError: reject,
      });
    });
    await until(() => incoming !== undefined, "the UA's 'call'");
    incoming!.progress(180);
    const acceptedP = incoming!.accept(ANSWER);
    const { final, sent } = await within(finalP, 5000, 'the 200');
    const ringing = responses.find((r) => r.status === 180)!;
    const contact = `<sip:faxline@${HOST}:${addressOf(ua).port}>`;
    for (const r of [ringing, final]) {
      expect(toTag(r)).toBe(toTag(final));
      expect(getHeader(r, 'Contact')).toBe(contact);
      expect(getHeaders(r, 'Record-Route')).toEqual(rr);
    }
    expect(toTag(final)).toMatch(/^[0-9a-f]{16}$/);
    const dialog = Dialog.fromUac(sent, final);
    await p.layer.sendStateless(dialog.buildRequest('ACK', { cseq: cseqOf(sent).seq }), addressOf(ua));
    const call = await within(acceptedP, 5000, 'accept()');
    const byeP = call.bye();
    const { request: bye, tx } = await p.next('BYE');
    tx.respond(reply(bye, 200, undefined));
    await within(byeP, 5000, 'bye()');
    expect(bye.uri).toBe(`sip:peer@${HOST}:${p.port}`);
    expect(getHeaders(bye, 'Route')).toEqual(rr);
  });
});

describe('the INVITE we send (§8.1.1, §19.1.5)', () => {
  it('keeps URI headers and the method parameter out of the Request-URI and To', async () => {
    const ua = await agent();
    const p = await peer();
    const callP = ua.invite({ to: `${p.uri};method=INVITE?Subject=fax`, offer: OFFER }).catch((e: unknown) => e);
    const { request, tx } = await p.next('INVITE');
    tx.respond(reply(request, 486, undefined));
    expect(await within(callP, 5000, 'invite()')).toMatchObject({ status: 486 });
    expect(request.uri).toBe(p.uri);
    expect(getHeader(request, 'To')).toBe(`<${p.uri}>`);
  });
});
