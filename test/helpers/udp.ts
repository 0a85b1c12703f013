/** UDP on 127.0.0.1 for the line tests: raw sockets, sends, bounded waits, cleanup after each test. */
import * as dgram from 'node:dgram';
import { setTimeout as sleep } from 'node:timers/promises';
import type { UdpEndpoint } from '../../lib/transports/udp-peer';

/** Something a test opened and must close. */
export interface Closable {
  close(): unknown;
}

/**
 * Registers an afterEach that closes, in order, everything handed to the returned function
 * during the test; the function returns what it was given. Call once at the top of a test file.
 */
export function useClosables(): <T extends Closable>(item: T) => T {
  const opened: Closable[] = [];
  afterEach(async () => {
    for (const item of opened.splice(0)) await item.close();
  });
  return (item) => {
    opened.push(item);
    return item;
  };
}

/** A raw UDP socket on 127.0.0.1 that keeps what it receives; `track` closes it after the test. */
export async function rawSocket(
  track: (item: Closable) => unknown,
): Promise<{ socket: dgram.Socket; address: UdpEndpoint; received: Buffer[] }> {
  const socket = dgram.createSocket('udp4');
  const received: Buffer[] = [];
  socket.on('message', (msg) => received.push(Buffer.from(msg)));
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  track({ close: () => new Promise<void>((resolve) => socket.close(() => resolve())) });
  return { socket, address: { host: '127.0.0.1', port: socket.address().port }, received };
}

/** Sends one datagram from `socket` to `to`; resolves once the socket took it. */
export function sendTo(socket: dgram.Socket, buf: Uint8Array, to: UdpEndpoint): Promise<void> {
  return new Promise((resolve, reject) => socket.send(buf, to.port, to.host, (e) => (e ? reject(e) : resolve())));
}

/** Waits (5 s at most), polling every 5 ms, until `condition` holds; fails the test otherwise. */
export async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}
