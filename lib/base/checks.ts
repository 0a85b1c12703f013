/**
 * The option checks every room repeats, once, with one message shape that the addon's own
 * argument checks also use: "Expected X for Y but got Z". Z is the value's type when the type
 * is wrong ("string", "null", "an array", "a Float32Array") and the value itself when only the
 * value is ("-1", "NaN", "\"ultra\""). Each check returns the value, typed, or throws
 * InvalidOptionError.
 */
import { InvalidOptionError } from './errors';

/** How a value of the wrong type is named: 'null', 'an array', 'a Float32Array', or its typeof. */
export function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') {
    const name = (value as object).constructor?.name;
    if (!name || name === 'Object') return 'an object';
    return /^[AEIO]/.test(name) ? `an ${name}` : `a ${name}`;
  }
  if (typeof value === 'function') return 'a function';
  return typeof value;
}

/** How a value of the right type but outside what is allowed is named: strings quoted. */
function describeValue(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value) : String(value);
}

/** The one message shape: "Expected `expected` for `what` but got `got`". */
export function invalidOption(expected: string, what: string, got: string): InvalidOptionError {
  return new InvalidOptionError(`Expected ${expected} for ${what} but got ${got}`);
}

/** A plain object (not null, not an array), e.g. an options bag. */
export function checkObject<T extends object = Record<string, unknown>>(value: unknown, what: string): T {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw invalidOption('an object', what, describeType(value));
  }
  return value as T;
}

/** A boolean. */
export function checkBoolean(value: unknown, what: string): boolean {
  if (typeof value !== 'boolean') throw invalidOption('a boolean', what, describeType(value));
  return value;
}

/** A string, empty or not. */
export function checkString(value: unknown, what: string): string {
  if (typeof value !== 'string') throw invalidOption('a string', what, describeType(value));
  return value;
}

/** A string with at least one character. */
export function checkNonEmptyString(value: unknown, what: string): string {
  const text = checkString(value, what);
  if (text === '') throw invalidOption('a non-empty string', what, '""');
  return text;
}

/** A function (a callback option). */
export function checkFunction<T extends (...args: never[]) => unknown>(value: unknown, what: string): T {
  if (typeof value !== 'function') throw invalidOption('a function', what, describeType(value));
  return value as T;
}

/** An AbortSignal. */
export function checkSignal(value: unknown, what = 'signal'): AbortSignal {
  if (!(value instanceof AbortSignal)) throw invalidOption('an AbortSignal', what, describeType(value));
  return value;
}

/** A Uint8Array (a Buffer is one). */
export function checkBytes(value: unknown, what: string): Uint8Array {
  if (!(value instanceof Uint8Array)) throw invalidOption('a Uint8Array', what, describeType(value));
  return value;
}

/** One of a few strings. */
export function checkOneOf<T extends string>(value: unknown, what: string, allowed: readonly T[]): T {
  const expected = `one of ${allowed.map((a) => `'${a}'`).join(', ')}`;
  if (typeof value !== 'string') throw invalidOption(expected, what, describeType(value));
  if (!(allowed as readonly string[]).includes(value)) throw invalidOption(expected, what, describeValue(value));
  return value as T;
}

/** `from min` alone when there is no useful upper bound. */
function range(min: number, max: number): string {
  return max === Infinity || max === Number.MAX_SAFE_INTEGER ? `from ${min}` : `from ${min} to ${max}`;
}

/** An integer from `min` to `max` inclusive (no upper bound by default). */
export function checkInteger(value: unknown, what: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const expected = `an integer ${range(min, max)}`;
  if (typeof value !== 'number') throw invalidOption(expected, what, describeType(value));
  if (!Number.isInteger(value) || value < min || value > max) throw invalidOption(expected, what, String(value));
  return value;
}

/** A finite number from `min` to `max` inclusive. */
export function checkNumber(value: unknown, what: string, min: number, max: number): number {
  const expected = `a number ${range(min, max)}`;
  if (typeof value !== 'number') throw invalidOption(expected, what, describeType(value));
  if (!Number.isFinite(value) || value < min || value > max) throw invalidOption(expected, what, String(value));
  return value;
}

/** A finite number above 0 (a duration, a limit). */
export function checkPositive(value: unknown, what: string): number {
  if (typeof value !== 'number') throw invalidOption('a positive number', what, describeType(value));
  if (!(value > 0) || !Number.isFinite(value)) throw invalidOption('a positive number', what, String(value));
  return value;
}

/** An array (its items are the caller's to check). */
export function checkArray(value: unknown, what: string): unknown[] {
  if (!Array.isArray(value)) throw invalidOption('an array', what, describeType(value));
  return value;
}
