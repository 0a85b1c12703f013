/** Every error faxline throws on purpose: a class per cause, each with a stable `code`. */
export class FaxlineError extends Error {
  /** A stable machine-readable code, e.g. `ERR_FAXLINE_INVALID_OPTION`. */
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** An option has the wrong type or an unusable value (e.g. an identity T.30 cannot carry). */
export class InvalidOptionError extends FaxlineError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_FAXLINE_INVALID_OPTION', message, options);
  }
}

/** A method was called on a session that is closed. */
export class SessionClosedError extends FaxlineError {
  constructor(message = 'The fax session is closed') {
    super('ERR_FAXLINE_SESSION_CLOSED', message);
  }
}

/** Reading or writing a fax image file failed. */
export class ImageFileError extends FaxlineError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_FAXLINE_IMAGE_FILE', message, options);
  }
}

/** Native argument errors (TypeError/RangeError) become InvalidOptionError; others pass through. */
export function rethrowNative(error: unknown): never {
  // By name, not instanceof: the addon's errors come from the realm that loaded it.
  const name = (error as Error | undefined)?.name;
  if (name === 'TypeError' || name === 'RangeError') {
    throw new InvalidOptionError((error as Error).message, { cause: error });
  }
  throw error;
}

/** A call into faxline from inside one of its own event listeners that cannot be honoured there. */
export class ReentrantCallError extends FaxlineError {
  constructor(message: string) {
    super('ERR_FAXLINE_REENTRANT_CALL', message);
  }
}

/**
 * A session group or pool refused a new fax: it is full, a worker is falling behind its 20 ms tick,
 * or it is draining. Place the call elsewhere (another node) rather than making every call late.
 */
export class CapacityError extends FaxlineError {
  /** 'full', 'behind' or 'draining'. */
  readonly reason: 'full' | 'behind' | 'draining';
  constructor(reason: 'full' | 'behind' | 'draining', message: string) {
    super('ERR_FAXLINE_CAPACITY', message);
    this.reason = reason;
  }
}
