import { pathToFileURL } from 'node:url';
import {
  ResultCode,
  buildTrace,
  formatTrace,
  LoopbackMedia,
  runLoopback,
  sendFax,
  traceToSvg,
  type FaxEvent,
  type SendFaxOptions,
  type T30Trace,
} from '../../lib';
import { tempDir, writeTextDocument } from '../helpers/pages';

// The document is a local file, which only the host may permit.
const quiet: SendFaxOptions = { log: () => undefined, allowFiles: true };

let tmp: ReturnType<typeof tempDir>;
let docUrl: string;
let docFile: string;
beforeAll(() => {
  tmp = tempDir();
  docFile = writeTextDocument(tmp.dir, 2, { firstSeed: 71 }).file;
  docUrl = pathToFileURL(docFile).href;
});
afterAll(() => tmp.cleanup());

/** Positions of each needle in the text, in order, or -1 where one is missing or out of order. */
function inOrder(text: string, needles: string[]): number[] {
  let from = 0;
  return needles.map((needle) => {
    const at = text.indexOf(needle, from);
    if (at >= 0) from = at + needle.length;
    return at;
  });
}

describe('the T.30 trace of a fax', () => {
  let trace: T30Trace;
  beforeAll(async () => {
    trace = (
      await sendFax(
        { document: docUrl, identity: '555 0100' },
        { media: new LoopbackMedia({ receiver: { identity: '555 0200' } }) },
        quiet,
      )
    ).trace;
  });

  test('lists every control frame sent and received, in call order, with nondecreasing times', () => {
    const labels = trace.frames.map((f) => `${f.direction === 'sent' ? '>' : '<'}${f.label}`);
    // The receiver speaks first (CSI, DIS); the sender identifies itself and sets up the
    // transfer (TSI, DCS), is cleared to send (CFR), and each ECM block ends in a PPS that the
    // receiver confirms (MCF); the last PPS carries EOP and the sender says goodbye (DCN).
    expect(labels.slice(0, 5)).toEqual(['<CSI', '<DIS', '>TSI', '>DCS', '<CFR']);
    expect(labels.filter((l) => l.startsWith('>PPS')).at(-1)).toBe('>PPS-EOP');
    expect(labels.filter((l) => l === '>PPS-MPS')).toHaveLength(1);
    expect(labels.at(-1)).toBe('>DCN');
    for (const f of trace.frames) {
      expect(f.hex).toMatch(/^ff(03|13)[0-9a-f]+$/);
      expect(f.name).toMatch(/^[A-Z-]+$/);
    }
    const times = trace.entries.map((e) => e.timeMs);
    expect([...times].sort((a, b) => a - b)).toEqual(times);
  });

  test('marks phase B, each confirmed page and the end in between the frames', () => {
    const marks = trace.entries
      .filter((e) => e.kind !== 'frame')
      .map((e) => (e.kind === 'page' ? `page ${e.page}` : e.kind));
    expect(marks).toEqual(['negotiated', 'page 1', 'page 2', 'finished']);
    expect(trace.entries.at(-1)).toMatchObject({
      kind: 'finished',
      code: ResultCode.OK,
      text: 'OK',
      success: true,
      pages: 2,
    });
    expect(trace.durationMs).toBe(trace.entries.at(-1)!.timeMs);
  });

  test('prints as one line per frame or mark', () => {
    const text = formatTrace(trace);
    const lines = text.trimEnd().split('\n');
    expect(lines).toHaveLength(trace.entries.length);
    expect(lines[0]).toMatch(/^\s+\d+\.\d{3} s {2}<- {2}CSI\s+ff/);
    expect(text).toMatch(/-> {2}DCS /);
    expect(text).toMatch(/== {2}phase B\n/);
    expect(text).toMatch(/== {2}page 1 confirmed \(14400 bit\/s, T\.6, ECM\)/);
    expect(lines.at(-1)).toMatch(/== {2}phase E: result 0: OK; 2 page\(s\)$/);
  });

  test('draws as a ladder SVG with the frames in order, times, image data, phase marks and the result', () => {
    const svg = traceToSvg(trace, { title: 'sample <fax> & co' });
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
    expect(svg).toContain('sample &lt;fax&gt; &amp; co');
    const positions = inOrder(
      svg,
      trace.frames.map((f) => `</title>${f.label}</text>`),
    );
    expect(positions.every((p) => p >= 0)).toBe(true);
    expect(svg.match(/<g class="sent">/g)).toHaveLength(trace.frames.filter((f) => f.direction === 'sent').length);
    expect(svg.match(/<g class="received">/g)).toHaveLength(
      trace.frames.filter((f) => f.direction === 'received').length,
    );
    expect(svg).toContain(`>${(trace.frames[0]!.timeMs / 1000).toFixed(3)} s</text>`);
    expect(svg).toContain('image data');
    expect(
      inOrder(svg, [
        'phase B',
        'page 1 confirmed (14400 bit/s, T.6, ECM)',
        'page 2 confirmed',
        `OK: result ${ResultCode.OK}: OK; 2 page(s)`,
      ]),
    ).not.toContain(-1);
    expect(svg).not.toContain('call ended here');
    // Balanced tags: every opened group is closed.
    expect(svg.match(/<g /g)?.length).toBe(svg.match(/<\/g>/g)?.length);
  });
});

describe('the ladder of a failed fax', () => {
  test('shows where the call stopped: the last frames, a red stop mark and the failure at the bottom', async () => {
    const outcome = await sendFax({ document: docUrl }, { media: new LoopbackMedia({ hangUpAtMs: 30_000 }) }, quiet);
    expect(outcome.result.code).toBe(ResultCode.CALL_DROPPED);
    const svg = traceToSvg(outcome.trace);
    const last = outcome.trace.frames.at(-1)!;
    expect(
      inOrder(svg, [
        `</title>${last.label}</text>`,
        'call ended here',
        `FAILED: result ${ResultCode.CALL_DROPPED}: The call dropped prematurely; 0 page(s)`,
      ]),
    ).not.toContain(-1);
    expect(svg).toContain('class="bad"');
  });

  test('a fax that never reached the modem still has its result', async () => {
    const outcome = await sendFax({ document: 'https//example.com/fax.pdf' }, { media: { kind: 'loopback' } }, quiet);
    const svg = traceToSvg(outcome.trace);
    expect(outcome.trace.frames).toEqual([]);
    expect(svg).toContain(`FAILED: result ${ResultCode.FILE_ERROR}: TIFF/F file cannot be opened; 0 page(s)`);
    expect(svg).toContain('<text class="detail"');
    expect(svg).toContain('send_fax.document &quot;https//example.com/fax.pdf&quot; is not an absolute URL');
  });

  test('a far end that never answers: nothing received, the timeout at the bottom', async () => {
    const call = await runLoopback({ document: docFile, receiver: { answers: false } });
    const trace = buildTrace(call.senderEvents, call.sender);
    expect(trace.frames.filter((f) => f.direction === 'received')).toEqual([]);
    expect(trace.entries.at(-1)).toMatchObject({ kind: 'finished', success: false, code: call.sender.code });
    const svg = traceToSvg(trace);
    expect(svg).toContain('call ended here');
    expect(svg).toContain(`FAILED: result ${call.sender.code}: ${call.sender.text}`);
  });
});

describe('buildTrace', () => {
  test('labels a PPS frame with its post-message from the fourth byte', () => {
    const frame = (bytes: number[]): FaxEvent => ({
      type: 'frame',
      timeMs: 1,
      direction: 'sent',
      name: 'PPS',
      bytes: Buffer.from(bytes),
    });
    const labels = buildTrace([
      frame([0xff, 0x13, 0xbf, 0x00]),
      frame([0xff, 0x13, 0xbf, 0x4f]),
      frame([0xff, 0x13, 0xbe, 0x2e]),
      frame([0xff, 0x13, 0xbf, 0x8f]),
    ]).frames.map((f) => f.label);
    expect(labels).toEqual(['PPS-NULL', 'PPS-MPS', 'PPS-EOP', 'PPS-EOM']);
  });
});
