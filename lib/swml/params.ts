/**
 * The send_fax and receive_fax parameters and call context, checked. What is wrong with the request itself
 * (an identity T.30 cannot carry, a header too long, a status_url that is not an http(s) URL,
 * an unknown parameter) throws InvalidOptionError before anything starts; a document URL that
 * cannot be used is not a usage error but a failed fax (see documentProblem).
 */
import { InvalidOptionError } from '../base/errors';
import { checkObject, checkString } from '../base/checks';
import { checkHeaderInfo, checkIdentity } from '../engine/options';
import { checkStatusUrl, schemeHint } from '../callbacks/url';
import { describeUrl, FETCH_SCHEMES } from '../net';
import type { CallContext } from './events';

/** The SWML send_fax parameters, named as in SWML. */
export interface SendFaxParams {
  /** URL of the PDF to send (`https:`, `http:`; `data:`, and `file:` for local use when the host sets `allowFiles`). */
  document: string;
  /** Text printed in the header line of every page: at most 50 printable ASCII characters. */
  header_info?: string;
  /** Our station identity (TSI): at most 20 of `0-9 + space`. Default: the caller id when it fits. */
  identity?: string;
  /** `http:`/`https:` URL that receives the status events. */
  status_url?: string;
}

/** The parameters after checking. */
export interface CheckedParams {
  document: string;
  headerInfo: string;
  /** undefined: not given (the caller id may stand in). */
  identity: string | undefined;
  statusUrl: string | undefined;
}

const PARAM_NAMES = ['document', 'header_info', 'identity', 'status_url'] as const;
const CONTEXT_IDS = ['project_id', 'space_id', 'call_id', 'node_id', 'swml_session_id'] as const;

/** Checks send_fax parameters; throws InvalidOptionError naming the parameter. */
export function checkSendFaxParams(params: unknown): CheckedParams {
  const p = checkObject(params, 'send_fax');
  for (const key of Object.keys(p)) {
    if (!(PARAM_NAMES as readonly string[]).includes(key)) {
      throw new InvalidOptionError(
        `Unknown send_fax parameter ${JSON.stringify(key)} (allowed: ${PARAM_NAMES.join(', ')})`,
      );
    }
  }
  if (p.document === undefined || p.document === '') throw new InvalidOptionError('send_fax.document is required');
  return {
    document: checkString(p.document, 'send_fax.document'),
    headerInfo: p.header_info === undefined ? '' : checkHeaderInfo(p.header_info, 'send_fax.header_info'),
    identity: p.identity === undefined ? undefined : checkIdentity(p.identity, 'send_fax.identity'),
    statusUrl: p.status_url === undefined ? undefined : checkStatusUrl(p.status_url, 'send_fax.status_url'),
  };
}

/** The SWML receive_fax parameters, named as in SWML (plus faxline's own `identity`). */
export interface ReceiveFaxParams {
  /** Our station identity (CSI): at most 20 of `0-9 + space`. Default: the caller id when it fits. */
  identity?: string;
  /** `http:`/`https:` URL that receives the status events. */
  status_url?: string;
}

/** The receive_fax parameters after checking. */
export interface CheckedReceiveParams {
  /** undefined: not given (the caller id may stand in). */
  identity: string | undefined;
  statusUrl: string | undefined;
}

const RECEIVE_PARAM_NAMES = ['identity', 'status_url'] as const;

/** Checks receive_fax parameters with send_fax's rules; throws InvalidOptionError naming the parameter. */
export function checkReceiveFaxParams(params: unknown): CheckedReceiveParams {
  // SWML may write a method without parameters: `receive_fax: {}` or no object at all.
  if (params === undefined) return { identity: undefined, statusUrl: undefined };
  const p = checkObject(params, 'receive_fax');
  for (const key of Object.keys(p)) {
    if (!(RECEIVE_PARAM_NAMES as readonly string[]).includes(key)) {
      throw new InvalidOptionError(
        `Unknown receive_fax parameter ${JSON.stringify(key)} (allowed: ${RECEIVE_PARAM_NAMES.join(', ')})`,
      );
    }
  }
  return {
    identity: p.identity === undefined ? undefined : checkIdentity(p.identity, 'receive_fax.identity'),
    statusUrl: p.status_url === undefined ? undefined : checkStatusUrl(p.status_url, 'receive_fax.status_url'),
  };
}

/**
 * Why a document URL cannot be fetched at all, or null when it can be tried. A problem here
 * fails the fax with the file-error code and this text as detail, like a document that
 * cannot be fetched.
 */
export function documentProblem(document: string): string | null {
  let url: URL;
  try {
    url = new URL(document);
  } catch {
    return `send_fax.document ${JSON.stringify(describeUrl(document))} is not an absolute URL${schemeHint(document)}`;
  }
  if (!FETCH_SCHEMES.includes(url.protocol)) {
    return `send_fax.document has the unsupported scheme ${url.protocol} (allowed: ${FETCH_SCHEMES.join(', ')})`;
  }
  return null;
}

/**
 * The caller id as a T.30 identity, or "" when it cannot be one. A `tel:` prefix and the
 * visual separators of phone numbers (`-`, `.`, `(`, `)`) are dropped: `tel:+1-555-0100` gives
 * `+15550100`; a SIP URI or a name gives "".
 */
export function identityFromCallerId(callerId: string | undefined): string {
  if (typeof callerId !== 'string') return '';
  const number = callerId
    .trim()
    .replace(/^tel:/i, '')
    .replace(/[-.()]/g, '');
  try {
    return checkIdentity(number);
  } catch {
    return '';
  }
}

/** The call context after checking: every id a string ("" when not given). */
export type CheckedContext = Required<Omit<CallContext, 'caller_id'>> & { caller_id?: string };

/**
 * Checks the call context. Every id present must be a string; with a status_url the five ids
 * that go into the events (project, space, call, node, SWML session) are required.
 */
export function checkCallContext(call: unknown, needIds: boolean): CheckedContext {
  const c = checkObject(call, 'call');
  const out: Record<string, string> = {};
  for (const key of [...CONTEXT_IDS, 'caller_id'] as const) {
    const value = c[key];
    if (value === undefined) continue;
    out[key] = checkString(value, `call.${key}`);
  }
  for (const key of CONTEXT_IDS) {
    if (needIds && !out[key]) {
      throw new InvalidOptionError(`call.${key} is required with a status_url: the status events carry it`);
    }
    out[key] ??= '';
  }
  return out as CheckedContext;
}
