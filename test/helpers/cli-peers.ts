/**
 * Two-process CLI calls for tests: free ports on 127.0.0.1, CLI children that are always
 * reaped, bounded waits for a child to listen or to exit, and hand-built RTP packets.
 */
import * as dgram from 'node:dgram';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { writeTiffF, type FaxPage } from '../../lib';
import { cliArgs, outputOf, startNode, type ChildOutput } from './cli';
import { textPage } from './pages';

/** A running CLI child: the process and what it printed once it exits. */
export interface CliChild {
  child: ReturnType<typeof startNode>;
  /** Resolves when the child exited (never rejects). */
  done: Promise<ChildOutput>;
  /** Everything written to stderr so far (grows while the child runs). */
  stderrSoFar(): string;
}

const children = new Set<ReturnType<typeof startNode>>();

/** Starts the CLI (from its TypeScript source) without waiting; killCliChildren() reaps it at the latest. */
export function startCli(...args: string[]): CliChild {
  const child = startNode(cliArgs(...args));
  children.add(child);
  let stderr = '';
  child.stderr.on('data', (c) => (stderr += c));
  const done = outputOf(child).then((out) => {
    children.delete(child);
    return out;
  });
  return { child, done, stderrSoFar: () => stderr };
}

/** Kills every CLI child still running (for afterAll). */
export function killCliChildren(): void {
  for (const child of children) child.kill('SIGKILL');
  children.clear();
}

/** Resolves with the promise's value, or rejects with `what` after `ms`. */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not within ${ms / 1000} s`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Waits a bounded time, polling `ready` every 50 ms; rejects with `what` if it never holds. */
export async function waitUntil(ready: () => boolean, ms: number, what: string): Promise<void> {
  const until = Date.now() + ms;
  while (!ready()) {
    if (Date.now() > until) throw new Error(`${what}: not within ${ms / 1000} s`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * `count` distinct free ports on 127.0.0.1 for the given protocol: each is bound to port 0 and
 * released only once all are chosen, so no two are the same.
 */
export async function freePorts(kind: 'udp' | 'tcp', count: number): Promise<number[]> {
  const held: Array<{ port: number; close: () => Promise<void> }> = [];
  try {
    for (let i = 0; i < count; i++) {
      if (kind === 'udp') {
        const socket = dgram.createSocket('udp4');
        await new Promise<void>((resolve, reject) => {
          socket.once('error', reject);
          socket.bind(0, '127.0.0.1', () => resolve());
        });
        held.push({ port: socket.address().port, close: () => new Promise((resolve) => socket.close(resolve)) });
      } else {
        const server = net.createServer();
        await new Promise<void>((resolve, reject) => {
          server.once('error', reject);
          server.listen(0, '127.0.0.1', () => resolve());
        });
        held.push({
          port: (server.address() as net.AddressInfo).port,
          close: () => new Promise((resolve) => server.close(() => resolve())),
        });
      }
    }
    return held.map((h) => h.port);
  } finally {
    await Promise.all(held.map((h) => h.close()));
  }
}

/**
 * Whether some socket is bound to UDP `port`, read from the kernel's table (Linux), so the
 * check never takes the port itself. Null where the table cannot be read.
 */
function udpPortBound(port: number): boolean | null {
  let table: string;
  try {
    table = fs.readFileSync('/proc/net/udp', 'utf8');
  } catch {
    return null;
  }
  // Lines read "  sl  local_address rem_address ...", the local address as HEXIP:HEXPORT.
  const suffix = `:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  return table.split('\n').some((line) => line.trim().split(/\s+/)[1]?.endsWith(suffix) === true);
}

/**
 * Waits (at most `ms`) until a receiver bound UDP `port`. Where the kernel's table cannot be
 * read it waits a fixed 3 s instead: a sender that starts early only loses its first tones.
 */
export async function waitForUdpListener(port: number, ms: number): Promise<void> {
  if (udpPortBound(port) === null) {
    await new Promise((resolve) => setTimeout(resolve, 3000));
    return;
  }
  await waitUntil(() => udpPortBound(port) === true, ms, `a receiver on UDP port ${port}`);
}

/** The fields of an RTP fixed header (RFC 3550 §5.1) with no CSRCs and no extension. */
export interface RtpHeaderFields {
  marker: boolean;
  payloadType: number;
  sequence: number;
  timestamp: number;
  ssrc: number;
}

/** An RTP packet: the 12-byte fixed header (V=2, P=0, X=0, CC=0) and the payload. */
export function rtpPacket(fields: RtpHeaderFields, payload: Uint8Array): Buffer {
  const packet = Buffer.alloc(12 + payload.length);
  packet[0] = 2 << 6;
  packet[1] = (fields.marker ? 0x80 : 0) | (fields.payloadType & 0x7f);
  packet.writeUInt16BE(fields.sequence & 0xffff, 2);
  packet.writeUInt32BE(fields.timestamp >>> 0, 4);
  packet.writeUInt32BE(fields.ssrc >>> 0, 8);
  packet.set(payload, 12);
  return packet;
}

/** Reads the fixed header of an RTP packet (null when it is too short or not version 2). */
export function parseRtpHeader(packet: Buffer): (RtpHeaderFields & { version: number }) | null {
  if (packet.length < 12 || packet[0]! >> 6 !== 2) return null;
  return {
    version: 2,
    marker: (packet[1]! & 0x80) !== 0,
    payloadType: packet[1]! & 0x7f,
    sequence: packet.readUInt16BE(2),
    timestamp: packet.readUInt32BE(4),
    ssrc: packet.readUInt32BE(8),
  };
}

/** Parses a `name=value` line per variable, as the CLI prints them without --json. */
export function parseVariables(stdout: string): Record<string, string> {
  const variables: Record<string, string> = {};
  for (const line of stdout.split('\n')) {
    const match = /^([a-z_]+)=(.*)$/.exec(line);
    if (match) variables[match[1]!] = match[2]!;
  }
  return variables;
}

/**
 * A TIFF-F document of n short text pages (1728 dots by `height` rows at fine resolution, T.6):
 * about 13 kB of image a page instead of a full page's 70 kB, so a paced call over a real
 * line takes about 20 s.
 */
export function writeShortDocument(
  dir: string,
  n: number,
  options: { height?: number; firstSeed?: number; name?: string } = {},
): { file: string; pages: FaxPage[] } {
  const pages = Array.from({ length: n }, (_, i) =>
    textPage((options.firstSeed ?? 1) + i, { height: options.height ?? 500 }),
  );
  const file = path.join(dir, options.name ?? `short-${n}.tif`);
  writeTiffF(file, pages, 't6');
  return { file, pages };
}
