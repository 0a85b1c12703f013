import {
  AudioSocketParser,
  KIND_AUDIO,
  KIND_DTMF,
  KIND_ERROR,
  KIND_HANGUP,
  KIND_UUID,
  bytesToUuid,
  describeError,
  encodeMessage,
  isUuid,
  uuidToBytes,
  type AudioSocketMessage,
} from '../../lib/transports/audiosocket';
import { InvalidOptionError } from '../../lib/base/errors';

/** Bytes from a string of hex pairs, spaces ignored, so vectors read like a wire dump. */
function hex(text: string): Buffer {
  return Buffer.from(text.replace(/\s+/g, ''), 'hex');
}

/** A parser that records what it emits, payloads copied (they may be views of the chunk). */
function recorder(options?: { maxPayloadBytes?: number }) {
  const messages: { kind: number; payload: string }[] = [];
  const problems: string[] = [];
  const parser = new AudioSocketParser(
    {
      message: (m: AudioSocketMessage) =>
        messages.push({ kind: m.kind, payload: Buffer.from(m.payload).toString('hex') }),
      malformed: (reason) => problems.push(reason),
    },
    options,
  );
  return { parser, messages, problems };
}

// The UUID of the protocol's own dialplan example. Its message, derived by hand:
//   kind 0x01 (UUID); length 16 = 0x0010 big-endian = 00 10;
//   payload = the 32 hex digits in text order, two per byte, dashes dropped:
//   40 32 5e c2 | 5e fd | 4b d3 | 80 5f | 53 57 6e 58 1d 13
const EXAMPLE_UUID = '40325ec2-5efd-4bd3-805f-53576e581d13';
const EXAMPLE_UUID_MESSAGE = hex('01 0010 40325ec2 5efd 4bd3 805f 53576e581d13');

// Audio, 4 samples [1, -1, 0x1234, -32768], derived by hand:
//   kind 0x10; length 4 samples × 2 bytes = 8 = 00 08;
//   s16le: 1 → 01 00; -1 → two's complement ffff → ff ff; 0x1234 → 34 12; -32768 = 0x8000 → 00 80.
const SHORT_AUDIO_MESSAGE = hex('10 0008 0100 ffff 3412 0080');

describe('encodeMessage writes kind, big-endian length, payload', () => {
  it('writes the UUID message byte for byte', () => {
    expect(encodeMessage(KIND_UUID, uuidToBytes(EXAMPLE_UUID))).toEqual(EXAMPLE_UUID_MESSAGE);
  });

  it('writes a hangup as the three bytes 00 00 00', () => {
    expect(encodeMessage(KIND_HANGUP)).toEqual(hex('00 00 00'));
  });

  it('writes a 320-byte audio message (20 ms at 8 kHz) with header 10 01 40', () => {
    // 320 = 256 + 64 = 0x0140.
    const message = encodeMessage(KIND_AUDIO, Buffer.alloc(320, 0xaa));
    expect(message.length).toBe(323);
    expect(message.subarray(0, 3)).toEqual(hex('10 01 40'));
    expect(message.subarray(3).every((b) => b === 0xaa)).toBe(true);
  });

  it('writes the DTMF digit 5 as 03 00 01 35 (ASCII "5" is 0x35)', () => {
    expect(encodeMessage(KIND_DTMF, Buffer.from('5'))).toEqual(hex('03 0001 35'));
  });

  it('writes an error with code 0x02 as ff 00 01 02', () => {
    expect(encodeMessage(KIND_ERROR, Buffer.from([0x02]))).toEqual(hex('ff 0001 02'));
  });

  it('refuses a payload the 16-bit length cannot state and a kind that is no byte', () => {
    expect(() => encodeMessage(KIND_AUDIO, Buffer.alloc(65536))).toThrow(InvalidOptionError);
    expect(encodeMessage(KIND_AUDIO, Buffer.alloc(65534)).subarray(0, 3)).toEqual(hex('10 fffe'));
    expect(() => encodeMessage(256)).toThrow(InvalidOptionError);
    expect(() => encodeMessage(-1)).toThrow(InvalidOptionError);
  });
});

describe('UUIDs convert between RFC 4122 text and 16 bytes', () => {
  it('converts the example both ways', () => {
    expect(uuidToBytes(EXAMPLE_UUID)).toEqual(EXAMPLE_UUID_MESSAGE.subarray(3));
    expect(bytesToUuid(EXAMPLE_UUID_MESSAGE.subarray(3))).toBe(EXAMPLE_UUID);
  });

  it('accepts upper-case text and gives lower case back', () => {
    expect(bytesToUuid(uuidToBytes(EXAMPLE_UUID.toUpperCase()))).toBe(EXAMPLE_UUID);
  });

  it('refuses text that is not in the 8-4-4-4-12 form, and byte strings not 16 long', () => {
    for (const bad of [
      '',
      '40325ec25efd4bd3805f53576e581d13',
      '40325ec2-5efd-4bd3-805f-53576e581d1',
      '40325ec2-5efd-4bd3-805f-53576e581d1g',
    ]) {
      expect(isUuid(bad)).toBe(false);
      expect(() => uuidToBytes(bad)).toThrow(InvalidOptionError);
    }
    expect(() => bytesToUuid(Buffer.alloc(15))).toThrow(InvalidOptionError);
  });
});

describe('describeError names the bits of an Asterisk error code', () => {
  it('names each known bit and combinations', () => {
    expect(describeError(hex('01'))).toBe('0x01 (hangup of calling party)');
    expect(describeError(hex('02'))).toBe('0x02 (frame forwarding error)');
    expect(describeError(hex('04'))).toBe('0x04 (memory (allocation) error)');
    // 0x03 = 0x01 | 0x02.
    expect(describeError(hex('03'))).toBe('0x03 (hangup of calling party, frame forwarding error)');
  });

  it('says so for unknown bits and for an error without a code', () => {
    expect(describeError(hex('08'))).toBe('0x08 (unknown code)');
    expect(describeError(hex('81'))).toBe('0x81 (hangup of calling party, unknown code)');
    expect(describeError(Buffer.alloc(0))).toBe('without a code');
  });
});

describe('AudioSocketParser cuts a byte stream into messages', () => {
  const stream = Buffer.concat([EXAMPLE_UUID_MESSAGE, SHORT_AUDIO_MESSAGE, hex('03 0001 23'), hex('00 0000')]);
  const expected = [
    { kind: KIND_UUID, payload: '40325ec25efd4bd3805f53576e581d13' },
    { kind: KIND_AUDIO, payload: '0100ffff34120080' },
    { kind: KIND_DTMF, payload: '23' }, // '#'
    { kind: KIND_HANGUP, payload: '' },
  ];

  it('parses several messages in one chunk', () => {
    const { parser, messages, problems } = recorder();
    parser.feed(stream);
    expect(messages).toEqual(expected);
    expect(problems).toEqual([]);
    expect(parser.messages).toBe(4);
    expect(parser.pendingBytes).toBe(0);
  });

  it('parses the same stream fed one byte at a time', () => {
    const { parser, messages } = recorder();
    for (let i = 0; i < stream.length; i++) parser.feed(stream.subarray(i, i + 1));
    expect(messages).toEqual(expected);
  });

  it('parses the same stream split in two at every position', () => {
    for (let cut = 0; cut <= stream.length; cut++) {
      const { parser, messages, problems } = recorder();
      parser.feed(stream.subarray(0, cut));
      parser.feed(stream.subarray(cut));
      expect(messages).toEqual(expected);
      expect(problems).toEqual([]);
    }
  });

  it('holds back an unfinished message until the rest arrives', () => {
    const { parser, messages } = recorder();
    parser.feed(SHORT_AUDIO_MESSAGE.subarray(0, 5)); // header + 2 payload bytes
    expect(messages).toEqual([]);
    expect(parser.pendingBytes).toBe(5);
    parser.feed(SHORT_AUDIO_MESSAGE.subarray(5));
    expect(messages).toEqual([{ kind: KIND_AUDIO, payload: '0100ffff34120080' }]);
  });

  it('passes an error message with and without its code, and higher-rate audio kinds', () => {
    const { parser, messages, problems } = recorder();
    parser.feed(hex('ff 0001 04  ff 0000  12 0002 0100'));
    expect(messages).toEqual([
      { kind: KIND_ERROR, payload: '04' },
      { kind: KIND_ERROR, payload: '' },
      { kind: 0x12, payload: '0100' },
    ]);
    expect(problems).toEqual([]);
  });
});

describe('AudioSocketParser skips malformed messages by their length and stays in step', () => {
  // Each case: a bad message, then a good DTMF '1' (03 0001 31) that must still come out.
  const after = hex('03 0001 31');
  const good = { kind: KIND_DTMF, payload: '31' };
  const cases: [string, Buffer, RegExp][] = [
    ['an unknown kind (0x02)', hex('02 0003 aabbcc'), /unknown kind 0x02/],
    ['audio of an odd number of bytes', hex('10 0003 010203'), /not whole 16-bit samples/],
    ['audio without samples', hex('10 0000'), /no samples/],
    ['a UUID of 15 bytes', Buffer.concat([hex('01 000f'), Buffer.alloc(15)]), /not 16/],
    ['a DTMF of 2 bytes', hex('03 0002 3132'), /not 1/],
    ['a DTMF byte that is no key ("x" = 0x78)', hex('03 0001 78'), /0x78, not a key/],
    ['a hangup with a payload', hex('00 0001 00'), /no payload/],
  ];

  it.each(cases)('skips %s', (_name, bad, reason) => {
    const { parser, messages, problems } = recorder();
    parser.feed(Buffer.concat([bad, after]));
    expect(messages).toEqual([good]);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(reason);
    expect(parser.malformed).toBe(1);
  });

  it('skips a payload over the bound without holding it in memory', () => {
    const { parser, messages, problems } = recorder({ maxPayloadBytes: 1000 });
    // Audio of 0xfffe = 65534 bytes: even, but over the bound of 1000.
    parser.feed(hex('10 fffe'));
    for (let sent = 0; sent < 65534; sent += 4096) {
      parser.feed(Buffer.alloc(Math.min(4096, 65534 - sent), 0x55));
      expect(parser.pendingBytes).toBe(0);
    }
    parser.feed(after);
    expect(problems).toEqual(['a payload of 65534 bytes is over the bound of 1000']);
    expect(messages).toEqual([good]);
  });

  it('never throws on random bytes, and counts what it cannot use', () => {
    let seed = 12345;
    const random = (): number => {
      // A small LCG, so the test is the same on every run.
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed >> 16;
    };
    const { parser, messages } = recorder();
    const junk = Buffer.alloc(50_000);
    for (let i = 0; i < junk.length; i++) junk[i] = random() & 0xff;
    expect(() => {
      for (let at = 0, step = 1; at < junk.length; at += step, step = 1 + (random() % 700))
        parser.feed(junk.subarray(at, at + step));
    }).not.toThrow();
    expect(parser.malformed + parser.messages).toBeGreaterThan(0);
    expect(messages.length).toBe(parser.messages);
  });

  it('refuses a bound the length field cannot reach', () => {
    expect(() => recorder({ maxPayloadBytes: 70_000 })).toThrow(InvalidOptionError);
    expect(() => recorder({ maxPayloadBytes: 0 })).toThrow(InvalidOptionError);
  });
});
