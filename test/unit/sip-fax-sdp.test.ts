import { InvalidOptionError } from '../../lib/base/errors';
import { SipSdpError } from '../../lib/sip/errors';
import {
  answerFor,
  audioOffer,
  MAX_MEDIA_LINES,
  MAX_SDP_CHARS,
  newSessionId,
  nextVersion,
  parseRemote,
  sameSession,
  t38Offer,
  type LocalMedia,
} from '../../lib/sip/fax-sdp';
import { DEFAULT_T38_PARAMS } from '../../lib/transports/t38/sdp';

/** SDP text from lines, CRLF after each (as on the wire). */
const sdp = (...lines: string[]): string => lines.map((line) => `${line}\r\n`).join('');
/** The same with bare LF, as some stacks write. */
const sdpLf = (...lines: string[]): string => lines.map((line) => `${line}\n`).join('');

const LOCAL: LocalMedia = { address: '192.0.2.10', audioPort: 20000, imagePort: 20002, sessionId: '4711', version: 2 };
const OUR_SESSION = ['v=0', 'o=faxline 4711 2 IN IP4 192.0.2.10', 's=faxline', 'c=IN IP4 192.0.2.10', 't=0 0'];

/** Our T.38 lines (DEFAULT_T38_PARAMS) with the answer's version, rate and rate management. */
const ourT38 = (maxBitRate: number, rateManagement: string): string[] => [
  'a=T38FaxVersion:0',
  `a=T38MaxBitRate:${maxBitRate}`,
  `a=T38FaxRateManagement:${rateManagement}`,
  'a=T38FaxMaxBuffer:2000',
  'a=T38FaxMaxDatagram:400',
  'a=T38FaxUdpEC:t38UDPRedundancy',
];

/** Hand-written in the style of an Asterisk T.38 switch-over re-INVITE: audio refused, image offered. */
const ASTERISK_REINVITE = sdp(
  'v=0',
  'o=- 1715012345 1715012347 IN IP4 198.51.100.7',
  's=Asterisk',
  'c=IN IP4 198.51.100.7',
  't=0 0',
  'm=audio 0 RTP/AVP 0 8 101',
  'm=image 4390 udptl t38',
  'a=T38FaxVersion:0',
  'a=T38MaxBitRate:14400',
  'a=T38FaxRateManagement:transferredTCF',
  'a=T38FaxMaxBuffer:1024',
  'a=T38FaxMaxDatagram:400',
  'a=T38FaxUdpEC:t38UDPRedundancy',
);

/** FreeSWITCH style: image only, LF line ends, a bare flag, FEC, 9600. */
const FREESWITCH_IMAGE_ONLY = sdpLf(
  'v=0',
  'o=FreeSWITCH 1715000000 1715000002 IN IP4 203.0.113.5',
  's=FreeSWITCH',
  'c=IN IP4 203.0.113.5',
  't=0 0',
  'm=image 30000 udptl t38',
  'a=T38FaxVersion:0',
  'a=T38MaxBitRate:9600',
  'a=T38FaxFillBitRemoval',
  'a=T38FaxRateManagement:transferredTCF',
  'a=T38FaxMaxBuffer:2000',
  'a=T38FaxMaxDatagram:400',
  'a=T38FaxUdpEC:t38UDPFEC',
);

/** Cisco gateway style: audio and image both live, media-level c=, T38FaxMaxRate, `:0` flags, localTCF. */
const CISCO_BOTH = sdp(
  'v=0',
  'o=CiscoSystemsSIP-GW-UserAgent 8463 2934 IN IP4 192.0.2.77',
  's=SIP Call',
  'c=IN IP4 192.0.2.77',
  't=0 0',
  'm=audio 17232 RTP/AVP 8 0 101',
  'c=IN IP4 192.0.2.78',
  'a=rtpmap:8 PCMA/8000',
  'a=rtpmap:0 PCMU/8000',
  'a=rtpmap:101 telephone-event/8000',
  'a=fmtp:101 0-15',
  'a=ptime:20',
  'm=image 17234 udptl t38',
  'c=IN IP4 192.0.2.79',
  'a=T38FaxVersion:0',
  'a=T38FaxMaxRate:9600',
  'a=T38FaxFillBitRemoval:0',
  'a=T38FaxTranscodingMMR:0',
  'a=T38FaxTranscodingJBIG:0',
  'a=T38FaxRateManagement:localTCF',
  'a=T38FaxMaxBuffer:200',
  'a=T38FaxMaxDatagram:320',
  'a=T38FaxUdpEC:t38UDPRedundancy',
);

/** FreeSWITCH style first INVITE: G.729 first, then PCMU, PCMA, opus and telephone-event. */
const FREESWITCH_AUDIO = sdpLf(
  'v=0',
  'o=FreeSWITCH 1715000000 1715000001 IN IP4 203.0.113.5',
  's=FreeSWITCH',
  'c=IN IP4 203.0.113.5',
  't=0 0',
  'm=audio 24680 RTP/AVP 18 0 8 96 101',
  'a=rtpmap:18 G729/8000',
  'a=fmtp:18 annexb=no',
  'a=rtpmap:0 PCMU/8000',
  'a=rtpmap:8 PCMA/8000',
  'a=rtpmap:96 opus/48000/2',
  'a=rtpmap:101 telephone-event/8000',
  'a=fmtp:101 0-16',
  'a=ptime:20',
  'a=sendrecv',
);

function sdpError(fn: () => unknown): SipSdpError {
  try {
    fn();
  } catch (error) {
    if (error instanceof SipSdpError) return error;
    throw error;
  }
  throw new Error('expected a SipSdpError');
}

describe('audioOffer writes a G.711 offer', () => {
  it('offers PCMU, PCMA and telephone-event 0-16 with ptime 20 and sendrecv', () => {
    expect(audioOffer(LOCAL)).toBe(
      sdp(
        ...OUR_SESSION,
        'm=audio 20000 RTP/AVP 0 8 101',
        'a=rtpmap:0 PCMU/8000',
        'a=rtpmap:8 PCMA/8000',
        'a=rtpmap:101 telephone-event/8000',
        'a=fmtp:101 0-16',
        'a=ptime:20',
        'a=sendrecv',
      ),
    );
  });

  it('orders codecs by the preference given, and writes IP6 for an IPv6 address', () => {
    const text = audioOffer({ ...LOCAL, address: '2001:db8::10' }, ['pcma', 'pcmu']);
    expect(text).toBe(
      sdp(
        'v=0',
        'o=faxline 4711 2 IN IP6 2001:db8::10',
        's=faxline',
        'c=IN IP6 2001:db8::10',
        't=0 0',
        'm=audio 20000 RTP/AVP 8 0 101',
        'a=rtpmap:8 PCMA/8000',
        'a=rtpmap:0 PCMU/8000',
        'a=rtpmap:101 telephone-event/8000',
        'a=fmtp:101 0-16',
        'a=ptime:20',
        'a=sendrecv',
      ),
    );
  });

  it('refuses a missing port, an unknown codec or a bad session id with InvalidOptionError', () => {
    expect(() => audioOffer({ ...LOCAL, audioPort: undefined })).toThrow(
      'Expected an integer from 1 to 65535 for local.audioPort but got undefined',
    );
    expect(() => audioOffer(LOCAL, ['g729' as 'pcmu'])).toThrow(InvalidOptionError);
    expect(() => audioOffer(LOCAL, [])).toThrow('Expected at least one codec for codecs but got an empty array');
    expect(() => audioOffer({ ...LOCAL, sessionId: '12ab' })).toThrow(InvalidOptionError);
    expect(() => audioOffer({ ...LOCAL, address: 'fax.example' })).toThrow(InvalidOptionError);
  });
});

describe('t38Offer writes an image offer', () => {
  it('offers m=image PORT udptl t38 with our T.38 Annex D attributes', () => {
    expect(t38Offer(LOCAL)).toBe(sdp(...OUR_SESSION, 'm=image 20002 udptl t38', ...ourT38(14400, 'transferredTCF')));
  });

  it('writes the given parameters (or local.t38) instead of the defaults', () => {
    const params = { ...DEFAULT_T38_PARAMS, maxBitRate: 9600, errorCorrection: 'fec' as const, maxBuffer: undefined };
    const expected = sdp(
      ...OUR_SESSION,
      'm=image 20002 udptl t38',
      'a=T38FaxVersion:0',
      'a=T38MaxBitRate:9600',
      'a=T38FaxRateManagement:transferredTCF',
      'a=T38FaxMaxDatagram:400',
      'a=T38FaxUdpEC:t38UDPFEC',
    );
    expect(t38Offer(LOCAL, params)).toBe(expected);
    expect(t38Offer({ ...LOCAL, t38: params })).toBe(expected);
  });
});

describe('parseRemote reads the stream we take', () => {
  it('takes the image of an Asterisk-style re-INVITE whose audio is refused', () => {
    expect(parseRemote(ASTERISK_REINVITE)).toEqual({
      kind: 'image',
      address: '198.51.100.7',
      port: 4390,
      t38: {
        version: 0,
        maxBitRate: 14400,
        rateManagement: 'transferredTCF',
        maxBuffer: 1024,
        maxDatagram: 400,
        errorCorrection: 'redundancy',
        fillBitRemoval: false,
        transcodingMMR: false,
        transcodingJBIG: false,
      },
      sdp: ASTERISK_REINVITE,
      origin: { sessionId: '1715012345', version: '1715012347' },
    });
  });

  it("under 't38-ok' prefers a live image to live audio, reading media-level c= and T38FaxMaxRate", () => {
    const remote = parseRemote(CISCO_BOTH);
    expect(remote.kind).toBe('image');
    expect(remote.address).toBe('192.0.2.79');
    expect(remote.port).toBe(17234);
    expect(remote.t38).toEqual({
      version: 0,
      maxBitRate: 9600,
      rateManagement: 'localTCF',
      maxBuffer: 200,
      maxDatagram: 320,
      errorCorrection: 'redundancy',
      fillBitRemoval: false,
      transcodingMMR: false,
      transcodingJBIG: false,
    });
    expect(remote.origin).toEqual({ sessionId: '8463', version: '2934' });
  });

  it("under 'audio-only' takes the audio: its own c=, the first G.711 codec listed, ptime", () => {
    const remote = parseRemote(CISCO_BOTH, 'audio-only');
    expect({ ...remote, sdp: undefined }).toEqual({
      kind: 'audio',
      address: '192.0.2.78',
      port: 17232,
      codec: 'pcma',
      ptime: 20,
      sdp: undefined,
      origin: { sessionId: '8463', version: '2934' },
    });
  });

  it('takes PCMU from a FreeSWITCH-style offer listing G.729 first', () => {
    const remote = parseRemote(FREESWITCH_AUDIO);
    expect([remote.kind, remote.address, remote.port, remote.codec]).toEqual(['audio', '203.0.113.5', 24680, 'pcmu']);
  });

  it('takes audio when the image is refused (port 0) or has no IPv4 address', () => {
    const refused = sdp(
      'v=0',
      'o=- 1 2 IN IP4 192.0.2.1',
      's=-',
      'c=IN IP4 192.0.2.1',
      't=0 0',
      'm=audio 4000 RTP/AVP 0',
      'm=image 0 udptl t38',
    );
    expect(parseRemote(refused).kind).toBe('audio');
    const v6 = sdp(
      'v=0',
      'o=- 1 2 IN IP4 192.0.2.1',
      's=-',
      'c=IN IP4 192.0.2.1',
      't=0 0',
      'm=image 5000 udptl t38',
      'c=IN IP6 2001:db8::1',
      'm=audio 4000 RTP/AVP 8',
    );
    expect([parseRemote(v6).kind, parseRemote(v6).codec]).toEqual(['audio', 'pcma']);
  });

  it('reads the first port of PORT/COUNT', () => {
    const text = sdp(
      'v=0',
      'o=- 1 2 IN IP4 192.0.2.1',
      's=-',
      'c=IN IP4 192.0.2.1',
      't=0 0',
      'm=image 4390/2 udptl t38',
    );
    expect(parseRemote(text).port).toBe(4390);
  });

  it('keeps an o= session id beyond 2^53 exactly', () => {
    const text = sdp(
      'v=0',
      'o=- 18446744073709551615 0123 IN IP4 192.0.2.1',
      's=-',
      'c=IN IP4 192.0.2.1',
      't=0 0',
      'm=audio 4000 RTP/AVP 0',
    );
    expect(parseRemote(text).origin).toEqual({ sessionId: '18446744073709551615', version: '0123' });
  });

  it('refuses what it cannot use with SipSdpError and a reason', () => {
    const g729 = sdp(
      'v=0',
      'o=- 1 2 IN IP4 192.0.2.1',
      's=-',
      'c=IN IP4 192.0.2.1',
      't=0 0',
      'm=audio 4000 RTP/AVP 18',
    );
    const e1 = sdpError(() => parseRemote(g729));
    expect([e1.code, e1.reason, e1.message]).toEqual([
      'ERR_FAXLINE_SIP_SDP',
      'no-common-codec',
      'SDP audio offers neither PCMU (0) nor PCMA (8)',
    ]);
    expect(sdpError(() => parseRemote(FREESWITCH_IMAGE_ONLY, 'audio-only')).reason).toBe('no-usable-media');
    const noC = sdp('v=0', 'o=- 1 2 IN IP4 192.0.2.1', 's=-', 't=0 0', 'm=audio 4000 RTP/AVP 0');
    expect(sdpError(() => parseRemote(noC)).reason).toBe('no-usable-media');
    const srtp = sdp(
      'v=0',
      'o=- 1 2 IN IP4 192.0.2.1',
      's=-',
      'c=IN IP4 192.0.2.1',
      't=0 0',
      'm=audio 4000 RTP/SAVP 0',
    );
    expect(sdpError(() => parseRemote(srtp)).reason).toBe('no-usable-media');
    expect(sdpError(() => parseRemote('hello')).reason).toBe('malformed');
    expect(sdpError(() => parseRemote(42 as unknown as string)).reason).toBe('malformed');
  });

  it(`names its bounds: MAX_SDP_CHARS (${MAX_SDP_CHARS}) and MAX_MEDIA_LINES (${MAX_MEDIA_LINES})`, () => {
    const big = ASTERISK_REINVITE + 'a=x\r\n'.repeat(MAX_SDP_CHARS / 5);
    const e1 = sdpError(() => parseRemote(big));
    expect([e1.reason, e1.message]).toEqual(['too-large', `SDP longer than MAX_SDP_CHARS (${MAX_SDP_CHARS})`]);
    const many = ASTERISK_REINVITE + 'm=audio 0 RTP/AVP 0\r\n'.repeat(MAX_MEDIA_LINES);
    const e2 = sdpError(() => parseRemote(many));
    expect([e2.reason, e2.message]).toEqual([
      'too-many-media',
      `SDP with ${MAX_MEDIA_LINES + 2} m-lines, more than MAX_MEDIA_LINES (${MAX_MEDIA_LINES})`,
    ]);
  });
});

describe('answerFor answers an offer, keeping its m-lines in order and number', () => {
  it("answers an Asterisk-style re-INVITE's image and its refused audio with port 0", () => {
    expect(answerFor(parseRemote(ASTERISK_REINVITE), LOCAL, 't38-ok')).toBe(
      sdp(...OUR_SESSION, 'm=audio 0 RTP/AVP 0', 'm=image 20002 udptl t38', ...ourT38(14400, 'transferredTCF')),
    );
  });

  it('answers a FreeSWITCH-style image-only offer: lower rate, no fill-bit removal, redundancy for FEC', () => {
    expect(answerFor(parseRemote(FREESWITCH_IMAGE_ONLY), LOCAL, 't38-ok')).toBe(
      sdp(...OUR_SESSION, 'm=image 20002 udptl t38', ...ourT38(9600, 'transferredTCF')),
    );
  });

  it("refuses an image-only offer under 'audio-only' (null: the caller sends 488)", () => {
    expect(answerFor(parseRemote(FREESWITCH_IMAGE_ONLY), LOCAL, 'audio-only')).toBeNull();
  });

  it("answers a Cisco-style audio+image offer under 't38-ok' with image, the audio line port 0", () => {
    expect(answerFor(parseRemote(CISCO_BOTH), LOCAL, 't38-ok')).toBe(
      sdp(...OUR_SESSION, 'm=audio 0 RTP/AVP 8', 'm=image 20002 udptl t38', ...ourT38(9600, 'localTCF')),
    );
  });

  it("answers the same offer under 'audio-only' with PCMA and its telephone-event, the image port 0", () => {
    expect(answerFor(parseRemote(CISCO_BOTH, 'audio-only'), LOCAL, 'audio-only')).toBe(
      sdp(
        ...OUR_SESSION,
        'm=audio 20000 RTP/AVP 8 101',
        'a=rtpmap:8 PCMA/8000',
        'a=rtpmap:101 telephone-event/8000',
        'a=fmtp:101 0-15',
        'a=ptime:20',
        'a=sendrecv',
        'm=image 0 udptl t38',
      ),
    );
  });

  it('answers a FreeSWITCH-style audio offer with the first G.711 codec it lists and echoes telephone-event', () => {
    expect(answerFor(parseRemote(FREESWITCH_AUDIO), LOCAL, 't38-ok')).toBe(
      sdp(
        ...OUR_SESSION,
        'm=audio 20000 RTP/AVP 0 101',
        'a=rtpmap:0 PCMU/8000',
        'a=rtpmap:101 telephone-event/8000',
        'a=fmtp:101 0-16',
        'a=ptime:20',
        'a=sendrecv',
      ),
    );
  });

  it('mirrors a sendonly audio offer with recvonly, omits telephone-event when not offered, refuses video', () => {
    const offer = sdp(
      'v=0',
      'o=- 1 2 IN IP4 192.0.2.1',
      's=-',
      'c=IN IP4 192.0.2.1',
      't=0 0',
      'm=audio 5004 RTP/AVP 8',
      'a=sendonly',
      'm=video 5006 RTP/AVP 31',
    );
    expect(answerFor(parseRemote(offer), LOCAL, 't38-ok')).toBe(
      sdp(
        ...OUR_SESSION,
        'm=audio 20000 RTP/AVP 8',
        'a=rtpmap:8 PCMA/8000',
        'a=ptime:20',
        'a=recvonly',
        'm=video 0 RTP/AVP 31',
      ),
    );
  });

  it('refuses audio without PCMU or PCMA (null)', () => {
    const g729 = sdp(
      'v=0',
      'o=- 1 2 IN IP4 192.0.2.1',
      's=-',
      'c=IN IP4 192.0.2.1',
      't=0 0',
      'm=audio 4000 RTP/AVP 18',
    );
    const remote = {
      kind: 'audio' as const,
      address: '192.0.2.1',
      port: 4000,
      sdp: g729,
      origin: { sessionId: '1', version: '2' },
    };
    expect(answerFor(remote, LOCAL, 't38-ok')).toBeNull();
  });

  it('throws InvalidOptionError when local lacks the port of the stream taken', () => {
    expect(() => answerFor(parseRemote(ASTERISK_REINVITE), { ...LOCAL, imagePort: undefined }, 't38-ok')).toThrow(
      'Expected an integer from 1 to 65535 for local.imagePort but got undefined',
    );
  });
});

describe('sameSession recognises a session refresh (RFC 3264 §8)', () => {
  it('is true for the same SDP, whatever the line ends', () => {
    const lf = ASTERISK_REINVITE.replace(/\r\n/g, '\n');
    expect(sameSession(ASTERISK_REINVITE, ASTERISK_REINVITE)).toBe(true);
    expect(sameSession(ASTERISK_REINVITE, lf)).toBe(true);
  });

  it('is false when the o= version went up, even with the same media', () => {
    const bumped = ASTERISK_REINVITE.replace('1715012347', '1715012348');
    expect(sameSession(ASTERISK_REINVITE, bumped)).toBe(false);
  });

  it('is false when the media changed but the version did not (a peer breaking §8)', () => {
    const changed = ASTERISK_REINVITE.replace('m=image 4390', 'm=image 4392');
    expect(sameSession(ASTERISK_REINVITE, changed)).toBe(false);
  });

  it('is false for another session id, or SDP without o=', () => {
    expect(sameSession(ASTERISK_REINVITE, ASTERISK_REINVITE.replace('1715012345', '1715012346'))).toBe(false);
    expect(sameSession('v=0\r\ns=-\r\n', 'v=0\r\ns=-\r\n')).toBe(false);
  });

  it('holds for our own refresh: the same LocalMedia gives the same text, nextVersion does not', () => {
    expect(sameSession(t38Offer(LOCAL), t38Offer(LOCAL))).toBe(true);
    expect(sameSession(t38Offer(LOCAL), t38Offer(nextVersion(LOCAL)))).toBe(false);
  });
});

describe('versioning', () => {
  it('nextVersion raises o= version by one and leaves the rest', () => {
    const next = nextVersion(LOCAL);
    expect(next).toEqual({ ...LOCAL, version: 3 });
    expect(LOCAL.version).toBe(2);
    expect(audioOffer(next)).toContain('o=faxline 4711 3 IN IP4 192.0.2.10\r\n');
  });

  it('newSessionId gives decimal digits that LocalMedia takes', () => {
    const id = newSessionId();
    expect(id).toMatch(/^[1-9]\d{0,14}$/);
    expect(audioOffer({ ...LOCAL, sessionId: id })).toContain(`o=faxline ${id} 2 IN IP4`);
  });
});
