/**
 * The `calling.call.fax` status events of send_fax and receive_fax, exactly as SPEC.md
 * sections 2 and 2b show them: the same bodies, told apart by `direction`.
 */
import type { FaxResult } from '../engine/result';

/** The call a fax runs on, as the SWML runtime knows it. */
export interface CallContext {
  project_id: string;
  space_id: string;
  call_id: string;
  node_id: string;
  /** The SWML session id; events go to channel `swml:<swml_session_id>`. */
  swml_session_id: string;
  /** The calling number; `identity` defaults to it when T.30 can carry it. */
  caller_id?: string;
}

/** Which way the fax goes: send_fax sends, receive_fax receives. */
export type FaxDirection = 'send' | 'receive';

/** `fax` of a page event: one page confirmed by the receiver (send) or received (receive). */
export interface FaxPageEventBody {
  type: 'page';
  params: { direction: FaxDirection; number: number };
}

/** `fax` of the finished event: sent exactly once, on success and on every failure. */
export interface FaxFinishedEventBody {
  type: 'finished';
  params: {
    direction: FaxDirection;
    /** Our station identity. */
    identity: string;
    /** The far end's identity, "" if none. */
    remote_identity: string;
    /** send: the document URL as given; receive: where the received fax is stored, "" if nowhere. */
    document: string;
    pages: number;
    success: boolean;
    result: number;
    result_text: string;
    format: 'pdf';
  };
}

/** One status callback body. */
export interface CallingCallFaxEvent {
  event_type: 'calling.call.fax';
  event_channel: string;
  /** Unix time in seconds, with microseconds. */
  timestamp: number;
  project_id: string;
  space_id: string;
  params: {
    call_id: string;
    node_id: string;
    control_id: string;
    fax: FaxPageEventBody | FaxFinishedEventBody;
  };
}

/** Unix time in seconds with microseconds; never a whole number, so JSON always shows a float. */
export function eventTimestamp(): number {
  const seconds = Math.round((performance.timeOrigin + performance.now()) * 1000) / 1e6;
  return Number.isInteger(seconds) ? seconds + 1e-6 : seconds;
}

/** Builds a `calling.call.fax` event for a call and fax operation. */
export function callingCallFaxEvent(
  context: CallContext,
  controlId: string,
  fax: FaxPageEventBody | FaxFinishedEventBody,
): CallingCallFaxEvent {
  return {
    event_type: 'calling.call.fax',
    event_channel: `swml:${context.swml_session_id}`,
    timestamp: eventTimestamp(),
    project_id: context.project_id,
    space_id: context.space_id,
    params: { call_id: context.call_id, node_id: context.node_id, control_id: controlId, fax },
  };
}

/** The `fax` of a page event (send_fax's unless `direction` says otherwise). */
export function pageEventBody(number: number, direction: FaxDirection = 'send'): FaxPageEventBody {
  return { type: 'page', params: { direction, number } };
}

/** The `fax` of the finished event (send_fax's unless `direction` says otherwise). */
export function finishedEventBody(
  document: string,
  identity: string,
  result: FaxResult,
  direction: FaxDirection = 'send',
): FaxFinishedEventBody {
  return {
    type: 'finished',
    params: {
      direction,
      identity,
      remote_identity: result.remoteIdentity,
      document,
      pages: result.pages,
      success: result.success,
      result: result.code,
      result_text: result.text,
      format: 'pdf',
    },
  };
}
