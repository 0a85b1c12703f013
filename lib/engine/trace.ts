/**
 * The T.30 trace of one fax: every control frame sent and received with its time in the call,
 * the phase marks between them and the result, as data, as text and as a ladder diagram (SVG).
 * Built from one terminal's events, so "sent" and "received" are that terminal's view.
 */
import type { FaxEvent } from './events';
import type { FaxResult } from './result';

/** A T.30 control frame in the trace. */
export interface TraceFrame {
  kind: 'frame';
  /** Time in the call, milliseconds of line audio. */
  timeMs: number;
  direction: 'sent' | 'received';
  /** SpanDSP's name for the frame type, e.g. "DCS". */
  name: string;
  /** The name with what the frame carries when it matters, e.g. "PPS-EOP" for a PPS ending the document. */
  label: string;
  /** The frame's bytes (address, control, FCF, information; no CRC) in hex. */
  hex: string;
}

/**
 * Phase B. A sender reaches it when the receiver's DIS arrives, before its own DCS settles the
 * coding, so `compression` and `resolution` may still be empty then; the page marks carry what
 * was used.
 */
export interface TraceNegotiated {
  kind: 'negotiated';
  timeMs: number;
  bitRate: number;
  ecm: boolean;
  compression: string;
  resolution: string;
}

/** Phase D: a page was confirmed (sending) or received (receiving), and how it went. */
export interface TracePage {
  kind: 'page';
  timeMs: number;
  page: number;
  bitRate: number;
  ecm: boolean;
  compression: string;
}

/** Phase E: the call is over. */
export interface TraceFinished {
  kind: 'finished';
  timeMs: number;
  code: number;
  text: string;
  success: boolean;
  pages: number;
  detail: string;
}

/** One line of the trace. */
export type TraceEntry = TraceFrame | TraceNegotiated | TracePage | TraceFinished;

/** The trace of a fax, in the order things happened. */
export interface T30Trace {
  /** Frames and phase marks in order. */
  entries: TraceEntry[];
  /** Only the frames, in order. */
  frames: TraceFrame[];
  /** Line time of the call in milliseconds (the finished time). */
  durationMs: number;
}

// SpanDSP keeps T.30 frame codes with the X bit in bit 0; the post-message in a PPS frame's
// fourth byte says whether the partial page ends a page, the document or nothing.
const PPS_POST_MESSAGES: Record<number, string> = { 0x00: 'NULL', 0x4e: 'MPS', 0x2e: 'EOP', 0x8e: 'EOM' };

/** A frame's name with what it carries when that matters: "PPS-EOP" for a PPS ending the document. */
export function frameLabel(name: string, bytes: Uint8Array): string {
  if (name === 'PPS' && bytes.length > 3) {
    const post = PPS_POST_MESSAGES[bytes[3]! & 0xfe];
    if (post) return `PPS-${post}`;
  }
  return name;
}

/**
 * Builds the trace from a terminal's events. `result` is the terminal's result; a finished
 * mark is added from it when the events carry none (a fax that never reached the modem).
 */
export function buildTrace(events: readonly FaxEvent[], result?: FaxResult): T30Trace {
  const entries: TraceEntry[] = [];
  let finished: TraceFinished | null = null;
  for (const e of events) {
    switch (e.type) {
      case 'frame':
        entries.push({
          kind: 'frame',
          timeMs: e.timeMs,
          direction: e.direction,
          name: e.name,
          label: frameLabel(e.name, e.bytes),
          hex: Buffer.from(e.bytes.buffer, e.bytes.byteOffset, e.bytes.byteLength).toString('hex'),
        });
        break;
      case 'negotiated':
        entries.push({
          kind: 'negotiated',
          timeMs: e.timeMs,
          bitRate: e.stats.bitRate,
          ecm: e.stats.ecm,
          compression: e.stats.compression,
          resolution: e.stats.resolution,
        });
        break;
      case 'page':
        entries.push({
          kind: 'page',
          timeMs: e.timeMs,
          page: e.page,
          bitRate: e.stats.bitRate,
          ecm: e.stats.ecm,
          compression: e.stats.compression,
        });
        break;
      case 'finished':
        finished = finishedEntry(e.timeMs, e.result);
        entries.push(finished);
        break;
    }
  }
  if (!finished && result) {
    finished = finishedEntry(entries.at(-1)?.timeMs ?? 0, result);
    entries.push(finished);
  }
  return {
    entries,
    frames: entries.filter((e): e is TraceFrame => e.kind === 'frame'),
    durationMs: finished?.timeMs ?? entries.at(-1)?.timeMs ?? 0,
  };
}

function finishedEntry(timeMs: number, r: FaxResult): TraceFinished {
  return { kind: 'finished', timeMs, code: r.code, text: r.text, success: r.success, pages: r.pages, detail: r.detail };
}

function seconds(ms: number): string {
  return (ms / 1000).toFixed(3);
}

function phaseB(e: TraceNegotiated): string {
  return e.compression
    ? `phase B: ${e.bitRate} bit/s, ${e.compression}${e.ecm ? ', ECM' : ''}, ${e.resolution}`
    : 'phase B';
}

function pageLine(e: TracePage): string {
  return `page ${e.page} confirmed (${e.bitRate} bit/s${e.compression ? `, ${e.compression}` : ''}${e.ecm ? ', ECM' : ''})`;
}

function resultLine(f: TraceFinished): string {
  const detail = f.detail ? ` (${f.detail})` : '';
  return `result ${f.code}: ${f.text}${detail}; ${f.pages} page(s)`;
}

/** The trace as text, one line per frame or mark, e.g. `   9.680 s  <-  CFR   ff1384`. */
export function formatTrace(trace: T30Trace): string {
  const lines: string[] = [];
  for (const e of trace.entries) {
    const time = `${seconds(e.timeMs).padStart(9)} s`;
    switch (e.kind) {
      case 'frame':
        lines.push(`${time}  ${e.direction === 'sent' ? '->' : '<-'}  ${e.label.padEnd(8)} ${e.hex}`);
        break;
      case 'negotiated':
        lines.push(`${time}  ==  ${phaseB(e)}`);
        break;
      case 'page':
        lines.push(`${time}  ==  ${pageLine(e)}`);
        break;
      case 'finished':
        lines.push(`${time}  ==  phase E: ${resultLine(e)}`);
        break;
    }
  }
  return lines.join('\n') + '\n';
}

/** Options of traceToSvg. */
export interface LadderOptions {
  /** A title above the diagram. */
  title?: string;
  /** Name of the terminal whose trace it is (default "sender (faxline)"). */
  local?: string;
  /** Name of the far end (default "receiver"). */
  remote?: string;
}

function xml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** Post-page commands: the image data of a (partial) page goes on the line just before them. */
const POST_PAGE = /^(PPS|MPS|EOP|EOM|PRI-)/;

/** Where the ladder's parts go: the two lifelines' x, the row height, the page width. */
const LADDER = { width: 880, left: 200, right: 520, row: 30 } as const;
const MIDDLE = (LADDER.left + LADDER.right) / 2;

/**
 * The ladder's body drawn top to bottom: each step appends its SVG and moves `y` down, so
 * the steps read in the order they appear on the page.
 */
class LadderBody {
  readonly parts: string[] = [];
  y: number;

  constructor(top: number) {
    this.y = top + 20;
  }

  /** The time of a row, left of the local lifeline. */
  time(ms: number, at: number): void {
    this.parts.push(`<text class="t" x="${LADDER.left - 14}" y="${at + 4}" text-anchor="end">${seconds(ms)} s</text>`);
  }

  /** A dashed line across both lifelines with a note at its end (a phase, a page). */
  mark(text: string, cls: string): void {
    const { left, right, row } = LADDER;
    this.parts.push(`<line class="${cls}" x1="${left - 120}" y1="${this.y}" x2="${right + 20}" y2="${this.y}"/>`);
    this.parts.push(`<text class="${cls}-text" x="${right + 26}" y="${this.y + 4}">${xml(text)}</text>`);
    this.y += row * 0.8;
  }

  /** The band of image data sent between `fromMs` and `toMs`. */
  imageData(fromMs: number, toMs: number): void {
    const { left, right, row } = LADDER;
    const y = this.y;
    this.parts.push(`<rect class="image" x="${left}" y="${y - 9}" width="${right - left}" height="18"/>`);
    this.parts.push(
      `<text class="image-text" x="${MIDDLE}" y="${y + 4}" text-anchor="middle">image data, ${seconds(toMs - fromMs)} s</text>`,
    );
    this.y += row;
  }

  /** One frame as an arrow from the terminal that sent it, named, its bytes in a tooltip. */
  frame(e: TraceFrame): void {
    const { left, right, row } = LADDER;
    const y = this.y;
    const sent = e.direction === 'sent';
    const [x1, x2] = sent ? [left, right] : [right, left];
    const dy = 10;
    this.parts.push(`<g class="${sent ? 'sent' : 'received'}">`);
    this.parts.push(
      `<line x1="${x1}" y1="${y}" x2="${x2}" y2="${y + dy}" marker-end="url(#${sent ? 'arrow-sent' : 'arrow-received'})"/>`,
    );
    this.parts.push(
      `<text class="frame" x="${MIDDLE}" y="${y - 2}" text-anchor="middle"><title>${xml(e.hex)}</title>${xml(e.label)}</text>`,
    );
    this.parts.push('</g>');
    this.time(e.timeMs, y);
    this.y += row;
  }

  /** The red cross where a failed call stopped. */
  stop(e: TraceFinished, lineUsed: boolean): void {
    const cx = LADDER.left;
    const y = this.y;
    this.parts.push(
      `<g class="stop"><line x1="${cx - 8}" y1="${y - 8}" x2="${cx + 8}" y2="${y + 8}"/><line x1="${cx - 8}" y1="${y + 8}" x2="${cx + 8}" y2="${y - 8}"/></g>`,
    );
    this.parts.push(
      `<text class="stop-text" x="${cx + 16}" y="${y + 4}">${lineUsed ? 'call ended here' : 'ended before the line was used'}</text>`,
    );
    this.time(e.timeMs, y);
    this.y += LADDER.row;
  }

  /** The result under the lifelines: the verdict, then the detail when there is one. */
  verdict(finished: TraceFinished | null, failed: boolean): void {
    this.y += 22;
    const verdict = finished
      ? `${finished.success ? 'OK' : 'FAILED'}: result ${finished.code}: ${finished.text}; ${finished.pages} page(s), ${seconds(finished.timeMs)} s of line time`
      : 'no result';
    this.parts.push(
      `<text class="${failed || !finished ? 'bad' : 'good'}" x="${MIDDLE}" y="${this.y}" text-anchor="middle">${xml(verdict)}</text>`,
    );
    if (finished?.detail) {
      this.y += 18;
      const detail = finished.detail.length > 125 ? `${finished.detail.slice(0, 124)}…` : finished.detail;
      this.parts.push(`<text class="detail" x="${MIDDLE}" y="${this.y}" text-anchor="middle">${xml(detail)}</text>`);
    }
  }
}

/** Draws every entry of the trace, in order; returns the last result, and whether any failed. */
function drawEntries(body: LadderBody, trace: T30Trace): { finished: TraceFinished | null; failed: boolean } {
  let previous: TraceEntry | null = null;
  let finished: TraceFinished | null = null;
  let failed = false;
  for (const e of trace.entries) {
    switch (e.kind) {
      case 'frame':
        // Image data goes between the last thing heard (CFR, MCF, PPR, ...) and a post-page command.
        if (
          e.direction === 'sent' &&
          POST_PAGE.test(e.name) &&
          previous &&
          !(previous.kind === 'frame' && previous.direction === 'sent')
        ) {
          body.imageData(previous.timeMs, e.timeMs);
        }
        body.frame(e);
        break;
      case 'negotiated':
        body.mark(phaseB(e), 'phase');
        break;
      case 'page':
        body.mark(pageLine(e), 'page');
        break;
      case 'finished':
        finished = e;
        failed ||= !e.success;
        if (!e.success) body.stop(e, !(trace.frames.length === 0 && e.timeMs === 0));
        else body.mark('phase E: call ended', 'phase');
        break;
    }
    previous = e;
  }
  return { finished, failed };
}

/** The SVG's opening: size, styles, arrow heads, title, the terminals' names and lifelines. */
function ladderHead(options: LadderOptions, top: number, linesEnd: number, height: number): string[] {
  const { width, left, right } = LADDER;
  const head: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif" font-size="13">`,
    '<style>',
    '.lifeline{stroke:#444;stroke-width:2}',
    '.sent line{stroke:#1f5fbf;stroke-width:1.6}',
    '.received line{stroke:#7a3db8;stroke-width:1.6}',
    '.frame{font-weight:bold;font-family:Menlo,Consolas,monospace}',
    '.t{fill:#555;font-family:Menlo,Consolas,monospace;font-size:11px}',
    '.phase{stroke:#999;stroke-dasharray:4 3}.phase-text{fill:#555;font-size:11px}',
    '.page{stroke:#2e8b57;stroke-dasharray:4 3}.page-text{fill:#2e8b57;font-size:11px;font-weight:bold}',
    '.image{fill:#e8eef8;stroke:#9ab}.image-text{fill:#345;font-size:11px}',
    '.stop line{stroke:#c0392b;stroke-width:3}.stop-text{fill:#c0392b;font-weight:bold}',
    '.good{fill:#2e8b57;font-weight:bold}.bad{fill:#c0392b;font-weight:bold}.detail{fill:#555;font-size:11px}',
    '</style>',
    '<defs>',
    '<marker id="arrow-sent" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" markerHeight="8" orient="auto"><path d="M0,0L10,5L0,10z" fill="#1f5fbf"/></marker>',
    '<marker id="arrow-received" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" markerHeight="8" orient="auto"><path d="M0,0L10,5L0,10z" fill="#7a3db8"/></marker>',
    '</defs>',
    `<rect width="${width}" height="${height}" fill="#fff"/>`,
  ];
  if (options.title)
    head.push(
      `<text x="${MIDDLE}" y="24" text-anchor="middle" font-size="16" font-weight="bold">${xml(options.title)}</text>`,
    );
  const labelY = top - 22;
  head.push(
    `<text x="${left}" y="${labelY}" text-anchor="middle" font-weight="bold">${xml(options.local ?? 'sender (faxline)')}</text>`,
  );
  head.push(
    `<text x="${right}" y="${labelY}" text-anchor="middle" font-weight="bold">${xml(options.remote ?? 'receiver')}</text>`,
  );
  head.push(`<line class="lifeline" x1="${left}" y1="${top - 10}" x2="${left}" y2="${linesEnd}"/>`);
  head.push(`<line class="lifeline" x1="${right}" y1="${top - 10}" x2="${right}" y2="${linesEnd}"/>`);
  return head;
}

/**
 * The trace as a ladder diagram: the two terminals as vertical lines, each frame an arrow
 * with its name and time, image data as a band, phase marks across, and the result at the
 * bottom. A fax that failed ends in a red cross where the call stopped.
 */
export function traceToSvg(trace: T30Trace, options: LadderOptions = {}): string {
  const top = options.title ? 86 : 60;
  const body = new LadderBody(top);
  const { finished, failed } = drawEntries(body, trace);
  const linesEnd = body.y;
  body.verdict(finished, failed);
  const height = body.y + 24;
  return [...ladderHead(options, top, linesEnd, height), ...body.parts, '</svg>', ''].join('\n');
}
