/**
 * Both ends of an AudioSocket connection. Asterisk's `AudioSocket(uuid,host:port)` connects
 * to us, so faxline's usual side is the server; the client exists for tests and for
 * `faxline send --to audiosocket://HOST:PORT`.
 */
import { EventEmitter } from 'node:events';
import { randomUUID } from 'node:crypto';
import * as net from 'node:net';
import { InvalidOptionError } from '../../base/errors';
import {
  AudioSocketError,
  AudioSocketLine,
  checkAudioSocketLineOptions,
  type AudioSocketLineOptions,
} from './audiosocket-line';

/** Options of AudioSocketServer: those of each call's line, and a bound on connections. */
export interface AudioSocketServerOptions extends Omit<AudioSocketLineOptions, 'uuid'> {
  /** Connections open at once, calls and handshakes together; more are refused (default 1000). */
  maxConnections?: number;
}

/** Where to listen. */
export interface AudioSocketListenOptions {
  /** Address to bind (default 127.0.0.1: listening wider is the host's explicit choice). */
  host?: string;
  /** Port to bind; 0 picks a free one (default 0). */
  port?: number;
}

/** A connection refused before it became a call. */
export interface AudioSocketRejection {
  /** The peer, "host:port". */
  remote: string;
  /** Why, in words. */
  reason: string;
}

/** Counters of a server. */
export interface AudioSocketServerStats {
  /** Connections whose UUID arrived: calls handed out. */
  accepted: number;
  /** Connections closed because they sent no UUID in time, or something else first. */
  rejected: number;
  /** Calls and handshakes open now. */
  open: number;
}

function checkPort(port: unknown, allowZero: boolean): number {
  if (typeof port !== 'number' || !Number.isInteger(port) || port < (allowZero ? 0 : 1) || port > 65535)
    throw new InvalidOptionError(`Expected a TCP port number for port but got ${String(port)}`);
  return port;
}

function checkHost(host: unknown): string {
  if (typeof host !== 'string' || host.length === 0)
    throw new InvalidOptionError(`Expected a host name or address for host but got ${String(host)}`);
  return host;
}

/**
 * An AudioSocket server: each connection that opens with its UUID becomes an AudioSocketLine.
 *
 * Events: `'call'` (line: AudioSocketLine), once the connection's UUID arrived (a call nobody
 * listens for is hung up); `'rejected'` (AudioSocketRejection), for a connection that sent no
 * UUID within `uuidTimeoutMs` (default 5 s) or something else first, which is then closed.
 */
export class AudioSocketServer extends EventEmitter {
  private readonly server: net.Server;
  private readonly lineOptions: Omit<AudioSocketLineOptions, 'uuid'>;
  private readonly lines = new Set<AudioSocketLine>();
  private accepted = 0;
  private rejected = 0;
  private closing: Promise<void> | null = null;

  /** @throws InvalidOptionError for a bad option. */
  constructor(options: AudioSocketServerOptions = {}) {
    super();
    const { maxConnections = 1000, ...lineOptions } = options;
    if (!Number.isInteger(maxConnections) || maxConnections <= 0)
      throw new InvalidOptionError(`Expected a positive integer for maxConnections but got ${String(maxConnections)}`);
    if ('uuid' in lineOptions) throw new InvalidOptionError('A server learns each call UUID from its peer');
    checkAudioSocketLineOptions(lineOptions);
    this.lineOptions = lineOptions;
    this.server = net.createServer((socket) => this.onConnection(socket));
    this.server.maxConnections = maxConnections;
  }

  /** Starts listening; resolves with the bound address (the port chosen when 0 was asked). */
  listen(options: AudioSocketListenOptions = {}): Promise<net.AddressInfo> {
    const host = checkHost(options.host ?? '127.0.0.1');
    const port = checkPort(options.port ?? 0, true);
    if (this.closing) return Promise.reject(new AudioSocketError('The AudioSocket server is closed'));
    return new Promise((resolve, reject) => {
      const onError = (error: Error): void =>
        reject(
          new AudioSocketError(`Could not listen for AudioSocket on ${host}:${port}: ${error.message}`, {
            cause: error,
          }),
        );
      this.server.once('error', onError);
      this.server.listen({ host, port }, () => {
        this.server.off('error', onError);
        // Later server errors (a failed accept) must not throw out of the event loop; the calls carry on.
        this.server.on('error', () => undefined);
        resolve(this.server.address() as net.AddressInfo);
      });
    });
  }

  /** The bound address, or null when not listening. */
  get address(): net.AddressInfo | null {
    const address = this.server.address();
    return address !== null && typeof address === 'object' ? address : null;
  }

  /** Counters so far. */
  stats(): AudioSocketServerStats {
    return { accepted: this.accepted, rejected: this.rejected, open: this.lines.size };
  }

  /** Stops listening and hangs up every open call and handshake. Idempotent. */
  close(): Promise<void> {
    if (this.closing) return this.closing;
    const stopped = new Promise<void>((resolve) => {
      if (!this.server.listening) return resolve();
      this.server.close(() => resolve());
    });
    // Each line closes within its own bound (1 s), so the server's close callback is bounded too.
    this.closing = Promise.all([...this.lines].map((line) => line.close())).then(() => stopped);
    return this.closing;
  }

  private onConnection(socket: net.Socket): void {
    if (this.closing) {
      socket.destroy();
      return;
    }
    const line = new AudioSocketLine(socket, this.lineOptions);
    this.lines.add(line);
    socket.once('close', () => this.lines.delete(line));
    line.ready().then(
      () => {
        if (this.closing) return;
        this.accepted++;
        if (!this.emit('call', line)) void line.close();
      },
      (error: Error) => {
        if (this.closing) return;
        this.rejected++;
        this.emit('rejected', { remote: line.remote, reason: error.message } satisfies AudioSocketRejection);
        void line.close();
      },
    );
  }
}

/** Options of connectAudioSocket: where, the call's UUID, and the line's options. */
export interface ConnectAudioSocketOptions extends Omit<AudioSocketLineOptions, 'uuid' | 'uuidTimeoutMs'> {
  /** The server's host. */
  host: string;
  /** The server's port. */
  port: number;
  /** The call's UUID (default a random one). */
  uuid?: string;
  /** Bound on connecting and sending the UUID (default 5000 ms). */
  timeoutMs?: number;
}

/**
 * Connects to an AudioSocket server as Asterisk would: opens the TCP connection and sends the
 * UUID message first. Resolves with the line once the UUID is sent.
 * @throws InvalidOptionError for bad options; AudioSocketError when the connection fails or times out.
 */
export async function connectAudioSocket(options: ConnectAudioSocketOptions): Promise<AudioSocketLine> {
  const { host, port, uuid = randomUUID(), timeoutMs = 5000, ...lineOptions } = options;
  checkHost(host);
  checkPort(port, false);
  if (typeof timeoutMs !== 'number' || !Number.isInteger(timeoutMs) || timeoutMs <= 0)
    throw new InvalidOptionError(`Expected a positive integer for timeoutMs but got ${String(timeoutMs)}`);
  checkAudioSocketLineOptions({ ...lineOptions, uuid });
  return new Promise<AudioSocketLine>((resolve, reject) => {
    let line: AudioSocketLine | null = null;
    const socket = net.connect({ host, port });
    const fail = (error: Error): void => {
      clearTimeout(timer);
      if (line) void line.close();
      else socket.destroy();
      reject(error);
    };
    const timer = setTimeout(
      () => fail(new AudioSocketError(`No AudioSocket connection to ${host}:${port} within ${timeoutMs} ms`)),
      timeoutMs,
    );
    const onError = (error: Error): void =>
      fail(
        new AudioSocketError(`Could not connect to AudioSocket ${host}:${port}: ${error.message}`, { cause: error }),
      );
    socket.once('error', onError);
    socket.once('connect', () => {
      socket.off('error', onError);
      const connected = new AudioSocketLine(socket, { ...lineOptions, uuid });
      line = connected;
      connected.ready().then(() => {
        clearTimeout(timer);
        resolve(connected);
      }, fail);
    });
  });
}
