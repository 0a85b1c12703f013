/**
 * Fax options as users know them (the names FreeSWITCH and Asterisk users expect), checked
 * and normalised here into the plain object the addon copies. The addon checks again.
 */
import { native, type NativeTerminalOptions } from '../native';
import { InvalidOptionError } from './errors';

/** Image modems for the page data. V.21 for control is always on. */
export type Modem = 'v17' | 'v29' | 'v27ter';
/** Image codings: T.4 1D (MH), T.4 2D (MR), T.6 (MMR, needs ECM). */
export type Compression = 't4-1d' | 't4-2d' | 't6';

/** Every modem, fastest first. */
export const MODEMS: readonly Modem[] = Object.freeze(['v17', 'v29', 'v27ter']);
/** Every compression, best first. */
export const COMPRESSIONS: readonly Compression[] = Object.freeze(['t6', 't4-2d', 't4-1d']);

/** T.30 options common to both directions. */
export interface T30Options {
  /** Our station identity (TSI when sending, CSI when receiving): at most 20 of `0-9 + space`. */
  identity?: string;
  /** Error correcting mode (default on). With ECM a page arrives bit-exact. */
  ecm?: boolean;
  /** Modems allowed for page data (default all). */
  modems?: readonly Modem[];
  /** Compressions allowed (default all). */
  compressions?: readonly Compression[];
  /** Whether this side places the call (sends CNG). Default: true when sending. */
  callingParty?: boolean;
}

/** Options of a sending terminal. */
export interface SendOptions extends T30Options {
  /** Path of the TIFF-F file to send. */
  document: string;
  /** Text printed in the header line of every page: at most 50 printable ASCII characters. */
  headerInfo?: string;
  /** Pages to send, 1-based and inclusive (default: all). */
  pages?: { first?: number; last?: number };
  /**
   * The pages were decoded before (by `checkTiffForSending`, or because faxline wrote the
   * file): the terminal then reads only their tags when it is made, which takes microseconds
   * instead of about a millisecond a page, on the thread that makes it. Default false.
   */
  pagesChecked?: boolean;
}

/** Options of a receiving terminal. */
export interface ReceiveOptions extends T30Options {
  /** Where received pages are written as TIFF-F. */
  receivedFile: string;
}

const IDENTITY_PATTERN = /^[0-9+ ]*$/;
const HEADER_PATTERN = /^[\x20-\x7e]*$/;

/** How an option's wrong value is named in messages: 'null', 'an array', or its typeof. */
export function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value;
}

function expect(ok: boolean, expected: string, what: string, got: unknown): void {
  if (!ok) throw new InvalidOptionError(`Expected ${expected} for ${what} but got ${describeType(got)}`);
}

/** Checks an identity as T.30 carries it; throws InvalidOptionError. */
export function checkIdentity(identity: unknown, what = 'identity'): string {
  expect(typeof identity === 'string', 'a string', what, identity);
  const id = identity as string;
  const max = native.constants.MAX_IDENTITY_LENGTH;
  if (id.length > max) {
    throw new InvalidOptionError(`${what} is ${id.length} characters; T.30 allows at most ${max}`);
  }
  if (!IDENTITY_PATTERN.test(id)) {
    throw new InvalidOptionError(`${what} may contain only digits, '+' and space (T.30); got ${JSON.stringify(id)}`);
  }
  return id;
}

/** Checks header text for the page header line; throws InvalidOptionError. */
export function checkHeaderInfo(headerInfo: unknown, what = 'headerInfo'): string {
  expect(typeof headerInfo === 'string', 'a string', what, headerInfo);
  const text = headerInfo as string;
  const max = native.constants.MAX_HEADER_INFO_LENGTH;
  if (text.length > max) {
    throw new InvalidOptionError(`${what} is ${text.length} characters; at most ${max} fit the header line`);
  }
  if (!HEADER_PATTERN.test(text)) {
    throw new InvalidOptionError(`${what} may contain only printable ASCII characters`);
  }
  return text;
}

function maskOf<T extends string>(values: unknown, what: string, bits: Record<T, number>): number {
  expect(Array.isArray(values), 'an array', what, values);
  const list = values as unknown[];
  if (list.length === 0)
    throw new InvalidOptionError(`${what} must name at least one of ${Object.keys(bits).join(', ')}`);
  let mask = 0;
  for (const v of list) {
    if (typeof v !== 'string' || !(v in bits)) {
      throw new InvalidOptionError(
        `${what} may contain only ${Object.keys(bits).join(', ')}; got ${JSON.stringify(v)}`,
      );
    }
    mask |= bits[v as T];
  }
  return mask;
}

function modemBits(): Record<Modem, number> {
  const c = native.constants;
  return { v17: c.T30_SUPPORT_V17, v29: c.T30_SUPPORT_V29, v27ter: c.T30_SUPPORT_V27TER };
}

function compressionBits(): Record<Compression, number> {
  const c = native.constants;
  return {
    't4-1d': c.T30_SUPPORT_T4_1D_COMPRESSION,
    't4-2d': c.T30_SUPPORT_T4_2D_COMPRESSION,
    t6: c.T30_SUPPORT_T6_COMPRESSION,
  };
}

function optionalBoolean(value: unknown, what: string): boolean | undefined {
  if (value === undefined) return undefined;
  expect(typeof value === 'boolean', 'a boolean', what, value);
  return value as boolean;
}

function pageNumber(value: unknown, what: string): number | undefined {
  if (value === undefined) return undefined;
  expect(typeof value === 'number', 'a number', what, value);
  if (!Number.isInteger(value) || (value as number) < 1) {
    throw new InvalidOptionError(`${what} must be a whole page number from 1`);
  }
  return value as number;
}

function commonOptions(o: T30Options, direction: 'send' | 'receive'): NativeTerminalOptions {
  const ecm = optionalBoolean(o.ecm, 'ecm');
  const native: NativeTerminalOptions = {
    direction,
    callingParty: optionalBoolean(o.callingParty, 'callingParty') ?? direction === 'send',
    identity: o.identity === undefined ? '' : checkIdentity(o.identity),
    ecm: ecm ?? true,
  };
  if (o.modems !== undefined) native.modems = maskOf(o.modems, 'modems', modemBits());
  if (o.compressions !== undefined) {
    native.compressions = maskOf(o.compressions, 'compressions', compressionBits());
    if (native.ecm === false && o.compressions.every((c) => c === 't6')) {
      throw new InvalidOptionError('T.6 compression needs ECM; enable ECM or allow a T.4 compression');
    }
  }
  return native;
}

/** @internal Normalises sending options for the addon. */
export function toNativeSend(o: SendOptions): NativeTerminalOptions {
  expect(typeof o === 'object' && o !== null, 'an object', 'options', o);
  expect(typeof o.document === 'string' && o.document.length > 0, 'a file path', 'document', o.document);
  const result = commonOptions(o, 'send');
  result.txFile = o.document;
  result.headerInfo = o.headerInfo === undefined ? '' : checkHeaderInfo(o.headerInfo);
  result.pagesChecked = optionalBoolean(o.pagesChecked, 'pagesChecked') ?? false;
  if (o.pages !== undefined) {
    expect(typeof o.pages === 'object' && o.pages !== null, 'an object', 'pages', o.pages);
    result.firstPage = pageNumber(o.pages.first, 'pages.first') ?? 1;
    result.lastPage = pageNumber(o.pages.last, 'pages.last') ?? 0;
    if (result.lastPage !== 0 && result.lastPage < result.firstPage) {
      throw new InvalidOptionError('pages.last must not come before pages.first');
    }
  }
  return result;
}

/** @internal Normalises receiving options for the addon. */
export function toNativeReceive(o: ReceiveOptions): NativeTerminalOptions {
  expect(typeof o === 'object' && o !== null, 'an object', 'options', o);
  expect(
    typeof o.receivedFile === 'string' && o.receivedFile.length > 0,
    'a file path',
    'receivedFile',
    o.receivedFile,
  );
  const result = commonOptions(o, 'receive');
  result.rxFile = o.receivedFile;
  return result;
}
