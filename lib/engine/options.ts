/**
 * Fax options as users know them (the names FreeSWITCH and Asterisk users expect), checked
 * and normalised here into the plain object the addon copies. The addon checks again.
 */
import { native, type NativeT38Config, type NativeTerminalOptions } from '../native';
import { InvalidOptionError } from '../base/errors';
import {
  checkArray,
  checkBoolean,
  checkInteger,
  checkObject,
  checkOneOf,
  checkString,
  describeType,
  invalidOption,
} from '../base/checks';

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

/** Checks an identity as T.30 carries it; throws InvalidOptionError. */
export function checkIdentity(identity: unknown, what = 'identity'): string {
  const id = checkString(identity, what);
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
  const text = checkString(headerInfo, what);
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
  const list = checkArray(values, what);
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
  return value === undefined ? undefined : checkBoolean(value, what);
}

function pageNumber(value: unknown, what: string): number | undefined {
  return value === undefined ? undefined : checkInteger(value, what, 1);
}

/** @internal The addon's bit mask of a list of modems; throws InvalidOptionError. */
export function toNativeModems(modems: unknown, what = 'modems'): number {
  return maskOf(modems, what, modemBits());
}

function commonOptions(o: T30Options, direction: 'send' | 'receive'): NativeTerminalOptions {
  const ecm = optionalBoolean(o.ecm, 'ecm');
  const native: NativeTerminalOptions = {
    direction,
    callingParty: optionalBoolean(o.callingParty, 'callingParty') ?? direction === 'send',
    identity: o.identity === undefined ? '' : checkIdentity(o.identity),
    ecm: ecm ?? true,
  };
  if (o.modems !== undefined) native.modems = toNativeModems(o.modems);
  if (o.compressions !== undefined) {
    native.compressions = maskOf(o.compressions, 'compressions', compressionBits());
    if (native.ecm === false && o.compressions.every((c) => c === 't6')) {
      throw new InvalidOptionError('T.6 compression needs ECM; enable ECM or allow a T.4 compression');
    }
  }
  return native;
}

function checkFilePath(value: unknown, what: string): void {
  if (typeof value !== 'string' || value === '') throw invalidOption('a file path', what, describeType(value));
}

/** @internal Normalises sending options for the addon. */
export function toNativeSend(o: SendOptions): NativeTerminalOptions {
  checkObject(o, 'options');
  checkFilePath(o.document, 'document');
  const result = commonOptions(o, 'send');
  result.txFile = o.document;
  result.headerInfo = o.headerInfo === undefined ? '' : checkHeaderInfo(o.headerInfo);
  result.pagesChecked = optionalBoolean(o.pagesChecked, 'pagesChecked') ?? false;
  if (o.pages !== undefined) {
    checkObject(o.pages, 'pages');
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
  checkObject(o, 'options');
  checkFilePath(o.receivedFile, 'receivedFile');
  const result = commonOptions(o, 'receive');
  result.rxFile = o.receivedFile;
  return result;
}

/** UDPTL error recovery: none, redundancy (earlier IFPs repeated in each datagram) or FEC. */
export type T38ErrorCorrection = 'none' | 'redundancy' | 'fec';
/** T.38 rate management: the TCF training check sent over the network, or made locally by each gateway. */
export type T38RateManagement = 'transferredTCF' | 'localTCF';

/**
 * A T.38 terminal's settings: the T.38 capabilities negotiated in SDP (the names follow the SDP
 * attributes: `T38FaxVersion`, `T38MaxBitRate`, …) and how our UDPTL sends.
 */
export interface T38Options {
  /** T38FaxVersion, 0–3 (default 0, what every peer speaks). */
  version?: number;
  /** T38MaxBitRate: the fastest image data rate, bit/s (default 14400). */
  maxBitRate?: number;
  /** T38FaxRateManagement (default 'transferredTCF', the one T.38 allows over UDP). */
  rateManagement?: T38RateManagement;
  /** T38FaxMaxBuffer: the far end's buffer, bytes (default 2000). */
  maxBuffer?: number;
  /** T38FaxMaxDatagram: the largest datagram the far end takes, bytes (default 400). */
  maxDatagram?: number;
  /** T38FaxUdpEC (default 'redundancy': some peers mis-recover received FEC). */
  errorCorrection?: T38ErrorCorrection;
  /** Earlier IFPs repeated in each datagram with 'redundancy' (default 3, at most 7). */
  redundancy?: number;
  /** With 'fec': IFPs each FEC entry covers (default 3) and entries per datagram (default 3), at most 7. */
  fecSpan?: number;
  fecEntries?: number;
  /** T38FaxFillBitRemoval, T38FaxTranscodingMMR, T38FaxTranscodingJBIG (default false). */
  fillBitRemoval?: boolean;
  transcodingMMR?: boolean;
  transcodingJBIG?: boolean;
}

/** The defaults of every T.38 setting. */
export const T38_DEFAULTS: Readonly<Required<T38Options>> = Object.freeze({
  version: 0,
  maxBitRate: 14400,
  rateManagement: 'transferredTCF',
  maxBuffer: 2000,
  maxDatagram: 400,
  errorCorrection: 'redundancy',
  redundancy: 3,
  fecSpan: 3,
  fecEntries: 3,
  fillBitRemoval: false,
  transcodingMMR: false,
  transcodingJBIG: false,
});

const T38_BIT_RATES = [2400, 4800, 7200, 9600, 12000, 14400];
const ERROR_CORRECTION_CODES: Record<T38ErrorCorrection, 0 | 1 | 2> = { none: 0, redundancy: 1, fec: 2 };

function integerIn(value: unknown, what: string, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number') throw invalidOption('a number', what, describeType(value));
  if (!Number.isInteger(value) || (value as number) < min || (value as number) > max)
    throw new InvalidOptionError(`${what} must be a whole number from ${min} to ${max}; got ${String(value)}`);
  return value as number;
}

function oneOf<T extends string>(value: unknown, what: string, allowed: readonly T[]): T | undefined {
  return value === undefined ? undefined : checkOneOf(value, what, allowed);
}

/** Checks T.38 settings and fills in the defaults; throws InvalidOptionError. */
export function checkT38Options(o: T38Options): Required<T38Options> {
  checkObject(o, 't38');
  const maxBitRate = integerIn(o.maxBitRate, 't38.maxBitRate', 2400, 14400);
  if (maxBitRate !== undefined && !T38_BIT_RATES.includes(maxBitRate))
    throw new InvalidOptionError(`t38.maxBitRate must be one of ${T38_BIT_RATES.join(', ')}; got ${maxBitRate}`);
  const limits = native.constants;
  return {
    version: integerIn(o.version, 't38.version', 0, 3) ?? T38_DEFAULTS.version,
    maxBitRate: maxBitRate ?? T38_DEFAULTS.maxBitRate,
    rateManagement:
      oneOf(o.rateManagement, 't38.rateManagement', ['transferredTCF', 'localTCF'] as const) ??
      T38_DEFAULTS.rateManagement,
    maxBuffer: integerIn(o.maxBuffer, 't38.maxBuffer', 1, 2 ** 31 - 1) ?? T38_DEFAULTS.maxBuffer,
    maxDatagram:
      integerIn(o.maxDatagram, 't38.maxDatagram', limits.UDPTL_MIN_MAX_DATAGRAM, limits.UDPTL_MAX_DATAGRAM) ??
      T38_DEFAULTS.maxDatagram,
    errorCorrection:
      oneOf(o.errorCorrection, 't38.errorCorrection', ['none', 'redundancy', 'fec'] as const) ??
      T38_DEFAULTS.errorCorrection,
    redundancy: integerIn(o.redundancy, 't38.redundancy', 0, limits.UDPTL_MAX_REDUNDANCY) ?? T38_DEFAULTS.redundancy,
    fecSpan: integerIn(o.fecSpan, 't38.fecSpan', 1, limits.UDPTL_MAX_FEC_SPAN) ?? T38_DEFAULTS.fecSpan,
    fecEntries: integerIn(o.fecEntries, 't38.fecEntries', 1, limits.UDPTL_MAX_FEC_ENTRIES) ?? T38_DEFAULTS.fecEntries,
    fillBitRemoval: optionalBoolean(o.fillBitRemoval, 't38.fillBitRemoval') ?? false,
    transcodingMMR: optionalBoolean(o.transcodingMMR, 't38.transcodingMMR') ?? false,
    transcodingJBIG: optionalBoolean(o.transcodingJBIG, 't38.transcodingJBIG') ?? false,
  };
}

/** @internal T.38 settings, already checked by checkT38Options, as the addon takes them. */
export function toNativeT38(c: Readonly<Required<T38Options>>): NativeT38Config {
  return {
    version: c.version,
    maxBitRate: c.maxBitRate,
    rateManagement: c.rateManagement === 'localTCF' ? 1 : 2,
    maxBuffer: c.maxBuffer,
    maxDatagram: c.maxDatagram,
    errorCorrection: ERROR_CORRECTION_CODES[c.errorCorrection],
    redundancy: c.redundancy,
    fecSpan: c.fecSpan,
    fecEntries: c.fecEntries,
    fillBitRemoval: c.fillBitRemoval,
    transcodingMMR: c.transcodingMMR,
    transcodingJBIG: c.transcodingJBIG,
  };
}
