/**
 * The media of one SIP fax call: UDP ports taken from a range (even ones, as RTP wants; the next
 * one when a port is taken by another process), the RTP line that carries G.711 and the UDPTL line
 * that carries T.38, both bound on the listen address, and the facts about them that our SDP
 * states (address, ports, o= session id and version).
 */
import { randomInt } from 'node:crypto';
import { isIPv4 } from 'node:net';
import * as os from 'node:os';
import { checkInteger, checkObject } from '../base/checks';
import { CapacityError, InvalidOptionError } from '../base/errors';
import type { G711Law } from '../transports/g711';
import { RtpLine, type RtpLineOptions } from '../transports/rtp/rtp-line';
import { UdptlLine, type UdptlLineOptions } from '../transports/t38/udptl-line';
import type { UdpEndpoint } from '../transports/udp-peer';
import { newSessionId, type LocalMedia, type T38Params } from './fax-sdp';

/** A range of local UDP ports, both ends included. */
export interface PortRange {
  min: number;
  max: number;
}

/** The ports media lines take by default: FaxPool's range, the usual RTP range. */
export const DEFAULT_MEDIA_PORTS: Readonly<PortRange> = Object.freeze({ min: 16384, max: 32767 });

/** Ports tried for one line before giving up (each taken by another process). */
export const MAX_BIND_ATTEMPTS = 32;

/** Checks a port range (even ports are handed out, so it must hold at least one even port). */
export function checkPortRange(value: unknown, what = 'ports'): PortRange {
  const range = checkObject<{ min: unknown; max: unknown }>(value, what);
  const min = checkInteger(range.min, `${what}.min`, 1024, 65534);
  const max = checkInteger(range.max, `${what}.max`, min + 1, 65535);
  return { min, max };
}

/**
 * The address our SDP puts in c=: the public address when given, else the bind address, else
 * (bound to every interface) the first non-internal IPv4 address of this host, else 127.0.0.1.
 */
export function mediaAddress(bindHost: string, publicAddress?: string): string {
  if (publicAddress !== undefined) {
    if (!isIPv4(publicAddress))
      throw new InvalidOptionError(`Expected an IPv4 address for publicAddress but got ${publicAddress}`);
    return publicAddress;
  }
  if (bindHost !== '0.0.0.0') return bindHost;
  for (const addresses of Object.values(os.networkInterfaces())) {
    for (const a of addresses ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return '127.0.0.1';
}

/** Whether a line failed to bind because its port is taken (or not ours to take). */
function portTaken(error: unknown): boolean {
  const cause = (error as { cause?: { code?: unknown } } | undefined)?.cause;
  return cause?.code === 'EADDRINUSE' || cause?.code === 'EACCES';
}

/** A line that binds when made: RtpLine or UdptlLine. */
interface BindingLine {
  bound(): Promise<UdpEndpoint>;
  close(): Promise<void>;
}

/**
 * The media ports of one endpoint: hands out even ports of `range` on `host` round-robin,
 * skipping those its own calls hold, and the next one when another process holds one.
 */
export class MediaPorts {
  readonly host: string;
  readonly range: PortRange;
  readonly #inUse = new Set<number>();
  #next: number;

  constructor(host: string, range: PortRange = DEFAULT_MEDIA_PORTS) {
    if (!isIPv4(host)) throw new InvalidOptionError(`Expected an IPv4 address for the media host but got ${host}`);
    this.host = host;
    this.range = checkPortRange(range);
    const first = this.range.min + (this.range.min % 2);
    if (first > this.range.max)
      throw new InvalidOptionError(`ports ${this.range.min}-${this.range.max} hold no even port`);
    // A random start, so that two endpoints on one host do not walk the same ports in step.
    const evens = Math.floor((this.range.max - first) / 2) + 1;
    this.#next = first + 2 * randomInt(evens);
  }

  /** Ports our calls hold now. */
  get inUse(): number {
    return this.#inUse.size;
  }

  /** Opens an RTP line on the next free even port. Throws CapacityError when none can be bound. */
  openRtp(options: Omit<RtpLineOptions, 'local'>, port?: number): Promise<RtpLine> {
    return this.#open((local) => new RtpLine({ ...options, local }), port);
  }

  /** Opens a UDPTL line on the next free even port. Throws CapacityError when none can be bound. */
  openUdptl(options: Omit<UdptlLineOptions, 'local'>): Promise<UdptlLine> {
    return this.#open((local) => new UdptlLine({ ...options, local }));
  }

  /** Gives a port back (after its line closed). */
  release(port: number): void {
    this.#inUse.delete(port);
  }

  /** Binds a line on `port` (that one only) or on the next free even ports, at most MAX_BIND_ATTEMPTS. */
  async #open<L extends BindingLine>(make: (local: UdpEndpoint) => L, port?: number): Promise<L> {
    const attempts = port === undefined ? MAX_BIND_ATTEMPTS : 1;
    let lastError: unknown = null;
    for (let i = 0; i < attempts; i++) {
      const p = port ?? this.#take();
      if (port !== undefined) this.#inUse.add(p);
      const line = make({ host: this.host, port: p });
      try {
        await line.bound();
        return line;
      } catch (error) {
        await line.close();
        this.#inUse.delete(p);
        if (!portTaken(error)) throw error;
        lastError = error;
      }
    }
    const why = lastError instanceof Error ? `: ${lastError.message}` : '';
    throw new CapacityError(
      'full',
      port === undefined
        ? `No media port could be bound on ${this.host} in ${this.range.min}-${this.range.max} after ${MAX_BIND_ATTEMPTS} tries (MAX_BIND_ATTEMPTS)${why}`
        : `Media port ${this.host}:${port} could not be bound${why}`,
    );
  }

  /** The next even port no call of ours holds, marked as held. */
  #take(): number {
    const { min, max } = this.range;
    const first = min + (min % 2);
    const evens = Math.floor((max - first) / 2) + 1;
    for (let i = 0; i < evens; i++) {
      const port = this.#next;
      this.#next = port + 2 > max ? first : port + 2;
      if (this.#inUse.has(port)) continue;
      this.#inUse.add(port);
      return port;
    }
    throw new CapacityError('full', `Every media port in ${min}-${max} is held by a call`);
  }
}

/** Which lines a call opens. */
export interface CallMediaOptions {
  /** An RTP line for G.711 with this law (its codec may change with the answer: see setCodec). */
  audio?: G711Law;
  /** A UDPTL line for T.38. */
  t38?: boolean;
  /** The c= address of our SDP. */
  address: string;
  /** Send to where the far end's media comes from (NAT). Default true. */
  symmetric?: boolean;
  /** The lines' silence bound, ms (see RtpLine/UdptlLine). */
  silenceTimeoutMs?: number;
  /** Our T.38 capabilities for offers and answers (default: fax-sdp's, DEFAULT_T38_PARAMS). */
  t38Params?: T38Params;
}

/**
 * The lines of one call and our SDP's view of them. Made before the offer (its ports go into
 * it); the far end's address is set on each line once an answer (or early media) gives it.
 */
export class CallMedia {
  readonly address: string;
  /** The o= session id of every SDP of ours in this call. */
  readonly sessionId: string;
  rtp: RtpLine | null = null;
  udptl: UdptlLine | null = null;
  readonly #ports: MediaPorts;
  readonly #options: CallMediaOptions;
  #version = 1;
  #closed = false;

  private constructor(ports: MediaPorts, options: CallMediaOptions) {
    this.#ports = ports;
    this.#options = options;
    this.address = options.address;
    this.sessionId = newSessionId();
  }

  /** Opens the lines `options` asks for; on failure nothing stays open. */
  static async open(ports: MediaPorts, options: CallMediaOptions): Promise<CallMedia> {
    const media = new CallMedia(ports, options);
    try {
      if (options.audio) media.rtp = await ports.openRtp(media.#rtpOptions(options.audio));
      if (options.t38) media.udptl = await ports.openUdptl(media.#lineOptions());
      return media;
    } catch (error) {
      await media.close();
      throw error;
    }
  }

  /** Our side for an SDP, with the current o= version. */
  local(): LocalMedia {
    return {
      address: this.address,
      audioPort: this.rtp?.localAddress?.port,
      imagePort: this.udptl?.localAddress?.port,
      sessionId: this.sessionId,
      version: this.#version,
      ...(this.#options.t38Params && { t38: this.#options.t38Params }),
    };
  }

  /** Our side for a new offer or answer: the o= version goes up (RFC 3264 §8). */
  next(): LocalMedia {
    this.#version++;
    return this.local();
  }

  /**
   * Moves the RTP line to another G.711 law (the answer chose PCMA): the line is reopened on its
   * port, before it carried anything. No-op when the law is already that one.
   */
  async setCodec(codec: G711Law): Promise<void> {
    const old = this.rtp;
    if (!old || old.codec === codec) return;
    const port = old.localAddress!.port;
    await old.close();
    this.#ports.release(port);
    this.rtp = null;
    this.rtp = await this.#ports.openRtp(this.#rtpOptions(codec), port);
  }

  /** Closes the lines and gives their ports back. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const line of [this.rtp, this.udptl]) {
      if (!line) continue;
      const port = line.localAddress?.port;
      await line.close();
      if (port !== undefined) this.#ports.release(port);
    }
  }

  #lineOptions(): { symmetric: boolean; silenceTimeoutMs?: number } {
    return {
      symmetric: this.#options.symmetric ?? true,
      ...(this.#options.silenceTimeoutMs !== undefined && { silenceTimeoutMs: this.#options.silenceTimeoutMs }),
    };
  }

  #rtpOptions(codec: G711Law): Omit<RtpLineOptions, 'local'> {
    return { ...this.#lineOptions(), codec };
  }
}
