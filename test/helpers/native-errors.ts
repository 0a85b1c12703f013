/**
 * Matching errors the addon throws. Under jest the addon's errors come from the realm that
 * loaded it, not the test's, so `toThrow(TypeError)` (an instanceof check) fails for them:
 * they are matched by name and message instead.
 */

/** The error classes the addon throws (see native/bindings: argument checks and failures). */
export type NativeErrorName = 'TypeError' | 'RangeError' | 'Error';

/** Expects `fn` to throw an error named `name` whose message matches `message`, when given. */
export function expectNativeError(fn: () => unknown, name: NativeErrorName, message?: RegExp | string): void {
  let thrown: unknown;
  try {
    fn();
  } catch (error) {
    thrown = error;
  }
  expect(thrown).toBeDefined();
  expect((thrown as Error).name).toBe(name);
  if (message !== undefined) expect((thrown as Error).message).toMatch(message);
}
