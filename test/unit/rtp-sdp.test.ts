import { audioOfferLines, audioOfferPayloadTypes, parseRedundancyAnswer } from '../../lib/transports/rtp/sdp';

describe('audioOfferLines gives the attribute lines of our offer', () => {
  it('lists the G.711 codecs with their static payload types (RFC 3551 table 4)', () => {
    expect(audioOfferLines({ codecs: ['pcmu', 'pcma'] })).toEqual(['a=rtpmap:0 PCMU/8000', 'a=rtpmap:8 PCMA/8000']);
    expect(audioOfferPayloadTypes({ codecs: ['pcma', 'pcmu'] })).toEqual([8, 0]);
  });

  it('adds RED with the primary repeated depth + 1 times (RFC 2198 §5)', () => {
    expect(audioOfferLines({ codecs: ['pcma'], redundancy: { payloadType: 99, depth: 2 } })).toEqual([
      'a=rtpmap:99 red/8000',
      'a=fmtp:99 8/8/8',
      'a=rtpmap:8 PCMA/8000',
    ]);
    expect(audioOfferPayloadTypes({ codecs: ['pcmu', 'pcma'], redundancy: { payloadType: 101, depth: 1 } })).toEqual([
      101, 0, 8,
    ]);
  });

  it('rejects what cannot be offered', () => {
    expect(() => audioOfferLines({ codecs: [] })).toThrow(/codec/);
    expect(() => audioOfferLines({ codecs: ['g729' as 'pcmu'] })).toThrow(/pcmu/);
    expect(() => audioOfferLines({ codecs: ['pcmu'], redundancy: { payloadType: 8, depth: 1 } })).toThrow(/dynamic/);
    expect(() => audioOfferLines({ codecs: ['pcmu'], redundancy: { payloadType: 99, depth: 0 } })).toThrow(/depth/);
  });
});

describe('parseRedundancyAnswer reads whether the far end took RED', () => {
  const answer = [
    'v=0',
    'o=- 1 2 IN IP4 192.0.2.10',
    's=-',
    'c=IN IP4 192.0.2.10',
    't=0 0',
    'm=audio 40000 RTP/AVP 98 0',
    'a=fmtp:98 0/0/0',
    'a=rtpmap:0 PCMU/8000',
    'a=rtpmap:98 RED/8000',
    'a=ptime:20',
    '',
  ];

  it('finds the RED payload type and depth with LF or CRLF line ends, fmtp before rtpmap', () => {
    expect(parseRedundancyAnswer(answer.join('\n'), 'pcmu')).toEqual({ payloadType: 98, depth: 2 });
    expect(parseRedundancyAnswer(answer.join('\r\n'), 'pcmu')).toEqual({ payloadType: 98, depth: 2 });
  });

  it('is null when RED carries another codec, has no fmtp, or is not on the m=audio line', () => {
    expect(parseRedundancyAnswer(answer.join('\n'), 'pcma')).toBeNull();
    expect(parseRedundancyAnswer(answer.filter((l) => !l.startsWith('a=fmtp')).join('\n'), 'pcmu')).toBeNull();
    const refused = answer.map((l) => (l.startsWith('m=audio') ? 'm=audio 40000 RTP/AVP 0' : l));
    expect(parseRedundancyAnswer(refused.join('\n'), 'pcmu')).toBeNull();
    expect(parseRedundancyAnswer('a=rtpmap:99 red/8000\na=fmtp:99 0/8\n', 'pcmu')).toBeNull();
    expect(parseRedundancyAnswer('a=rtpmap:99 red/8000\na=fmtp:99 0\n', 'pcmu')).toBeNull();
  });

  it('reads only audio sections and ignores unknown lines', () => {
    const sdp = [
      'v=0',
      'm=image 40002 udptl t38',
      'a=rtpmap:97 red/8000',
      'a=fmtp:97 8/8',
      'm=audio 40000 RTP/AVP 8 96',
      'a=x-unknown:whatever',
      'a=rtpmap:96 red/8000/1',
      'a=fmtp:96 8/8/8/8',
      'garbage line',
    ].join('\r\n');
    expect(parseRedundancyAnswer(sdp, 'pcma')).toEqual({ payloadType: 96, depth: 3 });
  });

  it('reads a fragment without m= lines', () => {
    expect(parseRedundancyAnswer('a=rtpmap:100 red/8000\na=fmtp:100 0/0', 'pcmu')).toEqual({
      payloadType: 100,
      depth: 1,
    });
  });

  it('is null for an SDP without RED or for junk', () => {
    expect(parseRedundancyAnswer('v=0\r\nm=audio 4000 RTP/AVP 0\r\n', 'pcmu')).toBeNull();
    expect(parseRedundancyAnswer('', 'pcmu')).toBeNull();
    expect(parseRedundancyAnswer(42 as unknown as string, 'pcmu')).toBeNull();
  });
});
