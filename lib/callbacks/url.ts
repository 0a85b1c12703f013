/** The status_url check, shared by sendFax's parameter check and the delivery queue. */
import { checkString } from '../base/checks';
import { InvalidOptionError } from '../base/errors';
import { describeUrl, HTTP_SCHEMES } from '../net';

/** Checks a status_url: an absolute http: or https: URL. Throws InvalidOptionError. */
export function checkStatusUrl(input: unknown, what = 'status_url'): string {
  const value = checkString(input, what);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new InvalidOptionError(
      `${what} ${JSON.stringify(describeUrl(value))} is not an absolute URL${schemeHint(value)}`,
    );
  }
  if (!HTTP_SCHEMES.includes(url.protocol)) {
    throw new InvalidOptionError(
      `${what} must be an http: or https: URL; got ${url.protocol} in ${JSON.stringify(describeUrl(url))}`,
    );
  }
  return value;
}

/** A hint for the common slip of a scheme without its colon, e.g. `https//example.com/…`. */
export function schemeHint(value: string): string {
  const m = /^(https?|file|data)\/\/(.*)$/i.exec(value);
  return m ? ` (did you mean "${m[1]}://${m[2]}"?)` : '';
}
