/**
 * UdptlCodec: one UDPTL endpoint (ITU-T T.38 Annex A) for hosts and tests. It frames IFP packets
 * into datagrams with redundancy or FEC, and turns received datagrams back into IFPs, rebuilding
 * lost ones where the error recovery allows. The work is native/engine/udptl's; this file
 * validates options and maps errors. Each call allocates its result: the real-time path of a
 * T.38 session runs inside the addon instead.
 */
import { checkBytes, checkInteger, checkObject } from '../../base/checks';
import { FaxlineError, InvalidOptionError, rethrowNative } from '../../base/errors';
import { native, type NativeUdptl } from '../../native';
import { checkT38Options, T38_DEFAULTS, type T38ErrorCorrection } from '../../engine/options';
import type { UdptlStats } from '../../engine/session';

/** How a sender protects its IFPs: not at all, by repeating earlier IFPs, or by FEC. */
export type UdptlErrorCorrection = T38ErrorCorrection;

/** Options of UdptlCodec. */
export interface UdptlOptions {
  /** Default 'redundancy'. A receiver reads all three whatever it sends. */
  errorCorrection?: UdptlErrorCorrection;
  /** Earlier IFPs repeated in each datagram, 0..7 (fewer when they would not fit). Default 3. */
  redundancy?: number;
  /** FEC: how many IFPs each FEC entry protects (fec-npackets), 1..7. Default 3. */
  fecSpan?: number;
  /** FEC: entries per datagram, 1..7. Default 3. */
  fecEntries?: number;
  /** The far end's maximum datagram (T38FaxMaxDatagram), 32..1500 octets. Default 400. */
  maxDatagram?: number;
}

/** The defaults of UdptlOptions (redundancy 3 is what deployed gateways send). */
export const UDPTL_DEFAULTS: Readonly<Required<UdptlOptions>> = Object.freeze({
  errorCorrection: T38_DEFAULTS.errorCorrection,
  redundancy: T38_DEFAULTS.redundancy,
  fecSpan: T38_DEFAULTS.fecSpan,
  fecEntries: T38_DEFAULTS.fecEntries,
  maxDatagram: T38_DEFAULTS.maxDatagram,
});

/** The bounds the options must keep (native/engine/udptl.h). */
export const UDPTL_LIMITS: Readonly<{
  maxIfp: number;
  maxDatagram: number;
  minMaxDatagram: number;
  maxRedundancy: number;
  maxFecSpan: number;
  maxFecEntries: number;
}> = Object.freeze({
  maxIfp: native.constants.UDPTL_MAX_IFP,
  maxDatagram: native.constants.UDPTL_MAX_DATAGRAM,
  minMaxDatagram: native.constants.UDPTL_MIN_MAX_DATAGRAM,
  maxRedundancy: native.constants.UDPTL_MAX_REDUNDANCY,
  maxFecSpan: native.constants.UDPTL_MAX_FEC_SPAN,
  maxFecEntries: native.constants.UDPTL_MAX_FEC_ENTRIES,
});

export type { UdptlStats } from '../../engine/session';

/** One IFP a datagram made available, with its sequence number. */
export interface UdptlDelivery {
  seq: number;
  ifp: Uint8Array;
}

/** A method was called on a UdptlCodec after close(). */
export class UdptlClosedError extends FaxlineError {
  constructor() {
    super('ERR_FAXLINE_UDPTL_CLOSED', 'The UDPTL codec is closed');
  }
}

const EC_CODES: Readonly<Record<UdptlErrorCorrection, 0 | 1 | 2>> = { none: 0, redundancy: 1, fec: 2 };

/** Options with the defaults filled in; InvalidOptionError for anything out of bounds (the T.38 settings' rules). */
export function normalizeUdptlOptions(options: UdptlOptions = {}): Required<UdptlOptions> {
  checkObject(options, 'UDPTL options');
  const c = checkT38Options({
    errorCorrection: options.errorCorrection,
    redundancy: options.redundancy,
    fecSpan: options.fecSpan,
    fecEntries: options.fecEntries,
    maxDatagram: options.maxDatagram,
  });
  return {
    errorCorrection: c.errorCorrection,
    redundancy: c.redundancy,
    fecSpan: c.fecSpan,
    fecEntries: c.fecEntries,
    maxDatagram: c.maxDatagram,
  };
}

/**
 * One UDPTL endpoint: encode() frames the IFPs it sends, decode() reads the datagrams it
 * receives. Sequence numbers start at 0 and wrap at 65536; received ones are compared
 * wrap-safely. Malformed datagrams are counted and give no IFPs, never an exception. Holds a
 * native endpoint: call close() when done (garbage collection frees it otherwise).
 */
export class UdptlCodec {
  #options: Readonly<Required<UdptlOptions>>;
  #udptl: NativeUdptl | null;

  /** @throws InvalidOptionError for options out of bounds. */
  constructor(options: UdptlOptions = {}) {
    const o = normalizeUdptlOptions(options);
    try {
      this.#udptl = new native.Udptl({
        errorCorrection: EC_CODES[o.errorCorrection],
        redundancy: o.redundancy,
        fecSpan: o.fecSpan,
        fecEntries: o.fecEntries,
        maxDatagram: o.maxDatagram,
      });
    } catch (error) {
      rethrowNative(error);
    }
    this.#options = Object.freeze({ ...o });
  }

  /** The options in force, defaults filled in (maxDatagram follows setMaxDatagram). */
  get options(): Readonly<Required<UdptlOptions>> {
    return this.#options;
  }

  #open(): NativeUdptl {
    if (this.#udptl === null) throw new UdptlClosedError();
    return this.#udptl;
  }

  /**
   * The datagram carrying `ifp` (at most UDPTL_LIMITS.maxIfp octets; empty is valid) as the
   * next sequence number, with the error recovery of the options.
   *
   * @throws InvalidOptionError for a non-Uint8Array or too long an IFP; UdptlClosedError.
   */
  encode(ifp: Uint8Array): Uint8Array {
    const udptl = this.#open();
    checkBytes(ifp, 'ifp');
    if (ifp.length > UDPTL_LIMITS.maxIfp) {
      throw new InvalidOptionError(`Expected at most ${UDPTL_LIMITS.maxIfp} octets for ifp but got ${ifp.length}`);
    }
    try {
      return udptl.encode(ifp);
    } catch (error) {
      rethrowNative(error);
    }
  }

  /**
   * The IFPs `datagram` makes available, oldest first: those rebuilt from its redundancy or FEC,
   * then its own. Empty for a malformed, duplicate or late datagram (each counted in stats()).
   *
   * @throws InvalidOptionError for a non-Uint8Array; UdptlClosedError.
   */
  decode(datagram: Uint8Array): UdptlDelivery[] {
    const udptl = this.#open();
    checkBytes(datagram, 'datagram');
    try {
      return udptl.decode(datagram);
    } catch (error) {
      rethrowNative(error);
    }
  }

  /** The counters so far (a codec has no outbox, so no outbox overflows). @throws UdptlClosedError. */
  stats(): Omit<UdptlStats, 'outboxOverflows'> {
    return this.#open().stats();
  }

  /** The sequence number the next encode() uses. @throws UdptlClosedError. */
  nextSequence(): number {
    return this.#open().nextSequence();
  }

  /** Sets the next sequence number (0..65535), e.g. to cross the wrap in a test. */
  setNextSequence(seq: number): void {
    const udptl = this.#open();
    udptl.setNextSequence(checkInteger(seq, 'seq', 0, 0xffff));
  }

  /** Changes the far end's maximum datagram (a re-negotiation), 32..1500 octets. */
  setMaxDatagram(maxDatagram: number): void {
    const udptl = this.#open();
    udptl.setMaxDatagram(
      checkInteger(maxDatagram, 'maxDatagram', UDPTL_LIMITS.minMaxDatagram, UDPTL_LIMITS.maxDatagram),
    );
    this.#options = Object.freeze({ ...this.#options, maxDatagram });
  }

  /** Frees the native endpoint. Idempotent. */
  close(): void {
    this.#udptl?.close();
    this.#udptl = null;
  }

  /** Whether close() has been called. */
  get closed(): boolean {
    return this.#udptl === null;
  }
}
