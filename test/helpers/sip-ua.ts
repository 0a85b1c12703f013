/** What the user-agent tests share: small timers, a minimal SDP offer and answer, a bounded wait for an event. */
import { within } from './cli-peers';

/** Small timers keep every 64*T1 bound short; each test sets what it needs. */
export const FAST = { T1: 50, T2: 400, T4: 500 };

/** A minimal SDP whose o= line (id, version) is what sameSession compares. */
export function sdp(id: string, version: number, port: number): string {
  return [
    'v=0',
    `o=- ${id} ${version} IN IP4 127.0.0.1`,
    's=-',
    'c=IN IP4 127.0.0.1',
    't=0 0',
    `m=audio ${port} RTP/AVP 0`,
    'a=rtpmap:0 PCMU/8000',
    'a=sendrecv',
    '',
  ].join('\r\n');
}

export const OFFER = sdp('1001', 1, 40000);
export const ANSWER = sdp('2002', 1, 41000);

/** Resolves with the first emission of `event` (bounded). */
export function once<T>(emitter: NodeJS.EventEmitter, event: string, ms = 10_000): Promise<T> {
  return within(new Promise<T>((resolve) => emitter.once(event, resolve)), ms, `'${event}'`);
}
