import {
  answerT38,
  DEFAULT_T38_PARAMS,
  negotiatedUdptl,
  parseT38Attributes,
  parseT38Media,
  t38AttributeLines,
  t38MediaLines,
  type T38Params,
} from '../../lib/transports/t38/sdp';

/** A T38Params from the defaults with some fields changed. */
function params(changes: Partial<T38Params> = {}): T38Params {
  return { ...DEFAULT_T38_PARAMS, ...changes };
}

/** What an absent-everything parse gives: version 0, 14400, transferredTCF, no EC, flags false. */
const ABSENT: T38Params = {
  version: 0,
  maxBitRate: 14400,
  rateManagement: 'transferredTCF',
  errorCorrection: 'none',
  fillBitRemoval: false,
  transcodingMMR: false,
  transcodingJBIG: false,
};

describe('t38AttributeLines writes our capabilities as T.38 Annex D attributes', () => {
  it('gives the default offer in Annex D order, each name:value as the Annex spells it', () => {
    expect(t38AttributeLines(DEFAULT_T38_PARAMS)).toEqual([
      'a=T38FaxVersion:0',
      'a=T38MaxBitRate:14400',
      'a=T38FaxRateManagement:transferredTCF',
      'a=T38FaxMaxBuffer:2000',
      'a=T38FaxMaxDatagram:400',
      'a=T38FaxUdpEC:t38UDPRedundancy',
    ]);
  });

  it('writes true booleans as bare flags (RFC 4612: inclusion = true) and false ones not at all', () => {
    expect(
      t38AttributeLines(
        params({
          version: 3,
          maxBitRate: 33600,
          rateManagement: 'localTCF',
          fillBitRemoval: true,
          transcodingMMR: true,
          transcodingJBIG: true,
          errorCorrection: 'fec',
          maxBuffer: undefined,
          maxDatagram: 1400,
        }),
      ),
    ).toEqual([
      'a=T38FaxVersion:3',
      'a=T38MaxBitRate:33600',
      'a=T38FaxFillBitRemoval',
      'a=T38FaxTranscodingMMR',
      'a=T38FaxTranscodingJBIG',
      'a=T38FaxRateManagement:localTCF',
      'a=T38FaxMaxDatagram:1400',
      'a=T38FaxUdpEC:t38UDPFEC',
    ]);
  });

  it('says no error correction by leaving T38FaxUdpEC out (Annex D defines only FEC and redundancy)', () => {
    const lines = t38AttributeLines(params({ errorCorrection: 'none' }));
    expect(lines.some((line) => line.startsWith('a=T38FaxUdpEC'))).toBe(false);
    expect(parseT38Attributes(lines).errorCorrection).toBe('none');
  });

  it('rejects parameters that cannot be written', () => {
    expect(() => t38AttributeLines(params({ version: 4 as 3 }))).toThrow(/version/);
    expect(() => t38AttributeLines(params({ maxBitRate: 0 }))).toThrow(/maxBitRate/);
    expect(() => t38AttributeLines(params({ maxBitRate: 14400.5 }))).toThrow(/maxBitRate/);
    expect(() => t38AttributeLines(params({ rateManagement: 'remoteTCF' as 'localTCF' }))).toThrow(/rateManagement/);
    expect(() => t38AttributeLines(params({ maxDatagram: 0 }))).toThrow(/maxDatagram/);
    expect(() => t38AttributeLines(params({ maxBuffer: 70000 }))).toThrow(/maxBuffer/);
    expect(() => t38AttributeLines(params({ errorCorrection: 'parity' as 'fec' }))).toThrow(/errorCorrection/);
    expect(() => t38AttributeLines(params({ fillBitRemoval: 1 as unknown as boolean }))).toThrow(/fillBitRemoval/);
    expect(() => t38AttributeLines(null as unknown as T38Params)).toThrow(/object/);
  });
});

describe('t38MediaLines gives the media section of an offer', () => {
  it('starts with m=image PORT udptl t38 (RFC 3362) and carries the attributes', () => {
    expect(t38MediaLines(4000, params({ errorCorrection: 'none', maxBuffer: undefined }))).toEqual([
      'm=image 4000 udptl t38',
      'a=T38FaxVersion:0',
      'a=T38MaxBitRate:14400',
      'a=T38FaxRateManagement:transferredTCF',
      'a=T38FaxMaxDatagram:400',
    ]);
  });

  it('accepts port 0 (a refused stream) and rejects ports off the 16-bit range', () => {
    expect(t38MediaLines(0, DEFAULT_T38_PARAMS)[0]).toBe('m=image 0 udptl t38');
    expect(() => t38MediaLines(65536, DEFAULT_T38_PARAMS)).toThrow(/port/);
    expect(() => t38MediaLines(-1, DEFAULT_T38_PARAMS)).toThrow(/port/);
  });
});

describe('parseT38Attributes reads offers as the field writes them', () => {
  it('reads an Asterisk-style re-INVITE offer (bare attributes, MaxDatagram, redundancy)', () => {
    const sdp = [
      'v=0',
      'o=root 1821 1822 IN IP4 192.0.2.20',
      's=Asterisk PBX',
      'c=IN IP4 192.0.2.20',
      't=0 0',
      'm=image 4402 udptl t38',
      'a=T38FaxVersion:0',
      'a=T38MaxBitRate:14400',
      'a=T38FaxRateManagement:transferredTCF',
      'a=T38FaxMaxDatagram:400',
      'a=T38FaxUdpEC:t38UDPRedundancy',
      '',
    ].join('\r\n');
    const notes: string[] = [];
    expect(parseT38Attributes(sdp, notes)).toEqual({ ...ABSENT, maxDatagram: 400, errorCorrection: 'redundancy' });
    expect(notes).toEqual([]);
    expect(parseT38Media(sdp)).toEqual({
      host: '192.0.2.20',
      port: 4402,
      params: { ...ABSENT, maxDatagram: 400, errorCorrection: 'redundancy' },
    });
  });

  it('reads a FreeSWITCH-style offer with audio first, MaxBuffer, MaxDatagram and UdpEC', () => {
    const sdp = [
      'v=0',
      'o=FreeSWITCH 1700000000 1700000001 IN IP4 198.51.100.7',
      's=FreeSWITCH',
      'c=IN IP4 198.51.100.7',
      't=0 0',
      'm=audio 0 RTP/AVP 0',
      'a=T38FaxVersion:3', // in the audio section: not ours to read
      'm=image 16902 udptl t38',
      'a=T38FaxVersion:0',
      'a=T38MaxBitRate:9600',
      'a=T38FaxRateManagement:transferredTCF',
      'a=T38FaxMaxBuffer:2000',
      'a=T38FaxMaxDatagram:1400',
      'a=T38FaxUdpEC:t38UDPRedundancy',
      '',
    ].join('\n');
    expect(parseT38Media(sdp)).toEqual({
      host: '198.51.100.7',
      port: 16902,
      params: { ...ABSENT, maxBitRate: 9600, maxBuffer: 2000, maxDatagram: 1400, errorCorrection: 'redundancy' },
    });
  });

  it('reads a Cisco-style offer: T38FaxMaxRate, `:0` booleans as false, a media-level c=', () => {
    const sdp = [
      'v=0',
      'o=CiscoSystemsSIP-GW-UserAgent 4475 1290 IN IP4 203.0.113.5',
      's=SIP Call',
      'c=IN IP4 203.0.113.5',
      't=0 0',
      'm=image 17446 udptl t38',
      'c=IN IP4 203.0.113.9',
      'a=T38FaxVersion:0',
      'a=T38FaxMaxRate:14400',
      'a=T38FaxFillBitRemoval:0',
      'a=T38FaxTranscodingMMR:0',
      'a=T38FaxTranscodingJBIG:0',
      'a=T38FaxRateManagement:transferredTCF',
      'a=T38FaxMaxBuffer:200',
      'a=T38FaxMaxDatagram:72',
      '',
    ].join('\r\n');
    // No T38FaxUdpEC: the far end stated no error correction.
    expect(parseT38Media(sdp)).toEqual({
      host: '203.0.113.9',
      port: 17446,
      params: { ...ABSENT, maxBuffer: 200, maxDatagram: 72 },
    });
  });

  it('reads the booleans by value: bare and :1 are true, :0 is false', () => {
    expect(
      parseT38Attributes(['a=T38FaxFillBitRemoval', 'a=T38FaxTranscodingMMR:1', 'a=T38FaxTranscodingJBIG:0']),
    ).toMatchObject({ fillBitRemoval: true, transcodingMMR: true, transcodingJBIG: false });
  });

  it('reads names case-insensitively, lines with or without a=, and T38MaxDatagram', () => {
    expect(
      parseT38Attributes([
        'T38FAXVERSION:2',
        'a=t38maxbitrate:12000',
        'a=T38FaxUdpEc:T38UDPFEC',
        'a=t38faxratemanagement:LocalTCF',
        'a=T38MaxDatagram:160',
      ]),
    ).toEqual({
      ...ABSENT,
      version: 2,
      maxBitRate: 12000,
      errorCorrection: 'fec',
      rateManagement: 'localTCF',
      maxDatagram: 160,
    });
  });

  it('leaves unreadable values as if absent, with a note, never NaN', () => {
    const notes: string[] = [];
    const got = parseT38Attributes(
      [
        'a=T38FaxVersion:x',
        'a=T38MaxBitRate:-14400',
        'a=T38FaxMaxDatagram:400bytes',
        'a=T38FaxMaxBuffer:99999999999',
        'a=T38FaxRateManagement:',
        'a=T38FaxUdpEC:t38UDPParity',
        'a=T38FaxFillBitRemoval:maybe',
      ],
      notes,
    );
    expect(got).toEqual(ABSENT);
    expect(notes).toHaveLength(7);
    expect(notes[0]).toMatch(/T38FaxVersion:x/);
  });

  it('ignores unknown attributes, keeps the first of a repeated one, clamps a version above 3', () => {
    const notes: string[] = [];
    expect(
      parseT38Attributes(
        [
          'a=T38FaxVersion:4',
          'a=T38FaxUdpECDepth:1 2',
          'a=T38VendorInfo:0 0 0',
          'a=T38MaxBitRate:9600',
          'a=T38MaxBitRate:14400',
          'a=sendrecv',
          'a=T38FaxUdpEC:t38UDPNoEC',
        ],
        notes,
      ),
    ).toEqual({ ...ABSENT, version: 3, maxBitRate: 9600 });
    expect(notes).toEqual(['T38MaxBitRate repeated: the first one is used']);
  });

  it('reads nothing from an SDP without a T.38 stream', () => {
    const audioOnly = 'v=0\r\nc=IN IP4 192.0.2.1\r\nm=audio 4000 RTP/AVP 0\r\na=T38FaxVersion:2\r\n';
    expect(parseT38Attributes(audioOnly)).toEqual(ABSENT);
    expect(parseT38Media(audioOnly)).toBeNull();
  });

  it('round-trips every parameter through the lines it writes', () => {
    const all = params({
      version: 1,
      maxBitRate: 7200,
      rateManagement: 'localTCF',
      maxBuffer: 1800,
      maxDatagram: 150,
      errorCorrection: 'fec',
      fillBitRemoval: true,
      transcodingMMR: false,
      transcodingJBIG: true,
    });
    expect(parseT38Attributes(t38AttributeLines(all))).toEqual(all);
    expect(parseT38Attributes(t38AttributeLines(DEFAULT_T38_PARAMS))).toEqual(DEFAULT_T38_PARAMS);
    const sdp = ['v=0', 'c=IN IP4 192.0.2.44', 't=0 0', ...t38MediaLines(5004, all)].join('\r\n');
    expect(parseT38Media(sdp)).toEqual({ host: '192.0.2.44', port: 5004, params: all });
  });
});

describe('parseT38Media finds where the far end wants T.38', () => {
  const base = ['v=0', 'o=- 1 1 IN IP4 192.0.2.1', 's=-', 'c=IN IP4 192.0.2.1', 't=0 0'];

  it('takes the first image/udptl/t38 stream, its port before any /count, the session c= by default', () => {
    const sdp = [...base, 'm=image 6000/2 UDPTL t38', 'a=T38FaxVersion:0'].join('\r\n');
    expect(parseT38Media(sdp)).toMatchObject({ host: '192.0.2.1', port: 6000 });
  });

  it('is null for a refused stream (port 0), an IPv6 address, or no c= at all', () => {
    expect(parseT38Media([...base, 'm=image 0 udptl t38'].join('\r\n'))).toBeNull();
    expect(parseT38Media([...base, 'm=image 6000 udptl t38', 'c=IN IP6 2001:db8::1'].join('\r\n'))).toBeNull();
    expect(parseT38Media(['v=0', 't=0 0', 'm=image 6000 udptl t38'].join('\r\n'))).toBeNull();
    expect(parseT38Media([...base, 'm=image 6000 udptl t38'].join('\r\n'))).not.toBeNull();
  });

  it('skips image streams that are not T.38 over UDPTL', () => {
    const sdp = [...base, 'm=image 5000 tcp t38', 'm=image 7000 udptl t38', 'c=IN IP4 192.0.2.7'].join('\r\n');
    expect(parseT38Media(sdp)).toMatchObject({ host: '192.0.2.7', port: 7000 });
    expect(parseT38Media(42 as unknown as string)).toBeNull();
  });
});

describe('answerT38 answers a far end offer', () => {
  it('takes the lower version and bit rate, the offer rate management, our buffer and datagram', () => {
    const offer = params({ version: 2, maxBitRate: 9600, rateManagement: 'localTCF', maxBuffer: 200, maxDatagram: 72 });
    expect(answerT38(offer, DEFAULT_T38_PARAMS)).toEqual({
      version: 0,
      maxBitRate: 9600,
      rateManagement: 'localTCF',
      maxBuffer: 2000,
      maxDatagram: 400,
      errorCorrection: 'redundancy',
      fillBitRemoval: false,
      transcodingMMR: false,
      transcodingJBIG: false,
    });
    expect(
      answerT38(params({ version: 1, maxBitRate: 14400 }), params({ version: 3, maxBitRate: 12000 })),
    ).toMatchObject({ version: 1, maxBitRate: 12000 });
  });

  it('answers FEC only when we do FEC, else redundancy; never more than was offered', () => {
    const ec = (offer: T38Params['errorCorrection'], ours: T38Params['errorCorrection']) =>
      answerT38(params({ errorCorrection: offer }), params({ errorCorrection: ours })).errorCorrection;
    expect(ec('fec', 'fec')).toBe('fec');
    expect(ec('fec', 'redundancy')).toBe('redundancy');
    expect(ec('fec', 'none')).toBe('none');
    expect(ec('redundancy', 'fec')).toBe('redundancy');
    expect(ec('redundancy', 'redundancy')).toBe('redundancy');
    expect(ec('none', 'fec')).toBe('none');
  });

  it('keeps a boolean only when both sides have it', () => {
    const offer = params({ fillBitRemoval: true, transcodingMMR: true, transcodingJBIG: false });
    const ours = params({ fillBitRemoval: true, transcodingMMR: false, transcodingJBIG: true });
    expect(answerT38(offer, ours)).toMatchObject({
      fillBitRemoval: true,
      transcodingMMR: false,
      transcodingJBIG: false,
    });
  });

  it('answers the Cisco-style offer with lines a peer reads back as the same answer', () => {
    const offer = parseT38Attributes([
      'a=T38FaxVersion:0',
      'a=T38FaxMaxRate:14400',
      'a=T38FaxFillBitRemoval:0',
      'a=T38FaxRateManagement:transferredTCF',
      'a=T38FaxMaxDatagram:72',
      'a=T38FaxUdpEC:t38UDPRedundancy',
    ]);
    const answer = answerT38(offer, DEFAULT_T38_PARAMS);
    expect(t38AttributeLines(answer)).toEqual([
      'a=T38FaxVersion:0',
      'a=T38MaxBitRate:14400',
      'a=T38FaxRateManagement:transferredTCF',
      'a=T38FaxMaxBuffer:2000',
      'a=T38FaxMaxDatagram:400',
      'a=T38FaxUdpEC:t38UDPRedundancy',
    ]);
    expect(parseT38Attributes(t38AttributeLines(answer))).toEqual(answer);
  });
});

describe('negotiatedUdptl says what drives our UDPTL sender', () => {
  it("uses the far end's maximum datagram and the lesser error correction", () => {
    expect(negotiatedUdptl(DEFAULT_T38_PARAMS, params({ maxDatagram: 72, errorCorrection: 'fec' }))).toEqual({
      errorCorrection: 'redundancy',
      maxDatagram: 72,
    });
    expect(negotiatedUdptl(params({ errorCorrection: 'fec' }), params({ errorCorrection: 'fec' }))).toEqual({
      errorCorrection: 'fec',
      maxDatagram: 400,
    });
  });

  it('falls back to 400 when the far end stated none, and clamps to what the sender supports', () => {
    expect(negotiatedUdptl(DEFAULT_T38_PARAMS, params({ maxDatagram: undefined })).maxDatagram).toBe(400);
    expect(negotiatedUdptl(DEFAULT_T38_PARAMS, params({ maxDatagram: 20 })).maxDatagram).toBe(32);
    expect(negotiatedUdptl(DEFAULT_T38_PARAMS, params({ maxDatagram: 9000 })).maxDatagram).toBe(1500);
    expect(negotiatedUdptl(params({ maxDatagram: 72 }), params({ errorCorrection: 'none' }))).toEqual({
      errorCorrection: 'none',
      maxDatagram: 400,
    });
  });
});
