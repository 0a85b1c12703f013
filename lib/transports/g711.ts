/**
 * G.711 (ITU-T G.711) coding of 8 kHz audio, as RTP carries it: µ-law is PCMU, A-law is PCMA
 * (RFC 3551). SpanDSP codes the samples; these calls allocate nothing, so the media path can
 * run them on every 20 ms frame.
 */
import { InvalidOptionError, rethrowNative } from '../base/errors';
import { native } from '../native';

/** The two G.711 companding laws, by their RTP encoding names: µ-law (PCMU) and A-law (PCMA). */
export type G711Law = 'pcmu' | 'pcma';

/** Every G.711 law, in the order of their static payload types. */
export const G711_LAWS: readonly G711Law[] = Object.freeze(['pcmu', 'pcma'] as const);

/** The static RTP payload types RFC 3551 (table 4) assigns: PCMU 0, PCMA 8. */
export const G711_PAYLOAD_TYPE: Readonly<Record<G711Law, number>> = Object.freeze({ pcmu: 0, pcma: 8 });

/** The addon's number for a law; anything but the two names is a caller's mistake. */
function lawNumber(law: G711Law): 0 | 1 {
  if (law === 'pcmu') return 0;
  if (law === 'pcma') return 1;
  throw new InvalidOptionError(`Expected 'pcmu' or 'pcma' for law but got ${describe(law)}`);
}

function describe(value: unknown): string {
  return typeof value === 'string' ? `'${value}'` : typeof value;
}

/**
 * Encodes linear samples into G.711 code words, one byte a sample, in place in `out`.
 * `pcm` and `out` must have the same length (at most 80000) and not share memory.
 *
 * @throws InvalidOptionError for an unknown law, a wrong array type or mismatched lengths.
 */
export function g711Encode(law: G711Law, pcm: Int16Array, out: Uint8Array): void {
  const n = lawNumber(law);
  try {
    native.g711Encode(n, pcm, out);
  } catch (error) {
    rethrowNative(error);
  }
}

/**
 * Decodes G.711 code words into linear samples, in place in `out`.
 * `payload` and `out` must have the same length (at most 80000) and not share memory.
 *
 * @throws InvalidOptionError for an unknown law, a wrong array type or mismatched lengths.
 */
export function g711Decode(law: G711Law, payload: Uint8Array, out: Int16Array): void {
  const n = lawNumber(law);
  try {
    native.g711Decode(n, payload, out);
  } catch (error) {
    rethrowNative(error);
  }
}
