import { Dialog, dialogId, incomingDialogId, tagOf, uriAddress } from '../../lib/sip/dialog';
import {
  getHeader,
  getHeaders,
  parseMessage,
  parseUri,
  type SipRequest,
  type SipResponse,
} from '../../lib/sip/message';

/** Joins lines with CRLF and ends the header block: a hand-written message as it would come off the wire. */
function wire(lines: string[], body = ''): Buffer {
  return Buffer.from(lines.join('\r\n') + '\r\n\r\n' + body);
}

const invite = parseMessage(
  wire([
    'INVITE sip:+15551234@pbx.example.net SIP/2.0',
    'Via: SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bKa1;rport',
    'Max-Forwards: 70',
    'From: "Fax" <sip:fax@192.0.2.10>;tag=loc1',
    'To: <sip:+15551234@pbx.example.net>',
    'Call-ID: c1@192.0.2.10',
    'CSeq: 314 INVITE',
    'Contact: <sip:fax@192.0.2.10:5062>',
    'Content-Length: 0',
  ]),
) as SipRequest;

/** A 200 that came through two record-routing proxies: p1 next to the caller, p2 next to the callee. */
const ok = parseMessage(
  wire([
    'SIP/2.0 200 OK',
    'Via: SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bKa1;rport=5062',
    'Record-Route: <sip:p2.example.net;lr>',
    'Record-Route: <sip:p1.example.net;lr;transport=tcp>',
    'From: "Fax" <sip:fax@192.0.2.10>;tag=loc1',
    'To: <sip:+15551234@pbx.example.net>;tag=rem9',
    'Call-ID: c1@192.0.2.10',
    'CSeq: 314 INVITE',
    'Contact: <sip:gw@198.51.100.7:5070;transport=udp>',
    'Content-Length: 0',
  ]),
) as SipResponse;

describe('dialog identity', () => {
  it('keys a dialog by Call-ID and both tags, and reads the receiver-side key of a request', () => {
    expect(dialogId('a', 'b', 'c')).toBe('a\nb\nc');
    expect(tagOf('<sip:x@h>;tag=zz')).toBe('zz');
    expect(tagOf('<sip:x@h>')).toBeUndefined();
    const bye = parseMessage(
      wire([
        'BYE sip:fax@192.0.2.10:5062 SIP/2.0',
        'Via: SIP/2.0/UDP 198.51.100.7:5070;branch=z9hG4bKb2',
        'From: <sip:+15551234@pbx.example.net>;tag=rem9',
        'To: "Fax" <sip:fax@192.0.2.10>;tag=loc1',
        'Call-ID: c1@192.0.2.10',
        'CSeq: 10 BYE',
        'Content-Length: 0',
      ]),
    ) as SipRequest;
    expect(incomingDialogId(bye)).toBe(dialogId('c1@192.0.2.10', 'loc1', 'rem9'));
    expect(incomingDialogId(invite)).toBeUndefined();
  });
});

describe('the UAC dialog (RFC 3261 §12.1.2)', () => {
  it('takes tags, the reversed Record-Route, the Contact and the INVITE CSeq', () => {
    const d = Dialog.fromUac(invite, ok);
    expect(d.id).toBe(dialogId('c1@192.0.2.10', 'loc1', 'rem9'));
    expect(d.state.isUac).toBe(true);
    expect(d.state.localSeq).toBe(314);
    expect(d.state.remoteSeq).toBeNull();
    expect(d.state.routeSet.map((r) => r.uri.host)).toEqual(['p1.example.net', 'p2.example.net']);
    expect(d.state.remoteTarget.host).toBe('198.51.100.7');
    expect(d.state.remoteTarget.port).toBe(5070);
  });

  it('builds a BYE with loose routing: Request-URI is the remote target, Route lists the whole set', () => {
    const d = Dialog.fromUac(invite, ok);
    const bye = d.buildRequest('BYE');
    expect(bye.method).toBe('BYE');
    expect(parseUri(bye.uri)).toMatchObject({ host: '198.51.100.7', port: 5070 });
    expect(getHeaders(bye, 'Route').map((r) => parseUri(r.replace(/^<|>$/g, '')).host)).toEqual([
      'p1.example.net',
      'p2.example.net',
    ]);
    expect(getHeader(bye, 'CSeq')).toBe('315 BYE');
    expect(getHeader(bye, 'Call-ID')).toBe('c1@192.0.2.10');
    expect(tagOf(getHeader(bye, 'From'))).toBe('loc1');
    expect(tagOf(getHeader(bye, 'To'))).toBe('rem9');
    expect(getHeader(bye, 'Max-Forwards')).toBe('70');
    expect(d.nextHopUri().host).toBe('p1.example.net');
    expect(uriAddress(d.nextHopUri())).toEqual({ transport: 'tcp', host: 'p1.example.net', port: 5060 });
  });

  it('keeps the INVITE CSeq number for the ACK and counts on for the next request', () => {
    const d = Dialog.fromUac(invite, ok);
    expect(getHeader(d.buildRequest('ACK', { cseq: 314 }), 'CSeq')).toBe('314 ACK');
    expect(getHeader(d.buildRequest('INVITE'), 'CSeq')).toBe('315 INVITE');
    expect(getHeader(d.buildRequest('BYE'), 'CSeq')).toBe('316 BYE');
  });

  it('without Record-Route sends straight to the Contact and has no Route header', () => {
    const plain = parseMessage(
      wire([
        'SIP/2.0 200 OK',
        'Via: SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bKa1',
        'From: <sip:fax@192.0.2.10>;tag=loc1',
        'To: <sip:+15551234@pbx.example.net>;tag=rem9',
        'Call-ID: c1@192.0.2.10',
        'CSeq: 314 INVITE',
        'Contact: <sip:gw@198.51.100.7:5070>',
        'Content-Length: 0',
      ]),
    ) as SipResponse;
    const d = Dialog.fromUac(invite, plain);
    const bye = d.buildRequest('BYE');
    expect(getHeaders(bye, 'Route')).toEqual([]);
    expect(uriAddress(d.nextHopUri())).toEqual({ transport: 'udp', host: '198.51.100.7', port: 5070 });
  });

  it('with a strict router first: Request-URI is that router, Route is the rest then the remote target', () => {
    const strict = parseMessage(
      wire([
        'SIP/2.0 200 OK',
        'Via: SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bKa1',
        'Record-Route: <sip:p2.example.net;lr>',
        'Record-Route: <sip:p1.example.net;method=INVITE>',
        'From: <sip:fax@192.0.2.10>;tag=loc1',
        'To: <sip:+15551234@pbx.example.net>;tag=rem9',
        'Call-ID: c1@192.0.2.10',
        'CSeq: 314 INVITE',
        'Contact: <sip:gw@198.51.100.7:5070>',
        'Content-Length: 0',
      ]),
    ) as SipResponse;
    const d = Dialog.fromUac(invite, strict);
    const bye = d.buildRequest('BYE');
    const ruri = parseUri(bye.uri);
    expect(ruri.host).toBe('p1.example.net');
    expect(ruri.params).not.toHaveProperty('method');
    const routes = getHeaders(bye, 'Route').map((r) => parseUri(r.replace(/^<|>$/g, '')));
    expect(routes.map((u) => [u.host, u.port])).toEqual([
      ['p2.example.net', undefined],
      ['198.51.100.7', 5070],
    ]);
    expect(d.nextHopUri().host).toBe('p1.example.net');
  });

  it('takes a new remote target from a target refresh', () => {
    const d = Dialog.fromUac(invite, ok);
    const reinvite = parseMessage(
      wire([
        'INVITE sip:fax@192.0.2.10:5062 SIP/2.0',
        'Via: SIP/2.0/UDP 198.51.100.8:5080;branch=z9hG4bKc3',
        'From: <sip:+15551234@pbx.example.net>;tag=rem9',
        'To: <sip:fax@192.0.2.10>;tag=loc1',
        'Call-ID: c1@192.0.2.10',
        'CSeq: 2 INVITE',
        'Contact: <sip:gw@198.51.100.8:5080>',
        'Content-Length: 0',
      ]),
    ) as SipRequest;
    d.refreshTarget(reinvite);
    expect(d.state.remoteTarget.host).toBe('198.51.100.8');
    expect(d.state.remoteTarget.port).toBe(5080);
  });
});

describe('the UAS dialog (RFC 3261 §12.1.1, §12.2.2)', () => {
  const incoming = parseMessage(
    wire([
      'INVITE sip:fax@192.0.2.10:5062 SIP/2.0',
      'Via: SIP/2.0/UDP p2.example.net;branch=z9hG4bKp2',
      'Via: SIP/2.0/UDP 198.51.100.7:5070;branch=z9hG4bKd4',
      'Record-Route: <sip:p2.example.net;lr>, <sip:p1.example.net;lr>',
      'From: "Caller" <sip:+15550000@pbx.example.net>;tag=far1',
      'To: <sip:fax@192.0.2.10>',
      'Call-ID: in-1@pbx',
      'CSeq: 7 INVITE',
      'Contact: <sip:gw@198.51.100.7:5070>',
      'Content-Length: 0',
    ]),
  ) as SipRequest;

  it('keeps Record-Route in order and the remote CSeq', () => {
    const d = Dialog.fromUas(incoming, 'our2', 100);
    expect(d.id).toBe(dialogId('in-1@pbx', 'our2', 'far1'));
    expect(d.state.isUac).toBe(false);
    expect(d.state.remoteSeq).toBe(7);
    expect(d.state.routeSet.map((r) => r.uri.host)).toEqual(['p2.example.net', 'p1.example.net']);
    const bye = d.buildRequest('BYE');
    expect(getHeader(bye, 'CSeq')).toBe('101 BYE');
    expect(tagOf(getHeader(bye, 'From'))).toBe('our2');
    expect(parseUri(getHeader(bye, 'From')!.replace(/^.*<|>.*$/g, '')).user).toBe('fax');
    expect(tagOf(getHeader(bye, 'To'))).toBe('far1');
    expect(parseUri(bye.uri).host).toBe('198.51.100.7');
    expect(d.nextHopUri().host).toBe('p2.example.net');
  });

  it('accepts a rising CSeq, refuses a lower one (the caller answers 500), and lets ACK through', () => {
    const d = Dialog.fromUas(incoming, 'our2', 100);
    const req = (seq: number, method: string): SipRequest =>
      parseMessage(
        wire([
          `${method} sip:fax@192.0.2.10:5062 SIP/2.0`,
          'Via: SIP/2.0/UDP 198.51.100.7:5070;branch=z9hG4bKe' + seq,
          'From: <sip:+15550000@pbx.example.net>;tag=far1',
          'To: <sip:fax@192.0.2.10>;tag=our2',
          'Call-ID: in-1@pbx',
          `CSeq: ${seq} ${method}`,
          'Content-Length: 0',
        ]),
      ) as SipRequest;
    expect(d.checkRemoteSeq(req(7, 'ACK'))).toBe('ok');
    expect(d.checkRemoteSeq(req(9, 'INVITE'))).toBe('ok');
    expect(d.state.remoteSeq).toBe(9);
    expect(d.checkRemoteSeq(req(8, 'BYE'))).toBe('out-of-order');
    expect(d.state.remoteSeq).toBe(9);
    expect(d.checkRemoteSeq(req(10, 'BYE'))).toBe('ok');
    expect(d.state.remoteSeq).toBe(10);
  });
});
