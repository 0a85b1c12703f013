import { createHash } from 'node:crypto';
import { InvalidOptionError } from '../../lib/base/errors';
import {
  authorize,
  MAX_CHALLENGES,
  matchesRealm,
  parseChallenges,
  pickChallenge,
  verifyAuthorization,
  type DigestChallenge,
} from '../../lib/sip/digest';

const md5 = (data: string | Buffer): string => createHash('md5').update(data).digest('hex');
const sha256 = (data: string | Buffer): string => createHash('sha256').update(data).digest('hex');

// One set of inputs for the hand-worked vectors below.
const USER = 'alice';
const REALM = 'sip.example.com';
const PASSWORD = 'fax-secret';
const NONCE = '5f2a7c3e9b1d';
const METHOD = 'INVITE';
const URI = 'sip:+15551234@sip.example.com';
const CNONCE = '0a4f113b';
const CREDS = { username: USER, password: PASSWORD };

function challenge(changes: Partial<DigestChallenge> = {}): DigestChallenge {
  return { scheme: 'Digest', realm: REALM, nonce: NONCE, algorithm: 'MD5', ...changes };
}

/** The `response=` of an Authorization value. */
function responseOf(value: string): string {
  const m = /response="([0-9a-f]+)"/.exec(value);
  if (!m) throw new Error(`no response in ${value}`);
  return m[1];
}

describe('parseChallenges reads WWW-/Proxy-Authenticate values', () => {
  it('reads one MD5 challenge with qop, opaque and stale', () => {
    const value =
      'Digest realm="sip.example.com", nonce="5f2a7c3e9b1d", opaque="x9", algorithm=MD5, qop="auth", stale=TRUE';
    expect(parseChallenges([value])).toEqual([
      { scheme: 'Digest', realm: REALM, nonce: NONCE, opaque: 'x9', algorithm: 'MD5', qop: ['auth'], stale: true },
    ]);
  });

  it('defaults the algorithm to MD5 and leaves qop absent for an RFC 2069 challenge', () => {
    expect(parseChallenges(['Digest realm="r", nonce="n"'])).toEqual([
      { scheme: 'Digest', realm: 'r', nonce: 'n', algorithm: 'MD5' },
    ]);
  });

  it('splits several challenges in one value and skips other schemes (token68 included)', () => {
    const value =
      'Basic realm="old", Bearer abc==, Digest realm="a", nonce="1", algorithm=SHA-256, ' +
      'digest REALM="b", NONCE="2", ALGORITHM=md5-SESS, qop="auth, auth-int"';
    expect(parseChallenges([value])).toEqual([
      { scheme: 'Digest', realm: 'a', nonce: '1', algorithm: 'SHA-256' },
      { scheme: 'Digest', realm: 'b', nonce: '2', algorithm: 'MD5-sess', qop: ['auth', 'auth-int'] },
    ]);
  });

  it('reads challenges from several values in order', () => {
    const got = parseChallenges([
      'Digest realm="one", nonce="1"',
      'Digest realm="two", nonce="2", algorithm=SHA-256-sess',
    ]);
    expect(got.map((c) => [c.realm, c.algorithm])).toEqual([
      ['one', 'MD5'],
      ['two', 'SHA-256-sess'],
    ]);
  });

  it('unescapes quoted strings and keeps commas inside them', () => {
    const got = parseChallenges(['Digest realm="fax \\"north\\", \\\\ wing", nonce="a,b"']);
    expect(got[0].realm).toBe('fax "north", \\ wing');
    expect(got[0].nonce).toBe('a,b');
  });

  it('skips unknown algorithms, missing nonces and qop offers without auth/auth-int, saying why', () => {
    const notes: string[] = [];
    const got = parseChallenges(
      [
        'Digest realm="a", nonce="1", algorithm=SHA-512-256',
        'Digest realm="b"',
        'Digest realm="c", nonce="3", qop="auth-conf"',
        'Digest realm="d", nonce="4", algorithm=AKAv1-MD5, Digest realm="e", nonce="5"',
      ],
      notes,
    );
    expect(got).toEqual([{ scheme: 'Digest', realm: 'e', nonce: '5', algorithm: 'MD5' }]);
    expect(notes).toEqual([
      'a Digest challenge with algorithm SHA-512-256: skipped',
      'a Digest challenge without realm or nonce: skipped',
      'a Digest challenge with qop "auth-conf" only: skipped',
      'a Digest challenge with algorithm AKAv1-MD5: skipped',
    ]);
  });

  it(`keeps at most MAX_CHALLENGES (${MAX_CHALLENGES}) and names the bound`, () => {
    const many = Array.from({ length: MAX_CHALLENGES + 3 }, (_, i) => `Digest realm="r${i}", nonce="n${i}"`);
    const notes: string[] = [];
    const got = parseChallenges([many.join(', ')], notes);
    expect(got).toHaveLength(MAX_CHALLENGES);
    expect(got[MAX_CHALLENGES - 1].realm).toBe(`r${MAX_CHALLENGES - 1}`);
    expect(notes).toEqual([`MAX_CHALLENGES (${MAX_CHALLENGES}) reached: the rest ignored`]);
  });

  it('reads garbage as no challenge rather than throwing', () => {
    expect(parseChallenges(['', '===,,,"', 'Digest', '\u0000\u0001'])).toEqual([]);
  });
});

describe('pickChallenge prefers SHA-256 over MD5', () => {
  it('picks the SHA-256 challenge even when MD5 comes first', () => {
    const cs = parseChallenges([
      'Digest realm="a", nonce="1", algorithm=MD5',
      'Digest realm="a", nonce="2", algorithm=SHA-256',
    ]);
    expect(pickChallenge(cs)?.nonce).toBe('2');
  });

  it('picks the first challenge when only MD5 is offered, and null when none is', () => {
    const cs = parseChallenges(['Digest realm="a", nonce="1"', 'Digest realm="a", nonce="2", algorithm=MD5-sess']);
    expect(pickChallenge(cs)?.nonce).toBe('1');
    expect(pickChallenge([])).toBeNull();
  });
});

describe('authorize answers a challenge (hand-worked vectors)', () => {
  it('MD5 without qop (RFC 2069 style): response = MD5(HA1:nonce:HA2), no cnonce or nc', () => {
    const ha1 = md5(`${USER}:${REALM}:${PASSWORD}`);
    const ha2 = md5(`${METHOD}:${URI}`);
    const response = md5(`${ha1}:${NONCE}:${ha2}`);
    expect(ha1).toBe('06b4e2faf635a4a5e8601b8da45b69bf');
    expect(ha2).toBe('ae587985051abaee06843cca3fd730ce');
    expect(response).toBe('3e06f4979977c81d54844238955c0184');
    expect(authorize(challenge({ opaque: 'op1' }), CREDS, METHOD, URI, 1)).toBe(
      `Digest username="alice", realm="sip.example.com", nonce="5f2a7c3e9b1d", uri="${URI}", ` +
        `response="${response}", algorithm=MD5, opaque="op1"`,
    );
  });

  it('MD5 with qop=auth: response = MD5(HA1:nonce:nc:cnonce:auth:HA2), nc as 8 hex digits', () => {
    const ha1 = md5(`${USER}:${REALM}:${PASSWORD}`);
    const ha2 = md5(`${METHOD}:${URI}`);
    const response = md5(`${ha1}:${NONCE}:00000001:${CNONCE}:auth:${ha2}`);
    expect(response).toBe('dd76e3582b887883a0b5fe9335bf95c6');
    expect(authorize(challenge({ qop: ['auth', 'auth-int'] }), CREDS, METHOD, URI, 1, CNONCE)).toBe(
      `Digest username="alice", realm="sip.example.com", nonce="5f2a7c3e9b1d", uri="${URI}", ` +
        `response="${response}", algorithm=MD5, cnonce="0a4f113b", qop=auth, nc=00000001`,
    );
  });

  it('SHA-256 with qop=auth: the same steps with SHA-256', () => {
    const ha1 = sha256(`${USER}:${REALM}:${PASSWORD}`);
    const ha2 = sha256(`${METHOD}:${URI}`);
    const response = sha256(`${ha1}:${NONCE}:00000001:${CNONCE}:auth:${ha2}`);
    expect(ha1).toBe('c8da9be9c7a608e28a7f7417e02f46c11c94b76c8da07e95ff055c121a574262');
    expect(ha2).toBe('edecee2492db968314d7641a0637b10c562b504ad04ea92de5634426c4adb108');
    expect(response).toBe('883d7826620eb183e819659d497a96833eeaf87f493c823d46d124199e0960fa');
    expect(authorize(challenge({ algorithm: 'SHA-256', qop: ['auth'] }), CREDS, METHOD, URI, 1, CNONCE)).toBe(
      `Digest username="alice", realm="sip.example.com", nonce="5f2a7c3e9b1d", uri="${URI}", ` +
        `response="${response}", algorithm=SHA-256, cnonce="0a4f113b", qop=auth, nc=00000001`,
    );
  });

  it('MD5-sess: HA1 = MD5(MD5(user:realm:password):nonce:cnonce)', () => {
    const ha1 = md5(`${md5(`${USER}:${REALM}:${PASSWORD}`)}:${NONCE}:${CNONCE}`);
    const ha2 = md5(`${METHOD}:${URI}`);
    const response = md5(`${ha1}:${NONCE}:00000001:${CNONCE}:auth:${ha2}`);
    expect(ha1).toBe('1170d97f4f8a4fd242d107123a6d9782');
    expect(response).toBe('1d2d2f0e417113c17a42421e0595c84f');
    expect(
      responseOf(authorize(challenge({ algorithm: 'MD5-sess', qop: ['auth'] }), CREDS, METHOD, URI, 1, CNONCE)),
    ).toBe(response);
  });

  it('qop=auth-int when only that is offered: HA2 = MD5(method:uri:MD5(body))', () => {
    const body = Buffer.from('v=0\r\n');
    const ha2 = md5(`${METHOD}:${URI}:${md5(body)}`);
    const response = md5(`${md5(`${USER}:${REALM}:${PASSWORD}`)}:${NONCE}:00000001:${CNONCE}:auth-int:${ha2}`);
    expect(ha2).toBe('90daf307b406d34dd12cc9538fc8ab55');
    expect(response).toBe('25d8f51fbbd13178f1f57053cddea233');
    const value = authorize(challenge({ qop: ['auth-int'] }), CREDS, METHOD, URI, 1, CNONCE, body);
    expect(value).toContain('qop=auth-int, nc=00000001');
    expect(responseOf(value)).toBe(response);
  });

  it('writes nc as 8 lower-case hex digits', () => {
    expect(authorize(challenge({ qop: ['auth'] }), CREDS, METHOD, URI, 0x1f, CNONCE)).toContain('nc=0000001f');
    expect(authorize(challenge({ qop: ['auth'] }), CREDS, METHOD, URI, 0xffffffff, CNONCE)).toContain('nc=ffffffff');
  });

  it('makes a random 32-hex-digit cnonce when none is given', () => {
    const value = authorize(challenge({ qop: ['auth'] }), CREDS, METHOD, URI, 1);
    expect(value).toMatch(/cnonce="[0-9a-f]{32}"/);
  });

  it('escapes quotes and backslashes in quoted values, hashing the raw text', () => {
    const creds = { username: 'a"b\\c', password: 'p' };
    const value = authorize(challenge(), creds, 'REGISTER', 'sip:x', 1);
    expect(value).toContain('username="a\\"b\\\\c"');
    const expected = md5(`${md5(`a"b\\c:${REALM}:p`)}:${NONCE}:${md5('REGISTER:sip:x')}`);
    expect(responseOf(value)).toBe(expected);
  });

  it('refuses credentials bound to another realm, and bad arguments, with InvalidOptionError', () => {
    const bound = { ...CREDS, realm: 'other.example' };
    expect(matchesRealm(challenge(), bound)).toBe(false);
    expect(matchesRealm(challenge(), { ...CREDS, realm: REALM })).toBe(true);
    expect(() => authorize(challenge(), bound, METHOD, URI, 1)).toThrow(InvalidOptionError);
    expect(() => authorize(challenge(), CREDS, METHOD, URI, 0)).toThrow(
      'Expected an integer from 1 to 4294967295 for nc but got 0',
    );
    expect(() => authorize(challenge(), CREDS, '', URI, 1)).toThrow(InvalidOptionError);
  });
});

describe('published vectors', () => {
  // RFC 7616 §3.9.1: the server offers SHA-256 then MD5; user Mufasa, password "Circle of Life".
  const rfc7616 = [
    'Digest realm="http-auth@example.org", qop="auth, auth-int", algorithm=SHA-256, ' +
      'nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"',
    'Digest realm="http-auth@example.org", qop="auth, auth-int", algorithm=MD5, ' +
      'nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"',
  ];
  const mufasa = { username: 'Mufasa', password: 'Circle of Life' };
  const cnonce = 'f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ';

  it('RFC 7616 §3.9.1 SHA-256: picks SHA-256 and gives the published response', () => {
    const picked = pickChallenge(parseChallenges(rfc7616));
    expect(picked?.algorithm).toBe('SHA-256');
    const value = authorize(picked as DigestChallenge, mufasa, 'GET', '/dir/index.html', 1, cnonce);
    expect(value).toBe(
      'Digest username="Mufasa", realm="http-auth@example.org", nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", ' +
        'uri="/dir/index.html", response="753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1", ' +
        'algorithm=SHA-256, cnonce="f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ", qop=auth, nc=00000001, ' +
        'opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"',
    );
  });

  it('RFC 7616 §3.9.1 MD5: the published response', () => {
    const md5Challenge = parseChallenges(rfc7616)[1];
    const value = authorize(md5Challenge, mufasa, 'GET', '/dir/index.html', 1, cnonce);
    expect(responseOf(value)).toBe('8ca523f5e9506fed4657c9700eebdbec');
  });

  it('RFC 2617 §3.5: the published response', () => {
    const [c] = parseChallenges([
      'Digest realm="testrealm@host.com", qop="auth,auth-int", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", ' +
        'opaque="5ccc069c403ebaf9f0171e9517f40e41"',
    ]);
    const value = authorize(
      c,
      { username: 'Mufasa', password: 'Circle Of Life' },
      'GET',
      '/dir/index.html',
      1,
      '0a4f113b',
    );
    expect(responseOf(value)).toBe('6629fae49393a05397450978507c4ef1');
  });
});

describe('verifyAuthorization checks a value for our server side', () => {
  const passwords = (user: string, realm: string): string | undefined =>
    user === USER && realm === REALM ? PASSWORD : undefined;
  const nonceOk = (nonce: string): boolean => nonce === NONCE;

  it.each([
    ['MD5, no qop', challenge()],
    ['MD5, qop=auth', challenge({ qop: ['auth'] })],
    ['SHA-256, qop=auth', challenge({ algorithm: 'SHA-256', qop: ['auth'] })],
    ['MD5-sess, qop=auth', challenge({ algorithm: 'MD5-sess', qop: ['auth'] })],
    ['SHA-256-sess, qop=auth', challenge({ algorithm: 'SHA-256-sess', qop: ['auth'] })],
  ])('accepts what authorize builds (%s)', (_name, c) => {
    const value = authorize(c, CREDS, METHOD, URI, 7);
    expect(verifyAuthorization(value, METHOD, passwords, nonceOk, { requestUri: URI })).toBe(true);
  });

  it('accepts auth-int with the same body and refuses it with another or none', () => {
    const body = Buffer.from('v=0\r\n');
    const value = authorize(challenge({ qop: ['auth-int'] }), CREDS, METHOD, URI, 1, CNONCE, body);
    expect(verifyAuthorization(value, METHOD, passwords, nonceOk, { body })).toBe(true);
    expect(verifyAuthorization(value, METHOD, passwords, nonceOk, { body: Buffer.from('v=1\r\n') })).toBe(false);
    expect(verifyAuthorization(value, METHOD, passwords, nonceOk)).toBe(false);
  });

  it('refuses a wrong password, method, user, nonce, uri or a tampered response', () => {
    const c = challenge({ qop: ['auth'] });
    const good = authorize(c, CREDS, METHOD, URI, 1, CNONCE);
    expect(
      verifyAuthorization(
        authorize(c, { username: USER, password: 'nope' }, METHOD, URI, 1),
        METHOD,
        passwords,
        nonceOk,
      ),
    ).toBe(false);
    expect(verifyAuthorization(good, 'BYE', passwords, nonceOk)).toBe(false);
    expect(
      verifyAuthorization(
        authorize(c, { username: 'bob', password: PASSWORD }, METHOD, URI, 1),
        METHOD,
        passwords,
        nonceOk,
      ),
    ).toBe(false);
    expect(verifyAuthorization(good, METHOD, passwords, () => false)).toBe(false);
    expect(verifyAuthorization(good, METHOD, passwords, nonceOk, { requestUri: 'sip:other@sip.example.com' })).toBe(
      false,
    );
    const tampered = good.replace(/response="([0-9a-f])/, (_m, d: string) => `response="${d === '0' ? '1' : '0'}`);
    expect(verifyAuthorization(tampered, METHOD, passwords, nonceOk)).toBe(false);
  });

  it('refuses other schemes, missing fields, qop without nc/cnonce, and over-long or garbage values', () => {
    expect(verifyAuthorization('Basic YWxpY2U6eA==', METHOD, passwords, nonceOk)).toBe(false);
    expect(
      verifyAuthorization(`Digest username="alice", realm="${REALM}", nonce="${NONCE}"`, METHOD, passwords, nonceOk),
    ).toBe(false);
    const noNc = authorize(challenge({ qop: ['auth'] }), CREDS, METHOD, URI, 1, CNONCE).replace(', nc=00000001', '');
    expect(verifyAuthorization(noNc, METHOD, passwords, nonceOk)).toBe(false);
    expect(verifyAuthorization(`Digest username="${'a'.repeat(9000)}"`, METHOD, passwords, nonceOk)).toBe(false);
    expect(verifyAuthorization('\u0000"""', METHOD, passwords, nonceOk)).toBe(false);
  });
});
