/** The two schemes that never touch the network: `file:` (a local path) and `data:` (inline bytes). */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { NetError } from './errors';
import { describeUrl } from './policy';

/** The bytes a URL stands for and the media type it declares, if any. */
export interface LocalContent {
  bytes: Buffer;
  contentType: string | undefined;
}

/** A readable description of a byte count for messages: "50 MiB", "1.5 KiB", "100 bytes". */
export function formatBytes(bytes: number): string {
  if (bytes >= 1024 * 1024) return `${+(bytes / (1024 * 1024)).toFixed(2)} MiB`;
  if (bytes >= 1024) return `${+(bytes / 1024).toFixed(2)} KiB`;
  return `${bytes} bytes`;
}

/** The NetError for content over the size limit. */
export function tooLarge(url: string | URL, maxBytes: number, how: string): NetError {
  return new NetError('too-large', `${describeUrl(url)} is larger than the ${formatBytes(maxBytes)} limit (${how})`);
}

/**
 * Read a `file:` URL: a regular file only (no devices or FIFOs, which could block or never
 * end), refused early when its size is over `maxBytes` and checked again while reading.
 */
export async function readFileUrl(url: URL, maxBytes: number, signal: AbortSignal): Promise<LocalContent> {
  let path: string;
  try {
    path = fileURLToPath(url);
  } catch (error) {
    throw new NetError('url', `cannot use ${describeUrl(url)}: ${(error as Error).message}`, { cause: error });
  }
  let size: number;
  try {
    const info = await stat(path);
    if (!info.isFile()) throw new NetError('url', `${describeUrl(url)} is not a regular file`);
    size = info.size;
  } catch (error) {
    if (error instanceof NetError) throw error;
    throw new NetError('url', `cannot read ${describeUrl(url)}: ${(error as Error).message}`, { cause: error });
  }
  if (size > maxBytes) throw tooLarge(url, maxBytes, `file size ${size} bytes`);
  const chunks: Buffer[] = [];
  let total = 0;
  // The file may grow between stat and read: read at most one byte past the limit.
  for await (const chunk of createReadStream(path, { signal, end: maxBytes })) {
    total += (chunk as Buffer).length;
    if (total > maxBytes) throw tooLarge(url, maxBytes, `more than ${maxBytes} bytes read`);
    chunks.push(chunk as Buffer);
  }
  return { bytes: Buffer.concat(chunks, total), contentType: undefined };
}

/**
 * Decode a `data:` URL (RFC 2397, as the WHATWG fetch standard reads it): percent-decoded,
 * then base64-decoded when the media type ends in `;base64`.
 */
export function decodeDataUrl(url: URL, maxBytes: number): LocalContent {
  const href = url.href;
  const fragment = href.indexOf('#');
  const body = href.slice('data:'.length, fragment >= 0 ? fragment : undefined);
  const comma = body.indexOf(',');
  if (comma < 0) throw new NetError('url', `malformed data: URL ${describeUrl(url)} (no comma)`);
  let mediaType = body.slice(0, comma).trim();
  const base64 = /;[ \t]*base64[ \t]*$/i;
  const isBase64 = base64.test(mediaType);
  if (isBase64) mediaType = mediaType.replace(base64, '');
  let bytes = percentDecode(body.slice(comma + 1));
  if (isBase64) {
    const text = bytes.toString('latin1').replace(/[\t\n\f\r ]/g, '');
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 === 1) {
      throw new NetError('url', `malformed data: URL ${describeUrl(url)} (invalid base64)`);
    }
    bytes = Buffer.from(text, 'base64');
  }
  if (bytes.length > maxBytes) throw tooLarge(url, maxBytes, `${bytes.length} bytes of data`);
  if (mediaType === '' || mediaType.startsWith(';')) mediaType = `text/plain${mediaType || ';charset=US-ASCII'}`;
  return { bytes, contentType: mediaType };
}

/** Bytes of a URL-serialized (ASCII) string with %XX escapes decoded; a stray % stays as is. */
function percentDecode(text: string): Buffer {
  const input = Buffer.from(text, 'latin1');
  if (!input.includes(0x25)) return input;
  const output = Buffer.allocUnsafe(input.length);
  let length = 0;
  for (let i = 0; i < input.length; i++) {
    const byte = input[i];
    const hex = byte === 0x25 && i + 2 < input.length ? input.toString('latin1', i + 1, i + 3) : '';
    if (/^[0-9A-Fa-f]{2}$/.test(hex)) {
      output[length++] = parseInt(hex, 16);
      i += 2;
    } else {
      output[length++] = byte;
    }
  }
  return output.subarray(0, length);
}
