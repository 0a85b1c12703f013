/** The SWML `send_fax` and `receive_fax` variables, as SWML exposes them: every value a string. */
import type { FaxResult } from '../engine/result';

/** The seven variables `send_fax` sets. */
export interface SendFaxVariables {
  /** The document URL as given. */
  send_fax_document: string;
  /** Our station identity. */
  send_fax_identity: string;
  /** The far end's identity, "" if none. */
  send_fax_remote_identity: string;
  /** Pages confirmed by the receiver. */
  send_fax_pages: string;
  /** SpanDSP's T.30 completion code ("0" = OK). */
  send_fax_result_code: string;
  /** SpanDSP's text for that code. */
  send_fax_result_text: string;
  /** "success" or "failed". */
  send_fax_result: 'success' | 'failed';
}

/** Builds the send_fax variables from a sender's result. */
export function sendFaxVariables(document: string, identity: string, result: FaxResult): SendFaxVariables {
  return {
    send_fax_document: document,
    send_fax_identity: identity,
    send_fax_remote_identity: result.remoteIdentity,
    send_fax_pages: String(result.pages),
    send_fax_result_code: String(result.code),
    send_fax_result_text: result.text,
    send_fax_result: result.success ? 'success' : 'failed',
  };
}

/** The seven variables `receive_fax` sets. */
export interface ReceiveFaxVariables {
  /** Where the received fax is stored (the store's URL), "" when nothing was stored. */
  receive_fax_document: string;
  /** Our station identity (CSI). */
  receive_fax_identity: string;
  /** The sender's identity (TSI), "" if none. */
  receive_fax_remote_identity: string;
  /** Pages received. */
  receive_fax_pages: string;
  /** SpanDSP's T.30 completion code ("0" = OK). */
  receive_fax_result_code: string;
  /** SpanDSP's text for that code. */
  receive_fax_result_text: string;
  /** "success" or "failed". */
  receive_fax_result: 'success' | 'failed';
}

/** Builds the receive_fax variables from a receiver's result and the stored fax's URL. */
export function receiveFaxVariables(document: string, identity: string, result: FaxResult): ReceiveFaxVariables {
  return {
    receive_fax_document: document,
    receive_fax_identity: identity,
    receive_fax_remote_identity: result.remoteIdentity,
    receive_fax_pages: String(result.pages),
    receive_fax_result_code: String(result.code),
    receive_fax_result_text: result.text,
    receive_fax_result: result.success ? 'success' : 'failed',
  };
}
