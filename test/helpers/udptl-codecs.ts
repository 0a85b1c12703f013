/** UDPTL codecs for a test file, each closed after its test so none outlives it. */
import { UdptlCodec, type UdptlOptions } from '../../lib/transports/t38/udptl';

/**
 * Registers an afterEach that closes every codec made during the test, and returns the
 * function that makes them. Call once at the top of a test file.
 */
export function useUdptlCodecs(): (options?: UdptlOptions) => UdptlCodec {
  const open: UdptlCodec[] = [];
  afterEach(() => {
    for (const c of open.splice(0)) c.close();
  });
  return (options) => {
    const c = new UdptlCodec(options);
    open.push(c);
    return c;
  };
}
