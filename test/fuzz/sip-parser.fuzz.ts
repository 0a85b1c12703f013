/**
 * A bounded, deterministic mutation fuzzer for the SIP parser (issue 15 item 6). No external tool: a
 * seeded PRNG mutates the committed corpus (test/fixtures/sip/corpus/*.sip) with byte flips, truncations,
 * duplications, splices of two seeds, huge and many headers, and SIP-significant characters, and checks:
 *   - parseMessage returns a message or throws SipParseError, nothing else;
 *   - serializeMessage(parse(x)) parses back to an equal message;
 *   - SipStreamParser, fed x in random chunks, throws only SipParseError and never holds more than
 *     MAX_MESSAGE_BYTES, and its messages round-trip the same way;
 *   - parseUri / parseNameAddr / parseVia / parseCSeq on any header value return or throw SipParseError.
 * jest runs it through sip-parser.fuzz.test.ts; run it longer with
 *   npx ts-node --transpile-only test/fuzz/sip-parser.fuzz.ts [iterations] [seed]
 */
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { random } from '../helpers/pages';
import {
  getHeaders,
  MAX_MESSAGE_BYTES,
  parseCSeq,
  parseMessage,
  parseNameAddr,
  parseUri,
  parseVia,
  serializeMessage,
  SipParseError,
  SipStreamParser,
  type SipMessage,
} from '../../lib/sip/message';

/** The committed seed corpus directory. */
export const CORPUS_DIR = path.join(__dirname, '..', 'fixtures', 'sip', 'corpus');

/** The seeds, sorted by file name so runs are reproducible. */
export function loadCorpus(dir = CORPUS_DIR): { name: string; data: Buffer }[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.sip'))
    .sort()
    .map((name) => ({ name, data: readFileSync(path.join(dir, name)) }));
}

/** The tests' seedable PRNG (mulberry32): deterministic runs, reproducible failures. */
export const prng = random;

// Byte strings that matter to SIP's grammar, spliced in at random places.
const TOKENS = [
  '\r\n',
  '\r\n ',
  '\r\n\r\n',
  '\r',
  '\n',
  ' ',
  '\t',
  ',',
  ';',
  ':',
  '"',
  '\\',
  '<',
  '>',
  '@',
  '%',
  '%4',
  '[',
  ']',
  '=',
  '?',
  '\0',
  'Content-Length: -1\r\n',
  'l: 99999\r\n',
  'Content-Length: 0\r\n',
  'Via: SIP/2.0/UDP [::1]:5060;rport\r\n',
  'v: SIP/2.0/TCP h\r\n',
  'SIP/2.0 ',
  '\u00e9',
  '\xff',
].map((t) => Buffer.from(t, t === '\xff' ? 'latin1' : 'utf8'));

/** One random mutation of `data` (seeds available for splicing). */
function mutateOnce(data: Buffer, seeds: Buffer[], rand: () => number): Buffer {
  const int = (n: number) => Math.floor(rand() * n);
  const at = () => int(data.length + 1);
  switch (int(10)) {
    case 0: {
      // Byte flips.
      const out = Buffer.from(data);
      for (let i = 1 + int(8); i > 0 && out.length > 0; i--) out[int(out.length)] = int(256);
      return out;
    }
    case 1:
      return data.subarray(0, at());
    case 2: {
      // Duplicate a slice in place.
      const from = at();
      const to = Math.min(data.length, from + int(200));
      return Buffer.concat([data.subarray(0, to), data.subarray(from, to), data.subarray(to)]);
    }
    case 3: {
      // Splice: the head of this one, the tail of another seed.
      const other = seeds[int(seeds.length)];
      return Buffer.concat([data.subarray(0, at()), other.subarray(int(other.length + 1))]);
    }
    case 4: {
      // A huge header line after the start line: around MAX_HEADER_LINE_BYTES, or past the message bound.
      const sizes = [8180, 8192, 8193, 20000, MAX_MESSAGE_BYTES + 10];
      const line = Buffer.from(`X-Huge: ${'h'.repeat(sizes[int(sizes.length)])}\r\n`);
      const eol = data.indexOf('\r\n');
      const where = eol < 0 ? 0 : eol + 2;
      return Buffer.concat([data.subarray(0, where), line, data.subarray(where)]);
    }
    case 5: {
      // Many header lines, around MAX_HEADERS.
      const count = 240 + int(40);
      const lines = Buffer.from(Array.from({ length: count }, (_, i) => `X-${i}: ${i}\r\n`).join(''));
      const eol = data.indexOf('\r\n');
      const where = eol < 0 ? 0 : eol + 2;
      return Buffer.concat([data.subarray(0, where), lines, data.subarray(where)]);
    }
    case 6:
    case 7: {
      const token = TOKENS[int(TOKENS.length)];
      const where = at();
      return Buffer.concat([data.subarray(0, where), token, data.subarray(where)]);
    }
    case 8: {
      // Delete a slice.
      const from = at();
      return Buffer.concat([data.subarray(0, from), data.subarray(Math.min(data.length, from + 1 + int(40)))]);
    }
    default: {
      // Replace a run of digits with a big, zero, or negative number.
      const text = data.toString('latin1');
      const runs = [...text.matchAll(/[0-9]+/g)];
      if (runs.length === 0) return data;
      const run = runs[int(runs.length)];
      const values = ['0', '4294967296', '99999999999999999999', '-1', '65536', '2147483648'];
      const start = run.index ?? 0;
      return Buffer.concat([
        data.subarray(0, start),
        Buffer.from(values[int(values.length)]),
        data.subarray(start + run[0].length),
      ]);
    }
  }
}

/** What went wrong in one iteration, with the input to replay it. */
export interface FuzzFailure {
  iteration: number;
  check: string;
  detail: string;
  inputHex: string;
}

/** Totals of one run. */
export interface FuzzReport {
  iterations: number;
  parsed: number;
  rejected: number;
  streamMessages: number;
  maxBuffered: number;
  failures: FuzzFailure[];
}

function isParseError(error: unknown): boolean {
  return error instanceof SipParseError && error.code === 'ERR_FAXLINE_SIP_PARSE';
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

/** serialize → parse gives the same message back; a string saying how not, or null. */
function roundTrip(m: SipMessage): string | null {
  let again: SipMessage;
  try {
    again = parseMessage(serializeMessage(m));
  } catch (error) {
    return `reparse threw ${describe(error)}`;
  }
  return isDeepStrictEqual(again, m) ? null : 'reparsed message differs';
}

/** The grammar helpers on every value of the headers that carry them: SipParseError or a value. */
function helpersHold(m: SipMessage): string | null {
  const checks: [string, (v: string) => unknown][] = [
    ['Via', (v) => parseVia(v)],
    ['From', (v) => parseNameAddr(v)],
    ['To', (v) => parseNameAddr(v)],
    ['Contact', (v) => parseNameAddr(v)],
    ['Route', (v) => parseNameAddr(v)],
    ['Record-Route', (v) => parseNameAddr(v)],
    ['CSeq', (v) => parseCSeq(v)],
  ];
  for (const [name, fn] of checks) {
    for (const value of getHeaders(m, name)) {
      try {
        fn(value);
      } catch (error) {
        if (!isParseError(error)) return `${name} helper threw ${describe(error)}`;
      }
    }
  }
  if (m.type === 'request') {
    try {
      parseUri(m.uri);
    } catch (error) {
      if (!isParseError(error)) return `parseUri threw ${describe(error)}`;
    }
  }
  return null;
}

/** Runs `iterations` mutations over `seeds` from PRNG seed `seed`. Bounded: each input ≤ ~2 × MAX_MESSAGE_BYTES. */
export function runFuzz(options: { iterations: number; seed: number; seeds?: Buffer[] }): FuzzReport {
  const seeds = options.seeds ?? loadCorpus().map((s) => s.data);
  const rand = prng(options.seed);
  const report: FuzzReport = {
    iterations: options.iterations,
    parsed: 0,
    rejected: 0,
    streamMessages: 0,
    maxBuffered: 0,
    failures: [],
  };
  const fail = (iteration: number, check: string, detail: string, input: Buffer) => {
    // Keep the first few only: one is enough to replay, and the report stays small.
    if (report.failures.length < 10) {
      report.failures.push({ iteration, check, detail, inputHex: input.subarray(0, 4096).toString('hex') });
    }
  };
  for (let i = 0; i < options.iterations; i++) {
    let input = seeds[Math.floor(rand() * seeds.length)];
    for (let n = 1 + Math.floor(rand() * 3); n > 0; n--) input = mutateOnce(input, seeds, rand);
    if (input.length > 2 * MAX_MESSAGE_BYTES) input = input.subarray(0, 2 * MAX_MESSAGE_BYTES);

    let message: SipMessage | undefined;
    try {
      message = parseMessage(input);
      report.parsed++;
    } catch (error) {
      report.rejected++;
      if (!isParseError(error)) fail(i, 'parseMessage throws only SipParseError', describe(error), input);
    }
    if (message) {
      const rt = roundTrip(message);
      if (rt) fail(i, 'serialize(parse(x)) reparses equal', rt, input);
      const helpers = helpersHold(message);
      if (helpers) fail(i, 'grammar helpers throw only SipParseError', helpers, input);
    }

    // The same bytes as a TCP stream, cut into random chunks.
    // Per-message errors (framing intact) go to onError; a throw means the stream broke for good.
    const parser = new SipStreamParser({
      onError: (error) => {
        if (!isParseError(error)) fail(i, 'SipStreamParser reports only SipParseError', describe(error), input);
      },
    });
    let offset = 0;
    try {
      while (offset < input.length) {
        const size = 1 + Math.floor(rand() * (rand() < 0.2 ? 16 : 4096));
        for (const m of parser.push(input.subarray(offset, offset + size))) {
          report.streamMessages++;
          const rt = roundTrip(m);
          if (rt) fail(i, 'stream messages reparse equal', rt, input);
        }
        offset += size;
        report.maxBuffered = Math.max(report.maxBuffered, parser.buffered);
        if (parser.buffered > MAX_MESSAGE_BYTES) {
          fail(i, 'the stream parser holds at most MAX_MESSAGE_BYTES', `${parser.buffered} bytes`, input);
          break;
        }
      }
    } catch (error) {
      if (!isParseError(error)) fail(i, 'SipStreamParser throws only SipParseError', describe(error), input);
      if (parser.buffered !== 0) fail(i, 'a broken stream parser holds nothing', `${parser.buffered} bytes`, input);
    }
  }
  return report;
}

if (require.main === module) {
  const iterations = Number(process.argv[2] ?? 200000);
  const seed = Number(process.argv[3] ?? 1);
  const report = runFuzz({ iterations, seed });
  console.log(
    JSON.stringify({ ...report, failures: report.failures.map((f) => ({ ...f, inputHex: undefined })) }, null, 2),
  );
  for (const f of report.failures)
    console.log(`iteration ${f.iteration}: ${f.check}: ${f.detail}\n  input: ${f.inputHex}`);
  process.exitCode = report.failures.length === 0 ? 0 : 1;
}
