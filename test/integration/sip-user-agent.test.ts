import { verifyAuthorization } from '../../lib/sip/digest';
import { SipCallError } from '../../lib/sip/errors';
import { tagOf, uriAddress } from '../../lib/sip/dialog';
import {
  addHeader,
  formatVia,
  getHeader,
  getHeaders,
  makeResponse,
  parseCSeq,
  parseNameAddr,
  parseUri,
  parseVia,
  removeHeader,
  setHeader,
  type SipMessage,
  type SipRequest,
  type SipResponse,
} from '../../lib/sip/message';
import { TransactionLayer, type Clock } from '../../lib/sip/transaction';
import { SipTransport, type SipAddress } from '../../lib/sip/transport';
import {
  SipUserAgent,
  type CallEnd,
  type IncomingCall,
  type SipCall,
  type UserAgentOptions,
} from '../../lib/sip/user-agent';
import { ANSWER, FAST, OFFER, once, sdp } from '../helpers/sip-ua';

type Wrapped = Pick<SipTransport, 'send' | 'local' | 'on' | 'off'>;

/** A transport seen through a filter: `drop` decides which outgoing messages never leave. */
function filtering(t: SipTransport, drop: (m: SipMessage) => boolean) {
  const sent: SipMessage[] = [];
  const dropped: SipMessage[] = [];
  const wrapper: Wrapped = {
    send: (m: SipMessage, to: SipAddress) => {
      sent.push(m);
      if (drop(m)) {
        dropped.push(m);
        return Promise.resolve();
      }
      return t.send(m, to);
    },
    local: (kind) => t.local(kind),
    on: (event, listener) => t.on(event, listener),
    off: (event, listener) => t.off(event, listener),
  };
  return { wrapper, sent, dropped };
}

/** A clock on Node's timers that records every delay asked of it and runs them `factor` times faster. */
function recordingClock(factor = 1): Clock & { delays: number[] } {
  const delays: number[] = [];
  return {
    delays,
    now: () => Date.now(),
    setTimeout: (fn, ms) => {
      delays.push(ms);
      return setTimeout(fn, ms / factor);
    },
    clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
  };
}

interface Agent {
  ua: SipUserAgent;
  transport: SipTransport;
  /** A SIP URI that reaches this agent. */
  uri: string;
}

const agents: SipUserAgent[] = [];

async function agent(
  options: Partial<Omit<UserAgentOptions, 'transport'>> & {
    tcp?: boolean;
    wrap?: (t: SipTransport) => Wrapped;
  } = {},
): Promise<Agent> {
  const { tcp, wrap, ...rest } = options;
  const transport = await SipTransport.open(
    tcp ? { tcp: { host: '127.0.0.1', port: 0 } } : { udp: { host: '127.0.0.1', port: 0 } },
  );
  const timers = { ...FAST, ...(rest.timers ?? {}) };
  const transactions = wrap ? new TransactionLayer(wrap(transport), { timers, clock: rest.clock }) : undefined;
  const ua = new SipUserAgent({ transport, transactions, ...rest, timers });
  agents.push(ua);
  const port = transport.local(tcp ? 'tcp' : 'udp').port;
  return { ua, transport, uri: `sip:fax@127.0.0.1:${port}${tcp ? ';transport=tcp' : ''}` };
}

afterEach(async () => {
  await Promise.all(agents.splice(0).map((ua) => ua.close()));
});

/** A calls B; B answers with ANSWER. Resolves both ends. */
async function connect(a: Agent, b: Agent): Promise<{ caller: SipCall; callee: SipCall; incoming: IncomingCall }> {
  const incomingP = once<IncomingCall>(b.ua, 'call');
  const callerP = a.ua.invite({ to: b.uri, offer: OFFER });
  const incoming = await incomingP;
  const callee = await incoming.accept(ANSWER);
  const caller = await callerP;
  return { caller, callee, incoming };
}

describe('call set-up and BYE', () => {
  it('establishes a call over UDP with the offer and answer exchanged, and ends it with BYE from the caller', async () => {
    const a = await agent();
    const b = await agent();
    const { caller, callee, incoming } = await connect(a, b);
    expect(incoming.offer).toBe(OFFER);
    expect(incoming.requestUri.user).toBe('fax');
    expect(incoming.from.params.tag).toBeDefined();
    expect(getHeader(incoming.request, 'Max-Forwards')).toBe('70');
    expect(getHeader(incoming.request, 'Supported')).toBe('timer');
    expect(getHeader(incoming.request, 'Session-Expires')).toBe('1800');
    expect(getHeader(incoming.request, 'Contact')).toBe(`<sip:faxline@127.0.0.1:${a.transport.local('udp').port}>`);
    expect(caller.remoteSdp).toBe(ANSWER);
    expect(caller.localSdp).toBe(OFFER);
    expect(callee.remoteSdp).toBe(OFFER);
    expect(caller.direction).toBe('out');
    expect(callee.direction).toBe('in');
    expect(caller.callId).toBe(callee.callId);
    expect(a.ua.stats().active).toBe(1);
    expect(b.ua.stats().active).toBe(1);

    const calleeEnded = once<CallEnd>(callee, 'ended');
    const callerEnded = once<CallEnd>(caller, 'ended');
    await caller.bye();
    expect(await callerEnded).toEqual({ by: 'local', status: 200, detail: 'BYE sent' });
    expect(await calleeEnded).toEqual({ by: 'remote', detail: 'BYE from the peer' });
    expect(a.ua.stats()).toMatchObject({ callsOut: 1, active: 0 });
    expect(b.ua.stats()).toMatchObject({ callsIn: 1, active: 0 });
  });

  it('ends the call with BYE from the callee', async () => {
    const a = await agent();
    const b = await agent();
    const { caller, callee } = await connect(a, b);
    const callerEnded = once<CallEnd>(caller, 'ended');
    await callee.bye();
    expect((await callerEnded).by).toBe('remote');
  });

  it('works over TCP', async () => {
    const a = await agent({ tcp: true });
    const b = await agent({ tcp: true });
    const { caller, callee, incoming } = await connect(a, b);
    expect(getHeader(incoming.request, 'Contact')).toBe(
      `<sip:faxline@127.0.0.1:${a.transport.local('tcp').port};transport=tcp>`,
    );
    expect(caller.remoteSdp).toBe(ANSWER);
    const calleeEnded = once<CallEnd>(callee, 'ended');
    await caller.bye();
    expect((await calleeEnded).by).toBe('remote');
  });

  it('rejects with SipCallError 486 when the callee is busy', async () => {
    const a = await agent();
    const b = await agent();
    b.ua.on('call', (incoming: IncomingCall) => incoming.reject(486));
    const error = await a.ua.invite({ to: b.uri, offer: OFFER }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SipCallError);
    expect(error).toMatchObject({ status: 486, reason: 'Busy Here', code: 'ERR_FAXLINE_SIP_CALL' });
    expect(a.ua.stats().rejected).toBe(1);
    expect(b.ua.stats().rejected).toBe(1);
  });
});

describe('CANCEL', () => {
  it('cancels after a 180: the caller gets 487, the callee "cancelled"', async () => {
    const a = await agent();
    const b = await agent();
    const controller = new AbortController();
    let cancelled = false;
    b.ua.on('call', (incoming: IncomingCall) => {
      incoming.on('cancelled', () => (cancelled = true));
      incoming.progress(180);
    });
    const provisional: number[] = [];
    const error = await a.ua
      .invite({
        to: b.uri,
        offer: OFFER,
        signal: controller.signal,
        onProvisional: (status) => {
          provisional.push(status);
          controller.abort();
        },
      })
      .catch((e: unknown) => e);
    expect(provisional).toEqual([180]);
    expect(error).toMatchObject({ status: 487 });
    expect(cancelled).toBe(true);
  });

  it('cancels before any provisional: the CANCEL waits for the 100 Trying', async () => {
    const a = await agent();
    const b = await agent();
    const controller = new AbortController();
    const cancelledP = new Promise<void>((resolve) =>
      b.ua.on('call', (incoming: IncomingCall) => {
        incoming.on('cancelled', resolve);
        controller.abort();
      }),
    );
    const error = await a.ua.invite({ to: b.uri, offer: OFFER, signal: controller.signal }).catch((e: unknown) => e);
    expect(error).toMatchObject({ status: 487 });
    await cancelledP;
  });
});

describe('re-INVITE', () => {
  it('sends a new offer both ways and takes the answer', async () => {
    const a = await agent();
    const b = await agent();
    const { caller, callee } = await connect(a, b);
    const offer2 = sdp('1001', 2, 40002);
    const answer2 = sdp('2002', 2, 41002);
    callee.on('reinvite', (offer: string, reply: { accept(answer: string): void }) => {
      expect(offer).toBe(offer2);
      reply.accept(answer2);
    });
    expect(await caller.reinvite(offer2)).toEqual({ status: 200, answer: answer2 });
    expect(caller.localSdp).toBe(offer2);
    expect(caller.remoteSdp).toBe(answer2);
    expect(callee.localSdp).toBe(answer2);
    expect(callee.remoteSdp).toBe(offer2);

    const offer3 = sdp('2002', 3, 41004);
    const answer3 = sdp('1001', 3, 40004);
    caller.on('reinvite', (_offer: string, reply: { accept(answer: string): void }) => reply.accept(answer3));
    expect(await callee.reinvite(offer3)).toEqual({ status: 200, answer: answer3 });
    expect(caller.remoteSdp).toBe(offer3);
  });

  it('resolves the status when the peer refuses the offer (488), keeping the session', async () => {
    const a = await agent();
    const b = await agent();
    const { caller, callee } = await connect(a, b);
    callee.on('reinvite', (_o: string, reply: { reject(status: number): void }) => reply.reject(488));
    expect(await caller.reinvite(sdp('1001', 2, 40002))).toEqual({ status: 488, answer: null });
    expect(caller.localSdp).toBe(OFFER);
    expect(caller.remoteSdp).toBe(ANSWER);
  });

  it('answers a refresh (the same SDP again) itself with "refresh", never "reinvite"', async () => {
    const a = await agent();
    const b = await agent();
    const { caller, callee } = await connect(a, b);
    let reinvites = 0;
    callee.on('reinvite', () => reinvites++);
    const refreshed = once<void>(callee, 'refresh');
    expect(await caller.reinvite(OFFER)).toEqual({ status: 200, answer: ANSWER });
    await refreshed;
    expect(reinvites).toBe(0);
    expect(callee.localSdp).toBe(ANSWER);
  });

  it('resolves glare: both re-INVITE at once, each gets 491, the §14.1 back-offs let both succeed', async () => {
    // The caller owns the Call-ID: 2.1–4 s (random 0.5 → 2100 + 950 ms); the callee 0–2 s (0.05 → 100 ms).
    const clockA = recordingClock(4);
    const clockB = recordingClock(1);
    const a = await agent({ clock: clockA, random: () => 0.5 });
    const b = await agent({ clock: clockB, random: () => 0.05 });
    const { caller, callee } = await connect(a, b);
    const offerA = sdp('1001', 2, 40002);
    const offerB = sdp('2002', 2, 41002);
    const seenByA: string[] = [];
    const seenByB: string[] = [];
    caller.on('reinvite', (offer: string, reply: { accept(answer: string): void }) => {
      seenByA.push(offer);
      reply.accept(sdp('1001', 3, 40003));
    });
    callee.on('reinvite', (offer: string, reply: { accept(answer: string): void }) => {
      seenByB.push(offer);
      reply.accept(sdp('2002', 3, 41003));
    });
    const [ra, rb] = await Promise.all([caller.reinvite(offerA), callee.reinvite(offerB)]);
    expect(rb).toEqual({ status: 200, answer: sdp('1001', 3, 40003) });
    expect(ra).toEqual({ status: 200, answer: sdp('2002', 3, 41003) });
    expect(seenByA).toEqual([offerB]);
    expect(seenByB).toEqual([offerA]);
    expect(clockA.delays).toContain(3050);
    expect(clockB.delays).toContain(100);
  });
});

describe('digest authentication', () => {
  const password = (user: string, realm: string) =>
    user === 'alice' && realm === 'faxline.test' ? 'secret' : undefined;

  it.each([
    [401, 'WWW-Authenticate', 'Authorization'],
    [407, 'Proxy-Authenticate', 'Proxy-Authorization'],
  ] as const)('answers a %d challenge once with credentials and gets the call', async (status, challenge, answer) => {
    const a = await agent({ credentials: { username: 'alice', password: 'secret' } });
    const b = await agent();
    const seen: (string | undefined)[] = [];
    let accepted: Promise<SipCall> | undefined;
    b.ua.on('call', (incoming: IncomingCall) => {
      const value = getHeader(incoming.request, answer);
      seen.push(value);
      if (value === undefined || !verifyAuthorization(value, 'INVITE', password, (n) => n === 'n-1')) {
        incoming.reject(status, undefined, [
          { name: challenge, value: 'Digest realm="faxline.test", nonce="n-1", qop="auth", algorithm=MD5' },
        ]);
        return;
      }
      accepted = incoming.accept(ANSWER);
    });
    const call = await a.ua.invite({ to: b.uri, offer: OFFER });
    expect(call.remoteSdp).toBe(ANSWER);
    expect((await accepted)?.callId).toBe(call.callId);
    expect(seen).toHaveLength(2);
    expect(seen[0]).toBeUndefined();
    expect(seen[1]).toMatch(/^Digest username="alice", realm="faxline.test", nonce="n-1", uri="sip:fax@127\.0\.0\.1:/);
  });

  it('gives up with the status when the same realm challenges again (wrong password)', async () => {
    const a = await agent({ credentials: { username: 'alice', password: 'wrong' } });
    const b = await agent();
    let challenges = 0;
    b.ua.on('call', (incoming: IncomingCall) => {
      challenges++;
      incoming.reject(401, undefined, [
        { name: 'WWW-Authenticate', value: 'Digest realm="faxline.test", nonce="n-2", algorithm=MD5' },
      ]);
    });
    const error = await a.ua.invite({ to: b.uri, offer: OFFER }).catch((e: unknown) => e);
    expect(error).toMatchObject({ status: 401 });
    expect(challenges).toBe(2);
  });
});

describe('session timers (RFC 4028)', () => {
  it('retries a 422 with the Min-SE asked for', async () => {
    const a = await agent({ sessionExpires: 2, minSE: 1 });
    const b = await agent({ minSE: 3 });
    const intervals: (string | undefined)[] = [];
    let accepted: Promise<SipCall> | undefined;
    b.ua.on('call', (incoming: IncomingCall) => {
      intervals.push(getHeader(incoming.request, 'Session-Expires'));
      accepted = incoming.accept(ANSWER);
    });
    const call = await a.ua.invite({ to: b.uri, offer: OFFER });
    await accepted;
    expect(intervals).toEqual(['3']);
    await call.bye();
  });

  it('refreshes at half the interval with the same SDP: the peer sees "refresh"', async () => {
    const a = await agent({ sessionExpires: 2, minSE: 1 });
    const b = await agent({ minSE: 1 });
    const { caller, callee } = await connect(a, b);
    await Promise.all([once<void>(caller, 'refreshed'), once<void>(callee, 'refresh')]);
    expect(callee.remoteSdp).toBe(OFFER);
  });

  it('ends the call with BYE when the refresher does not refresh', async () => {
    // The caller is the refresher (refresher=uac); its re-INVITEs never leave.
    const a = await agent({
      sessionExpires: 2,
      minSE: 1,
      wrap: (t) =>
        filtering(t, (m) => m.type === 'request' && m.method === 'INVITE' && /tag=/.test(getHeader(m, 'To')!)).wrapper,
    });
    const b = await agent({ minSE: 1 });
    const { caller, callee } = await connect(a, b);
    const callerEnded = once<CallEnd>(caller, 'ended');
    expect(await once<CallEnd>(callee, 'ended')).toEqual({
      by: 'timeout',
      status: 200,
      detail: 'session expired (RFC 4028) after 2 s',
    });
    expect((await callerEnded).by).toBe('remote');
  });
});

describe('the ACK of the 2xx', () => {
  it('retransmits the 2xx when the ACK is lost and completes on a later ACK', async () => {
    let acks = 0;
    const filter = { sent: [] as SipMessage[], dropped: [] as SipMessage[] };
    const a = await agent({
      wrap: (t) => {
        const f = filtering(t, (m) => m.type === 'request' && m.method === 'ACK' && ++acks === 1);
        filter.sent = f.sent;
        filter.dropped = f.dropped;
        return f.wrapper;
      },
    });
    const b = await agent();
    let oks = 0;
    a.transport.on('message', (m: SipMessage) => {
      if (m.type === 'response' && m.status === 200 && parseCSeq(getHeader(m, 'CSeq')!).method === 'INVITE') oks++;
    });
    const { caller, callee } = await connect(a, b);
    expect(filter.dropped).toHaveLength(1);
    expect(filter.sent.filter((m) => m.type === 'request' && m.method === 'ACK')).toHaveLength(2);
    expect(oks).toBeGreaterThanOrEqual(2);
    expect(callee.callId).toBe(caller.callId);
    await caller.bye();
  });

  it('sends BYE at 64*T1 when no ACK ever comes', async () => {
    const a = await agent({
      wrap: (t) => filtering(t, (m) => m.type === 'request' && m.method === 'ACK').wrapper,
    });
    const b = await agent({ timers: { T1: 10, T2: 80, T4: 100 } });
    const incomingP = once<IncomingCall>(b.ua, 'call');
    const callerP = a.ua.invite({ to: b.uri, offer: OFFER });
    const incoming = await incomingP;
    const endedP = once<CallEnd>(incoming, 'ended');
    const accepted = incoming.accept(ANSWER).catch((e: unknown) => e);
    const caller = await callerP;
    const callerEnded = once<CallEnd>(caller, 'ended');
    expect(await accepted).toMatchObject({ status: 408, reason: 'no ACK for the 2xx within 64*T1 (640 ms)' });
    expect(await endedP).toEqual({ by: 'timeout', detail: 'no ACK for the 2xx within 64*T1 (640 ms)' });
    expect(await callerEnded).toEqual({ by: 'remote', detail: 'BYE from the peer' });
  });
});

describe('requests outside a call', () => {
  it('answers OPTIONS 200, and 503 to OPTIONS and INVITE while draining', async () => {
    const a = await agent();
    const b = await agent();
    expect(await a.ua.options(b.uri)).toBe(200);
    b.ua.draining = true;
    expect(await a.ua.options(b.uri)).toBe(503);
    await expect(a.ua.invite({ to: b.uri, offer: OFFER })).rejects.toMatchObject({ status: 503 });
  });

  it('answers 481 to a request whose To tag matches no dialog, and 420 to an unknown Require', async () => {
    const b = await agent();
    const raw = await SipTransport.open({ udp: { host: '127.0.0.1', port: 0 } });
    const layer = new TransactionLayer(raw, { timers: FAST });
    try {
      const to: SipAddress = { transport: 'udp', host: '127.0.0.1', port: b.transport.local('udp').port };
      const send = (method: string, toTag: string, extra: { name: string; value: string }[] = []) =>
        new Promise<number>((resolve, reject) => {
          layer.sendRequest(
            {
              type: 'request',
              method,
              uri: b.uri,
              headers: [
                { name: 'Max-Forwards', value: '70' },
                { name: 'From', value: '<sip:x@127.0.0.1>;tag=f1' },
                { name: 'To', value: `<${b.uri}>${toTag}` },
                { name: 'Call-ID', value: `raw-${method}@127.0.0.1` },
                { name: 'CSeq', value: `1 ${method}` },
                { name: 'Contact', value: `<sip:x@127.0.0.1:${raw.local('udp').port}>` },
                ...extra,
              ],
              body: Buffer.alloc(0),
            },
            to,
            {
              onResponse: (r) => r.status >= 200 && resolve(r.status),
              onTimeout: () => reject(new Error('timeout')),
              onTransportError: reject,
            },
          );
        });
      expect(await send('BYE', ';tag=nosuch')).toBe(481);
      expect(await send('INVITE', '', [{ name: 'Require', value: '100rel' }])).toBe(420);
    } finally {
      layer.close();
      await raw.close();
    }
  });

  it('answers REGISTER with 405', async () => {
    const a = await agent();
    const b = await agent();
    await expect(a.ua.register(b.uri, 60)).rejects.toMatchObject({ status: 405 });
  });
});

/**
 * A stateless record-routing proxy on 127.0.0.1 at its own port (RFC 3261 §16.11), enough to carry
 * one call: it is "us" only when host AND port match, the rule the `sip` package gets wrong.
 */
async function sameHostProxy(): Promise<{ port: number; seen: string[]; transport: SipTransport }> {
  const transport = await SipTransport.open({ udp: { host: '127.0.0.1', port: 0 } });
  proxies.push(transport);
  const port = transport.local('udp').port;
  const isUs = (uri: { host: string; port?: number }) => uri.host === '127.0.0.1' && (uri.port ?? 5060) === port;
  const seen: string[] = [];
  transport.on('message', (m: SipMessage) => {
    const fwd = { ...m, headers: m.headers.map((h) => ({ ...h })) } as SipMessage;
    if (fwd.type === 'request') {
      seen.push(fwd.method);
      let routes = getHeaders(fwd, 'Route');
      if (routes.length > 0 && isUs(parseNameAddr(routes[0]).uri)) routes = routes.slice(1);
      removeHeader(fwd, 'Route');
      for (const r of routes) addHeader(fwd, 'Route', r);
      if (fwd.method === 'INVITE' && tagOf(getHeader(fwd, 'To')) === undefined)
        addHeader(fwd, 'Record-Route', `<sip:127.0.0.1:${port};lr>`, 'top');
      setHeader(fwd, 'Max-Forwards', String(Number(getHeader(fwd, 'Max-Forwards') ?? '70') - 1));
      const branch = `z9hG4bKpx${parseVia(getHeader(fwd, 'Via')!).params.branch}`;
      addHeader(
        fwd,
        'Via',
        formatVia({ transport: 'UDP', host: '127.0.0.1', port, params: { branch, rport: null } }),
        'top',
      );
      const next = routes.length > 0 ? parseNameAddr(routes[0]).uri : parseUri(fwd.uri);
      void transport.send(fwd, uriAddress(next)).catch(() => undefined);
    } else {
      seen.push(String(fwd.status));
      // Our Via is the top line (the transport checked it is ours by port); the next one is the way back.
      fwd.headers.splice(
        fwd.headers.findIndex((h) => h.name === 'Via'),
        1,
      );
      const via = parseVia(getHeader(fwd, 'Via')!);
      const back: SipAddress = {
        transport: 'udp',
        host: via.params.received ?? via.host,
        port: Number(via.params.rport ?? via.port ?? 5060),
      };
      void transport.send(fwd, back).catch(() => undefined);
    }
  });
  return { port, seen, transport };
}

const proxies: SipTransport[] = [];
afterEach(async () => {
  await Promise.all(proxies.splice(0).map((t) => t.close()));
});

describe('behind a proxy on the same host at another port', () => {
  it('routes the INVITE, its ACK and the BYE through the proxy and never takes the proxy for itself', async () => {
    const proxy = await sameHostProxy();
    const a = await agent({ outboundProxy: `sip:127.0.0.1:${proxy.port};lr` });
    const b = await agent();
    const incomingP = once<IncomingCall>(b.ua, 'call');
    const callerP = a.ua.invite({ to: b.uri, offer: OFFER });
    const incoming = await incomingP;
    // The callee sees the proxy (same host, another port) on top of the Vias and in Record-Route.
    expect(parseVia(getHeader(incoming.request, 'Via')!)).toMatchObject({ host: '127.0.0.1', port: proxy.port });
    expect(getHeaders(incoming.request, 'Record-Route')).toEqual([`<sip:127.0.0.1:${proxy.port};lr>`]);
    expect(getHeader(incoming.request, 'Max-Forwards')).toBe('69');
    const callee = await incoming.accept(ANSWER);
    const caller = await callerP;
    expect(caller.remoteSdp).toBe(ANSWER);

    const callerEnded = once<CallEnd>(caller, 'ended');
    await callee.bye();
    expect((await callerEnded).by).toBe('remote');
    expect(proxy.seen.filter((x) => /^[A-Z]/.test(x))).toEqual(['INVITE', 'ACK', 'BYE']);
    expect(proxy.seen.filter((x) => x === '200')).toHaveLength(2);
    expect(a.transport.stats().dropped).toBe(0);
    expect(b.transport.stats().dropped).toBe(0);

    // A response whose top Via is the proxy's (127.0.0.1 at the proxy's port) is not ours: dropped, counted.
    const stray: SipResponse = makeResponse(incoming.request as SipRequest, 200, 'OK', 'x');
    await proxy.transport.send(stray, { transport: 'udp', host: '127.0.0.1', port: b.transport.local('udp').port });
    await until(() => b.transport.stats().dropped === 1, 'the stray response dropped');
  });
});

/** Waits (5 s at most) until `condition` holds. */
async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
