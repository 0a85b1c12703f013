/** Events of a fax session, as the TS API delivers them. */
import type { NativeEvent } from '../native';
import { toResult, toStats, type FaxResult, type FaxStats } from './result';

/** Phase B: the two ends agreed on modem, resolution and coding. */
export interface NegotiatedEvent {
  type: 'negotiated';
  /** Time in the call, milliseconds of line audio since the session started. */
  timeMs: number;
  stats: FaxStats;
}

/** Phase D: a page was confirmed by the receiver (sending) or received (receiving). */
export interface PageEvent {
  type: 'page';
  timeMs: number;
  /** 1-based number of the page. */
  page: number;
  stats: FaxStats;
}

/** A T.30 control frame (DIS, DCS, CFR, MCF, EOP, DCN, …) sent or received. */
export interface FrameEvent {
  type: 'frame';
  timeMs: number;
  direction: 'sent' | 'received';
  /** SpanDSP's name for the frame type, e.g. "DIS". */
  name: string;
  /** The HDLC frame: address, control, FCF and information field (no CRC). */
  bytes: Buffer;
}

/** Phase E: the call is over. Fires exactly once. */
export interface FinishedEvent {
  type: 'finished';
  timeMs: number;
  result: FaxResult;
}

/** Any event of a fax session. */
export type FaxEvent = NegotiatedEvent | PageEvent | FrameEvent | FinishedEvent;

/** @internal */
export function toFaxEvent(e: NativeEvent, detail = ''): FaxEvent {
  switch (e.type) {
    case 'negotiated':
      return { type: 'negotiated', timeMs: e.timeMs, stats: toStats(e.stats) };
    case 'page':
      return { type: 'page', timeMs: e.timeMs, page: e.page, stats: toStats(e.stats) };
    case 'frame':
      return e;
    case 'finished':
      return {
        type: 'finished',
        timeMs: e.timeMs,
        result: toResult({ code: e.code, text: e.text, success: e.code === 0, pages: e.pages, detail, stats: e.stats }),
      };
  }
}
