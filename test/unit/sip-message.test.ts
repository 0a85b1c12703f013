import {
  addHeader,
  formatNameAddr,
  formatUri,
  formatVia,
  getHeader,
  getHeaders,
  makeResponse,
  MAX_HEADER_LINE_BYTES,
  MAX_HEADERS,
  MAX_MESSAGE_BYTES,
  newBranch,
  newCallId,
  newTag,
  parseCSeq,
  parseMessage,
  parseNameAddr,
  parseUri,
  parseVia,
  removeHeader,
  serializeMessage,
  setHeader,
  setTopVia,
  SipParseError,
  SipStreamParser,
  type SipMessage,
  type SipRequest,
} from '../../lib/sip/message';
import { InvalidOptionError } from '../../lib/base/errors';

/** Lines joined with CRLF, the way SIP writes them; `body` follows the empty line. */
function sip(lines: string[], body = ''): Buffer {
  return Buffer.from(`${lines.join('\r\n')}\r\n\r\n${body}`, 'utf8');
}

/** The SipParseError `fn` throws (fails the test when it throws nothing or something else). */
function parseFailure(fn: () => unknown): SipParseError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(SipParseError);
    expect((error as SipParseError).code).toBe('ERR_FAXLINE_SIP_PARSE');
    return error as SipParseError;
  }
  throw new Error('expected a SipParseError');
}

// The headers every valid request in these tests carries, written by hand.
const BASE = [
  'Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKa1b2c3',
  'From: <sip:fax@192.0.2.10>;tag=77aa',
  'To: <sip:+15551234@pbx.example>',
  'Call-ID: c0ffee@192.0.2.10',
  'CSeq: 1 OPTIONS',
];

describe('parseMessage: requests', () => {
  test('an INVITE with an SDP body parses to its exact start line, headers and body', () => {
    const sdp = 'v=0\r\no=- 1 1 IN IP4 192.0.2.10\r\ns=-\r\nc=IN IP4 192.0.2.10\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n';
    expect(Buffer.byteLength(sdp)).toBe(89);
    const m = parseMessage(
      sip(
        [
          'INVITE sip:+15551234@pbx.example;user=phone SIP/2.0',
          'Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKa1b2c3;rport',
          'Max-Forwards: 70',
          'From: "Fax" <sip:fax@192.0.2.10>;tag=77aa',
          'To: <sip:+15551234@pbx.example>',
          'Call-ID: c0ffee@192.0.2.10',
          'CSeq: 1 INVITE',
          'Contact: <sip:fax@192.0.2.10:5060>',
          'Content-Type: application/sdp',
          'Content-Length: 89',
        ],
        sdp,
      ),
    );
    expect(m).toEqual({
      type: 'request',
      method: 'INVITE',
      uri: 'sip:+15551234@pbx.example;user=phone',
      headers: [
        { name: 'Via', value: 'SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKa1b2c3;rport' },
        { name: 'Max-Forwards', value: '70' },
        { name: 'From', value: '"Fax" <sip:fax@192.0.2.10>;tag=77aa' },
        { name: 'To', value: '<sip:+15551234@pbx.example>' },
        { name: 'Call-ID', value: 'c0ffee@192.0.2.10' },
        { name: 'CSeq', value: '1 INVITE' },
        { name: 'Contact', value: '<sip:fax@192.0.2.10:5060>' },
        { name: 'Content-Type', value: 'application/sdp' },
        { name: 'Content-Length', value: '89' },
      ],
      body: Buffer.from(sdp),
    });
  });

  test('folded header lines join with one space (LWS continuation, §7.3.1)', () => {
    const m = parseMessage(
      sip([
        'OPTIONS sip:pbx.example SIP/2.0',
        ...BASE,
        'Subject: a fax',
        '   for  you,',
        '\tfolded twice',
        'Via:',
        ' SIP/2.0/UDP 198.51.100.7',
        ' ;branch=z9hG4bKfold',
      ]),
    );
    expect(getHeader(m, 'Subject')).toBe('a fax for  you, folded twice');
    expect(getHeaders(m, 'Via')).toEqual([
      'SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKa1b2c3',
      'SIP/2.0/UDP 198.51.100.7 ;branch=z9hG4bKfold',
    ]);
    expect(parseVia(getHeaders(m, 'Via')[1])).toEqual({
      transport: 'UDP',
      host: '198.51.100.7',
      params: { branch: 'z9hG4bKfold' },
    });
  });

  test('compact forms expand to their long names and names match case-insensitively', () => {
    const m = parseMessage(
      sip([
        'INVITE sip:b@pbx.example SIP/2.0',
        'v: SIP/2.0/TCP 192.0.2.10;branch=z9hG4bKc1',
        'f: <sip:a@192.0.2.10>;tag=1',
        't: <sip:b@pbx.example>',
        'i: compact@192.0.2.10',
        'cseq: 9 INVITE',
        'm: <sip:a@192.0.2.10;transport=tcp>',
        'k: timer',
        'x: 1800;refresher=uac',
        's: compact',
        'c: application/sdp',
        'wWw-aUtHeNtIcAtE: Digest realm="x", nonce="y"',
        'X-Custom-Thing: kept as written',
        'l: 0',
      ]),
    );
    expect(m.headers.map((h) => h.name)).toEqual([
      'Via',
      'From',
      'To',
      'Call-ID',
      'CSeq',
      'Contact',
      'Supported',
      'Session-Expires',
      'Subject',
      'Content-Type',
      'WWW-Authenticate',
      'X-Custom-Thing',
      'Content-Length',
    ]);
    expect(getHeader(m, 'i')).toBe('compact@192.0.2.10');
    expect(getHeader(m, 'CALL-ID')).toBe('compact@192.0.2.10');
    expect(getHeader(m, 'session-expires')).toBe('1800;refresher=uac');
    expect(getHeader(m, 'x-custom-thing')).toBe('kept as written');
    // WWW-Authenticate is not a comma list: its commas stay inside the one value.
    expect(getHeaders(m, 'WWW-Authenticate')).toEqual(['Digest realm="x", nonce="y"']);
  });

  test('multiple Vias in one header and across headers keep their order', () => {
    const m = parseMessage(
      sip([
        'BYE sip:a@192.0.2.10 SIP/2.0',
        'Via: SIP/2.0/UDP proxy2.example:5062;branch=z9hG4bK3 , SIP/2.0/UDP proxy1.example;branch=z9hG4bK2',
        'From: <sip:b@pbx.example>;tag=2',
        'To: <sip:a@192.0.2.10>;tag=1',
        'v: SIP/2.0/UDP [2001:db8::9]:5070;branch=z9hG4bK1;received=2001:db8::99;rport=5071',
        'Call-ID: vias@pbx.example',
        'CSeq: 3 BYE',
      ]),
    );
    const vias = getHeaders(m, 'Via').map((v) => parseVia(v));
    expect(vias).toEqual([
      { transport: 'UDP', host: 'proxy2.example', port: 5062, params: { branch: 'z9hG4bK3' } },
      { transport: 'UDP', host: 'proxy1.example', params: { branch: 'z9hG4bK2' } },
      {
        transport: 'UDP',
        host: '2001:db8::9',
        port: 5070,
        params: { branch: 'z9hG4bK1', received: '2001:db8::99', rport: '5071' },
      },
    ]);
    expect(getHeader(m, 'Via')).toBe('SIP/2.0/UDP proxy2.example:5062;branch=z9hG4bK3');
  });

  test('quoted commas and <> commas do not split a Contact list', () => {
    const m = parseMessage(
      sip([
        'REGISTER sip:pbx.example SIP/2.0',
        'Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKr',
        'From: "Doe, John \\"JD\\"" <sip:jd@pbx.example>;tag=9',
        'To: "Doe, John \\"JD\\"" <sip:jd@pbx.example>',
        'Call-ID: reg@192.0.2.10',
        'CSeq: 2 REGISTER',
        'Contact: "Doe, John" <sip:jd@192.0.2.10?subject=a,b>;expires=60, <sip:jd@198.51.100.1>;q=0.5',
      ]),
    );
    expect(getHeaders(m, 'Contact')).toEqual([
      '"Doe, John" <sip:jd@192.0.2.10?subject=a,b>;expires=60',
      '<sip:jd@198.51.100.1>;q=0.5',
    ]);
    expect(parseNameAddr(getHeader(m, 'From')!)).toEqual({
      displayName: 'Doe, John "JD"',
      uri: { scheme: 'sip', user: 'jd', host: 'pbx.example', params: {}, headers: {} },
      params: { tag: '9' },
    });
    expect(parseNameAddr(getHeaders(m, 'Contact')[0]).uri.headers).toEqual({ subject: 'a,b' });
  });

  test('unusual spacing: spaces around : in names, around / ; = in Via, around :port', () => {
    const m = parseMessage(
      sip([
        'OPTIONS sip:pbx.example SIP/2.0',
        'Via   :   SIP / 2.0 / UDP 192.0.2.10 : 5080 ; branch = z9hG4bKsp ; rport ',
        'From:<sip:fax@192.0.2.10>;tag=77aa',
        'To :\t<sip:x@pbx.example>',
        'Call-ID: sp@192.0.2.10',
        'CSeq:   4711    OPTIONS',
        'Max-Forwards:70',
      ]),
    );
    expect(parseVia(getHeader(m, 'Via')!)).toEqual({
      transport: 'UDP',
      host: '192.0.2.10',
      port: 5080,
      params: { branch: 'z9hG4bKsp', rport: null },
    });
    expect(getHeader(m, 'To')).toBe('<sip:x@pbx.example>');
    expect(parseCSeq(getHeader(m, 'CSeq')!)).toEqual({ seq: 4711, method: 'OPTIONS' });
    expect(getHeader(m, 'Max-Forwards')).toBe('70');
  });

  test('leading CRLFs before the start line are ignored (§7.5)', () => {
    const m = parseMessage(Buffer.concat([Buffer.from('\r\n\r\n'), sip(['OPTIONS sip:pbx.example SIP/2.0', ...BASE])]));
    expect(m.type === 'request' && m.method).toBe('OPTIONS');
  });
});

describe('parseMessage: responses', () => {
  test('a 401 parses status, reason with spaces, and keeps the challenge whole', () => {
    const m = parseMessage(
      sip([
        'SIP/2.0 401 Unauthorized, please',
        'Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKa1b2c3;received=203.0.113.5;rport=6000',
        'From: <sip:fax@192.0.2.10>;tag=77aa',
        'To: <sip:+15551234@pbx.example>;tag=srv1',
        'Call-ID: c0ffee@192.0.2.10',
        'CSeq: 1 INVITE',
        'WWW-Authenticate: Digest realm="pbx.example", nonce="abc", qop="auth", algorithm=MD5',
        'Content-Length: 0',
      ]),
    );
    expect(m.type).toBe('response');
    if (m.type !== 'response') return;
    expect(m.status).toBe(401);
    expect(m.reason).toBe('Unauthorized, please');
    expect(getHeader(m, 'www-authenticate')).toBe('Digest realm="pbx.example", nonce="abc", qop="auth", algorithm=MD5');
    expect(m.body.length).toBe(0);
  });

  test('an empty reason phrase is allowed', () => {
    const m = parseMessage(sip(['SIP/2.0 200 ', ...BASE]));
    expect(m.type === 'response' && [m.status, m.reason]).toEqual([200, '']);
  });
});

describe('parseMessage: Content-Length on a datagram', () => {
  const head = ['MESSAGE sip:pbx.example SIP/2.0', ...BASE.slice(0, 4), 'CSeq: 1 MESSAGE'];

  test('absent: the body is the rest of the datagram, and Content-Length is added last with its length', () => {
    const m = parseMessage(sip(head, 'hello'));
    expect(m.body.toString()).toBe('hello');
    expect(m.headers[m.headers.length - 1]).toEqual({ name: 'Content-Length', value: '5' });
  });

  test('shorter than the body: the body is truncated to Content-Length', () => {
    const m = parseMessage(sip([...head, 'Content-Length: 3'], 'hello'));
    expect(m.body.toString()).toBe('hel');
  });

  test('with leading zeros: read as a number and written back plain', () => {
    const m = parseMessage(sip([...head, 'l: 0005'], 'hello'));
    expect(m.body.toString()).toBe('hello');
    expect(getHeader(m, 'Content-Length')).toBe('5');
  });

  test('longer than the datagram: rejected, with the headers kept for a 400', () => {
    const e = parseFailure(() => parseMessage(sip([...head, 'Content-Length: 6'], 'hello')));
    expect(e.reason).toBe('bad-content-length');
    expect(e.message).toBe('Content-Length 6 is longer than the 5 body bytes that arrived');
    expect(e.partial && getHeader(e.partial, 'Call-ID')).toBe('c0ffee@192.0.2.10');
    expect(e.partial?.body.length).toBe(0);
  });

  test.each(['-1', '5x', 'five', '', '0x05', '12345678901'])('"%s" is rejected as bad-content-length', (value) => {
    const e = parseFailure(() => parseMessage(sip([...head, `Content-Length: ${value}`], 'hello')));
    expect(e.reason).toBe('bad-content-length');
  });

  test('two Content-Length headers are rejected', () => {
    const e = parseFailure(() => parseMessage(sip([...head, 'Content-Length: 5', 'l: 5'], 'hello')));
    expect(e.reason).toBe('bad-content-length');
  });
});

describe('parseMessage: rejects what RFC 3261 does not allow, naming the fault', () => {
  test.each([
    ['INVITE  sip:a@b SIP/2.0', 'bad-start-line'],
    ['INVITE sip:a@b SIP/3.0', 'bad-start-line'],
    ['INVITE sip:a@b', 'bad-start-line'],
    ['SIP/2.0 2000 OK', 'bad-start-line'],
    ['SIP/2.0 099 Low', 'bad-start-line'],
    ['INV<ITE sip:a@b SIP/2.0', 'bad-start-line'],
    ['INVITE nouri SIP/2.0', 'bad-uri'],
    ['INVITE sip:a@[zz::1] SIP/2.0', 'bad-uri'],
    ['INVITE sip:a@host:99999 SIP/2.0', 'bad-uri'],
    ['INVITE sip:a%zz@host SIP/2.0', 'bad-uri'],
  ])('start line %j → %s', (line, reason) => {
    expect(parseFailure(() => parseMessage(sip([line, ...BASE]))).reason).toBe(reason);
  });

  test('a missing empty line after the headers is "truncated", headers kept', () => {
    const e = parseFailure(() => parseMessage(Buffer.from(`OPTIONS sip:pbx.example SIP/2.0\r\n${BASE.join('\r\n')}`)));
    expect(e.reason).toBe('truncated');
    expect(e.partial?.headers.length).toBe(5);
  });

  test('a header line without a colon is bad-header; the good lines are kept in partial', () => {
    const e = parseFailure(() => parseMessage(sip(['OPTIONS sip:pbx.example SIP/2.0', ...BASE, 'no colon here'])));
    expect(e.reason).toBe('bad-header');
    expect(e.partial?.headers.map((h) => h.name)).toEqual(['Via', 'From', 'To', 'Call-ID', 'CSeq']);
  });

  test('a NUL or bare LF inside a header line is bad-header', () => {
    expect(
      parseFailure(() => parseMessage(sip(['OPTIONS sip:pbx.example SIP/2.0', ...BASE, 'X-A: a\0b']))).reason,
    ).toBe('bad-header');
    expect(
      parseFailure(() => parseMessage(sip(['OPTIONS sip:pbx.example SIP/2.0', ...BASE, 'X-A: a\nb']))).reason,
    ).toBe('bad-header');
  });

  test.each([
    ['Via', 'missing-header', 'SIP message has no Via'],
    ['CSeq', 'missing-header', 'SIP message has no CSeq'],
    ['Call-ID', 'missing-header', 'SIP message has no usable Call-ID'],
    ['From', 'missing-header', 'SIP message has no From'],
    ['To', 'missing-header', 'SIP message has no To'],
  ])('without %s: %s', (name, reason, message) => {
    const lines = BASE.filter((l) => !l.startsWith(`${name}:`));
    const e = parseFailure(() => parseMessage(sip(['OPTIONS sip:pbx.example SIP/2.0', ...lines])));
    expect([e.reason, e.message]).toEqual([reason, message]);
  });

  test('a CSeq whose method differs from the request method is bad-cseq', () => {
    const lines = [...BASE.slice(0, 4), 'CSeq: 1 INVITE'];
    const e = parseFailure(() => parseMessage(sip(['OPTIONS sip:pbx.example SIP/2.0', ...lines])));
    expect([e.reason, e.message]).toEqual(['bad-cseq', 'CSeq method INVITE differs from the request method OPTIONS']);
  });

  test('a broken Via is bad-via, a broken To is bad-name-addr', () => {
    const badVia = ['Via: SIP/2.0/UDP', ...BASE.slice(1)];
    expect(parseFailure(() => parseMessage(sip(['OPTIONS sip:pbx.example SIP/2.0', ...badVia]))).reason).toBe(
      'bad-via',
    );
    const badTo = [...BASE.slice(0, 2), 'To: "unclosed <sip:a@b>', ...BASE.slice(3)];
    expect(parseFailure(() => parseMessage(sip(['OPTIONS sip:pbx.example SIP/2.0', ...badTo]))).reason).toBe(
      'bad-name-addr',
    );
  });
});

describe('parseMessage: bounds, each named in its error', () => {
  test(`more than MAX_HEADERS (${MAX_HEADERS}) header lines`, () => {
    const extra = Array.from({ length: MAX_HEADERS }, (_, i) => `X-H${i}: ${i}`);
    const e = parseFailure(() => parseMessage(sip(['OPTIONS sip:pbx.example SIP/2.0', ...BASE, ...extra])));
    expect(e.reason).toBe('too-many-headers');
    expect(e.message).toBe('SIP message has more than MAX_HEADERS (256) header lines');
    expect(e.partial?.headers.length).toBe(256);
  });

  test(`a header line longer than MAX_HEADER_LINE_BYTES (${MAX_HEADER_LINE_BYTES}), also when folded`, () => {
    const long = `X-Long: ${'a'.repeat(MAX_HEADER_LINE_BYTES)}`;
    const e = parseFailure(() => parseMessage(sip(['OPTIONS sip:pbx.example SIP/2.0', ...BASE, long])));
    expect([e.reason, e.message]).toEqual([
      'header-too-long',
      'SIP header line longer than MAX_HEADER_LINE_BYTES (8192)',
    ]);
    const folded = ['X-Long: a', ...Array.from({ length: 2000 }, () => ' bbbbb')];
    expect(parseFailure(() => parseMessage(sip(['OPTIONS sip:pbx.example SIP/2.0', ...BASE, ...folded]))).reason).toBe(
      'header-too-long',
    );
  });

  test(`a header line of exactly MAX_HEADER_LINE_BYTES is accepted`, () => {
    const name = 'X-Long: ';
    const m = parseMessage(
      sip(['OPTIONS sip:pbx.example SIP/2.0', ...BASE, name + 'a'.repeat(MAX_HEADER_LINE_BYTES - name.length)]),
    );
    expect(getHeader(m, 'X-Long')!.length).toBe(MAX_HEADER_LINE_BYTES - name.length);
  });

  test(`a datagram over MAX_MESSAGE_BYTES (${MAX_MESSAGE_BYTES})`, () => {
    const e = parseFailure(() =>
      parseMessage(sip(['MESSAGE sip:pbx.example SIP/2.0', ...BASE], 'x'.repeat(MAX_MESSAGE_BYTES))),
    );
    expect([e.reason, e.message]).toEqual(['message-too-large', 'SIP message larger than MAX_MESSAGE_BYTES (65535)']);
  });
});

describe('URIs (RFC 3261 §19.1, §25; tel RFC 3966)', () => {
  test('every part of a sip URI, escapes decoded', () => {
    expect(
      parseUri(
        'sip:%61lice%20b;x=1?y:p%40ss@[2001:db8::1]:5070;transport=TCP;lr;maddr=%32.0.0.1?Subject=hi%20there&Priority=urgent',
      ),
    ).toEqual({
      scheme: 'sip',
      user: 'alice b;x=1?y',
      password: 'p@ss',
      host: '2001:db8::1',
      port: 5070,
      params: { transport: 'TCP', lr: null, maddr: '2.0.0.1' },
      headers: { Subject: 'hi there', Priority: 'urgent' },
    });
  });

  test('a sips URI without user, and scheme letters of any case', () => {
    expect(parseUri('SIPS:pbx.example')).toEqual({ scheme: 'sips', host: 'pbx.example', params: {}, headers: {} });
  });

  test('a tel URI keeps its number in user and its params', () => {
    expect(parseUri('tel:+1-555-0100;phone-context=example.com')).toEqual({
      scheme: 'tel',
      user: '+1-555-0100',
      host: '',
      params: { 'phone-context': 'example.com' },
      headers: {},
    });
    expect(formatUri(parseUri('tel:+1-555-0100;phone-context=example.com'))).toBe(
      'tel:+1-555-0100;phone-context=example.com',
    );
  });

  test('formatUri escapes what must be escaped and brackets IPv6', () => {
    expect(
      formatUri({
        scheme: 'sip',
        user: 'a b@c',
        password: 'p:w',
        host: '::1',
        port: 5060,
        params: { transport: 'udp', lr: null },
        headers: { subject: 'a&b' },
      }),
    ).toBe('sip:a%20b%40c:p%3Aw@[::1]:5060;transport=udp;lr?subject=a%26b');
  });

  test('parse(format(u)) gives u back', () => {
    const u = parseUri('sip:%2B1%20555@pbx.example:5061;user=phone?x=%3F');
    expect(parseUri(formatUri(u))).toEqual(u);
  });

  test.each([
    'http://example.com',
    'sip:',
    'sip:@host',
    'sip:a@',
    'sip:a@host:',
    'sip:a@host:0',
    'sip:a@[::1',
    'sip:a@ho st',
    'sip:a@host?novalue',
    'sip:a%4@host',
    'sip:a@host;=x',
    'tel:',
  ])('%j is bad-uri', (text) => {
    expect(parseFailure(() => parseUri(text)).reason).toBe('bad-uri');
  });
});

describe('name-addr and addr-spec (§20.10)', () => {
  test('a quoted display name with escapes, URI params inside <>, header params outside', () => {
    expect(parseNameAddr('"A \\"quoted\\" \\\\ name" <sip:a@host;transport=tcp>;tag=abc;expires=60')).toEqual({
      displayName: 'A "quoted" \\ name',
      uri: { scheme: 'sip', user: 'a', host: 'host', params: { transport: 'tcp' }, headers: {} },
      params: { tag: 'abc', expires: '60' },
    });
  });

  test('a token display name (no quotes) and no space before <', () => {
    expect(parseNameAddr('Fax  Machine<sip:fax@host>')).toEqual({
      displayName: 'Fax Machine',
      uri: { scheme: 'sip', user: 'fax', host: 'host', params: {}, headers: {} },
      params: {},
    });
  });

  test('an addr-spec without <>: every ;param belongs to the header', () => {
    expect(parseNameAddr('sip:b@pbx.example;tag=xyz;user=phone')).toEqual({
      uri: { scheme: 'sip', user: 'b', host: 'pbx.example', params: {}, headers: {} },
      params: { tag: 'xyz', user: 'phone' },
    });
  });

  test('a quoted header parameter value keeps its quotes', () => {
    expect(parseNameAddr('<sip:a@h>;+sip.instance="<urn:uuid:1>";q=0.7').params).toEqual({
      '+sip.instance': '"<urn:uuid:1>"',
      q: '0.7',
    });
  });

  test('formatNameAddr quotes and escapes the display name and always writes <>', () => {
    const a = parseNameAddr('sip:b@pbx.example;tag=xyz');
    expect(formatNameAddr({ ...a, displayName: 'Doe, "J"' })).toBe('"Doe, \\"J\\"" <sip:b@pbx.example>;tag=xyz');
    expect(parseNameAddr(formatNameAddr({ ...a, displayName: 'Doe, "J"' })).displayName).toBe('Doe, "J"');
  });

  test.each(['"open <sip:a@b>', '"name" sip:a@b', '<sip:a@b', '<sip:a@b> junk', 'sip:a@b?x=1', 'Bad"Name <sip:a@b>'])(
    '%j is rejected',
    (text) => {
      expect(['bad-name-addr', 'bad-uri']).toContain(parseFailure(() => parseNameAddr(text)).reason);
    },
  );
});

describe('Via and CSeq', () => {
  test('an IPv6 Via with rport (no value) and received', () => {
    const v = parseVia('SIP/2.0/udp [2001:db8::10]:5060;rport;received=192.0.2.1;branch=z9hG4bKv6');
    expect(v).toEqual({
      transport: 'UDP',
      host: '2001:db8::10',
      port: 5060,
      params: { rport: null, received: '192.0.2.1', branch: 'z9hG4bKv6' },
    });
    expect(formatVia(v)).toBe('SIP/2.0/UDP [2001:db8::10]:5060;rport;received=192.0.2.1;branch=z9hG4bKv6');
  });

  test.each([
    'SIP/2.0/UDP',
    'SIP/1.0/UDP host',
    'SIP/2.0/UDP host:port',
    'SIP/2.0/UDP host;rport=70000',
    'SIP/2.0/UDP host;a b',
  ])('Via %j is bad-via', (text) => {
    expect(parseFailure(() => parseVia(text)).reason).toBe('bad-via');
  });

  test('CSeq: number and method; out-of-range or garbage is bad-cseq', () => {
    expect(parseCSeq('2147483647 INVITE')).toEqual({ seq: 2147483647, method: 'INVITE' });
    for (const bad of ['2147483648 INVITE', 'INVITE', '1', '-1 BYE', '1 IN VITE']) {
      expect(parseFailure(() => parseCSeq(bad)).reason).toBe('bad-cseq');
    }
  });
});

describe('serializeMessage', () => {
  test('writes exact bytes, with Content-Length from the body in place of the old one', () => {
    const m: SipRequest = {
      type: 'request',
      method: 'MESSAGE',
      uri: 'sip:b@pbx.example',
      headers: [
        { name: 'Via', value: 'SIP/2.0/UDP h;branch=z9hG4bK1' },
        { name: 'Content-Length', value: '999' },
        { name: 'Call-ID', value: 'x@h' },
      ],
      body: Buffer.from('hi'),
    };
    expect(serializeMessage(m).toString()).toBe(
      'MESSAGE sip:b@pbx.example SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nContent-Length: 2\r\nCall-ID: x@h\r\n\r\nhi',
    );
  });

  test('appends Content-Length when there is none, on a response too', () => {
    expect(
      serializeMessage({ type: 'response', status: 200, reason: 'OK', headers: [], body: Buffer.alloc(0) }).toString(),
    ).toBe('SIP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n');
  });

  test('refuses a header value or reason that would inject a line', () => {
    const m: SipMessage = { type: 'response', status: 200, reason: 'OK', headers: [], body: Buffer.alloc(0) };
    expect(() => serializeMessage({ ...m, headers: [{ name: 'X', value: 'a\r\nInjected: 1' }] })).toThrow(
      InvalidOptionError,
    );
    expect(() => serializeMessage({ ...m, reason: 'OK\r\nX: 1' })).toThrow(InvalidOptionError);
    expect(() => serializeMessage({ ...m, status: 700 })).toThrow(InvalidOptionError);
  });

  test('parse(serialize(parse(x))) equals parse(x) for a folded, compact message', () => {
    const once = parseMessage(
      sip(
        ['OPTIONS sip:pbx.example SIP/2.0', 'v: SIP/2.0/UDP h;branch=z9hG4bKf', ...BASE.slice(1), 's: a', ' b'],
        'xy',
      ),
    );
    expect(parseMessage(serializeMessage(once))).toEqual(once);
  });
});

describe('header access', () => {
  function options(): SipMessage {
    return parseMessage(sip(['OPTIONS sip:pbx.example SIP/2.0', ...BASE, 'Allow: INVITE, ACK', 'Allow: BYE']));
  }

  test('getHeaders splits list headers across lines; getHeader gives the first element', () => {
    const m = options();
    expect(getHeaders(m, 'allow')).toEqual(['INVITE', 'ACK', 'BYE']);
    expect(getHeader(m, 'Allow')).toBe('INVITE');
    expect(getHeader(m, 'Route')).toBeUndefined();
    expect(getHeaders(m, 'Route')).toEqual([]);
  });

  test('setHeader replaces every header of the name at the first one’s place', () => {
    const m = options();
    setHeader(m, 'allow', 'OPTIONS');
    expect(m.headers.map((h) => `${h.name}: ${h.value}`).slice(5)).toEqual(['Allow: OPTIONS', 'Content-Length: 0']);
    setHeader(m, 'x', '1800');
    expect(m.headers[m.headers.length - 1]).toEqual({ name: 'Session-Expires', value: '1800' });
  });

  test('addHeader top puts a new topmost Via; removeHeader removes all', () => {
    const m = options();
    addHeader(m, 'v', 'SIP/2.0/UDP proxy;branch=z9hG4bKtop', 'top');
    expect(getHeader(m, 'Via')).toBe('SIP/2.0/UDP proxy;branch=z9hG4bKtop');
    addHeader(m, 'X-Last', 'z');
    expect(m.headers[m.headers.length - 1]).toEqual({ name: 'X-Last', value: 'z' });
    removeHeader(m, 'VIA');
    expect(getHeaders(m, 'Via')).toEqual([]);
  });

  test('setTopVia rewrites only the first Via of a comma list', () => {
    const m = options();
    setHeader(m, 'Via', 'SIP/2.0/UDP a;branch=z9hG4bK1, SIP/2.0/UDP b;branch=z9hG4bK2');
    setTopVia(m, { transport: 'UDP', host: 'a', params: { branch: 'z9hG4bK1', received: '10.0.0.1' } });
    expect(getHeaders(m, 'Via')).toEqual([
      'SIP/2.0/UDP a;branch=z9hG4bK1;received=10.0.0.1',
      'SIP/2.0/UDP b;branch=z9hG4bK2',
    ]);
  });
});

describe('makeResponse (§8.2.6)', () => {
  const invite = () =>
    parseMessage(
      sip(
        [
          'INVITE sip:b@pbx.example SIP/2.0',
          'Via: SIP/2.0/UDP proxy;branch=z9hG4bKp, SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKa1b2c3',
          'Record-Route: <sip:proxy;lr>',
          'From: <sip:fax@192.0.2.10>;tag=77aa',
          'To: <sip:+15551234@pbx.example>',
          'Call-ID: c0ffee@192.0.2.10',
          'CSeq: 1 INVITE',
          'Timestamp: 54',
          'Content-Type: application/sdp',
        ],
        'v=0\r\n',
      ),
    ) as SipRequest;

  test('copies Via (all, in order), From, To + the given tag, Call-ID, CSeq; Content-Length 0; no body', () => {
    const r = makeResponse(invite(), 486, undefined, 'ourtag');
    expect(serializeMessage(r).toString()).toBe(
      [
        'SIP/2.0 486 Busy Here',
        'Via: SIP/2.0/UDP proxy;branch=z9hG4bKp, SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKa1b2c3',
        'From: <sip:fax@192.0.2.10>;tag=77aa',
        'To: <sip:+15551234@pbx.example>;tag=ourtag',
        'Call-ID: c0ffee@192.0.2.10',
        'CSeq: 1 INVITE',
        'Content-Length: 0',
        '',
        '',
      ].join('\r\n'),
    );
  });

  test('a 100 gets no To tag but the Timestamp; a custom reason is kept', () => {
    const r = makeResponse(invite(), 100, 'Trying hard');
    expect(r.reason).toBe('Trying hard');
    expect(getHeader(r, 'To')).toBe('<sip:+15551234@pbx.example>');
    expect(getHeader(r, 'Timestamp')).toBe('54');
  });

  test('a final response without a given tag gets a new one; an existing To tag is kept', () => {
    const tag = parseNameAddr(getHeader(makeResponse(invite(), 200), 'To')!).params.tag;
    expect(tag).toMatch(/^[0-9a-f]{16}$/);
    const inDialog = invite();
    setHeader(inDialog, 'To', '<sip:+15551234@pbx.example>;tag=theirs');
    expect(getHeader(makeResponse(inDialog, 200, undefined, 'ignored'), 'To')).toBe(
      '<sip:+15551234@pbx.example>;tag=theirs',
    );
  });

  test('reason phrases for the common codes', () => {
    const phrase = (s: number) => makeResponse(invite(), s).reason;
    expect([180, 183, 200, 401, 407, 408, 415, 481, 487, 488, 491, 500, 503, 603].map(phrase)).toEqual([
      'Ringing',
      'Session Progress',
      'OK',
      'Unauthorized',
      'Proxy Authentication Required',
      'Request Timeout',
      'Unsupported Media Type',
      'Call/Transaction Does Not Exist',
      'Request Terminated',
      'Not Acceptable Here',
      'Request Pending',
      'Server Internal Error',
      'Service Unavailable',
      'Decline',
    ]);
  });
});

describe('SipStreamParser (TCP framing)', () => {
  const one = sip(
    ['MESSAGE sip:pbx.example SIP/2.0', ...BASE.slice(0, 4), 'CSeq: 7 MESSAGE', 'Content-Length: 5'],
    'hello',
  );

  test('a message split into single bytes comes out once, whole', () => {
    const p = new SipStreamParser();
    const out: SipMessage[] = [];
    for (let i = 0; i < one.length; i++) out.push(...p.push(one.subarray(i, i + 1)));
    expect(out).toEqual([parseMessage(one)]);
    expect(p.buffered).toBe(0);
  });

  test('two messages and a CRLF keep-alive in one chunk come out in order', () => {
    const p = new SipStreamParser();
    const second = Buffer.from(one.toString().replace('CSeq: 7', 'CSeq: 8'));
    const out = p.push(Buffer.concat([one, Buffer.from('\r\n\r\n'), second, second.subarray(0, 10)]));
    expect(out.map((m) => getHeader(m, 'CSeq'))).toEqual(['7 MESSAGE', '8 MESSAGE']);
    expect(p.buffered).toBe(10);
  });

  test('a missing Content-Length breaks the stream for good', () => {
    const p = new SipStreamParser();
    const e = parseFailure(() => p.push(sip(['OPTIONS sip:pbx.example SIP/2.0', ...BASE])));
    expect([e.reason, e.message]).toEqual(['bad-content-length', 'Content-Length is missing on a stream']);
    expect(e.partial && getHeader(e.partial, 'CSeq')).toBe('1 OPTIONS');
    expect(parseFailure(() => p.push(one))).toBe(e);
    expect(p.buffered).toBe(0);
  });

  test(`headers without an end past MAX_MESSAGE_BYTES break the stream; it never holds more`, () => {
    const p = new SipStreamParser();
    const chunk = Buffer.from(`OPTIONS sip:pbx.example SIP/2.0\r\nX: ${'a'.repeat(40000)}\r\n`);
    expect(p.push(chunk)).toEqual([]);
    expect(p.buffered).toBe(chunk.length);
    const e = parseFailure(() => p.push(chunk));
    expect([e.reason, e.message]).toEqual(['message-too-large', 'SIP headers longer than MAX_MESSAGE_BYTES (65535)']);
    expect(p.buffered).toBe(0);
  });

  test('a Content-Length past MAX_MESSAGE_BYTES breaks the stream before the body arrives', () => {
    const p = new SipStreamParser();
    const big = sip([
      'MESSAGE sip:pbx.example SIP/2.0',
      ...BASE.slice(0, 4),
      'CSeq: 1 MESSAGE',
      'Content-Length: 70000',
    ]);
    expect(parseFailure(() => p.push(big)).reason).toBe('message-too-large');
  });

  test('a framed but malformed message goes to onError and the stream goes on', () => {
    const errors: SipParseError[] = [];
    const p = new SipStreamParser({ onError: (e) => errors.push(e) });
    const noCallId = sip(['OPTIONS sip:pbx.example SIP/2.0', ...BASE.filter((l) => !l.startsWith('Call-ID')), 'l: 0']);
    const out = p.push(Buffer.concat([noCallId, one]));
    expect(errors.map((e) => e.reason)).toEqual(['missing-header']);
    expect(out.map((m) => getHeader(m, 'CSeq'))).toEqual(['7 MESSAGE']);
  });
});

describe('identifiers', () => {
  test('branch has the magic cookie, tags and Call-IDs are random hex', () => {
    expect(newBranch()).toMatch(/^z9hG4bK[0-9a-f]{16}$/);
    expect(newTag()).toMatch(/^[0-9a-f]{16}$/);
    expect(newCallId('192.0.2.10')).toMatch(/^[0-9a-f]{32}@192\.0\.2\.10$/);
    expect(newBranch()).not.toBe(newBranch());
  });
});
