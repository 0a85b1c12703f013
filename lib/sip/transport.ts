/**
 * The SIP transport layer (RFC 3261 §18, RFC 3581): one UDP socket and one TCP listener with outgoing
 * connections, framing, `received`/`rport` on incoming requests, response routing, and the handling of
 * malformed input (400 when the request can be answered, else dropped; counted either way; never throws
 * from a socket handler). Every connection, wait and size is bounded by a named constant.
 */
import * as dgram from 'node:dgram';
import { EventEmitter } from 'node:events';
import * as net from 'node:net';
import { checkInteger, checkNonEmptyString, checkObject, invalidOption } from '../base/checks';
import { SipParseError, SipTransportError } from './errors';
import {
  badRequestPhrase,
  getHeader,
  getHeaders,
  makeResponse,
  MAX_MESSAGE_BYTES,
  parseCSeq,
  parseMessage,
  parseNameAddr,
  parseVia,
  serializeMessage,
  setTopVia,
  SipStreamParser,
  type SipMessage,
  type SipRequest,
  type Via,
} from './message';

/** The transports we speak. */
export type SipTransportKind = 'udp' | 'tcp';

/** Where a message came from or goes to. IPv6 hosts without []. */
export interface SipAddress {
  transport: SipTransportKind;
  host: string;
  port: number;
}

/** What to bind (port 0 = any free port) and the address to advertise when behind NAT. */
export interface SipTransportOptions {
  udp?: { host: string; port: number };
  tcp?: { host: string; port: number };
  /** The host others reach us at (our NAT's public IP); `local()` reports it instead of the bound host. */
  publicAddress?: string;
}

/** Counters since open. */
export interface SipTransportStats {
  /** Well-formed messages passed up. */
  received: number;
  /** Messages sent (including our own 400s). */
  sent: number;
  /** Inputs that failed to parse (datagrams, or stream messages / broken streams). */
  malformed: number;
  /** Malformed requests answered 400. */
  answered400: number;
  /** Inputs discarded: malformed and unanswerable, responses whose top Via is not ours, refused connections. */
  dropped: number;
  /** TCP connections open now. */
  tcpConnections: number;
  /** 'message' listeners that threw (caught so that a socket handler never throws). */
  listenerErrors: number;
}

/** A TCP connection with no traffic for this long is closed (RFC 3261 §18 leaves it to us; 5 min). */
export const TCP_IDLE_TIMEOUT_MS = 300_000;
/** The longest we wait for an outgoing TCP connection. */
export const TCP_CONNECT_TIMEOUT_MS = 5000;
/** The most TCP connections (incoming and outgoing together) open at once. */
export const MAX_TCP_CONNECTIONS = 1024;
/** After we end a TCP stream that broke framing, how long the peer has to close before we destroy it. */
export const TCP_CLOSE_GRACE_MS = 2000;

interface Connection {
  socket: net.Socket;
  key: string;
  remote: SipAddress;
}

function keyOf(a: { host: string; port: number }): string {
  return `${a.host.includes(':') ? `[${a.host}]` : a.host}:${a.port}`;
}

/** Node reports IPv4 peers of a dual-stack socket as ::ffff:a.b.c.d; SIP wants a.b.c.d. */
function plainHost(host: string | undefined): string {
  const h = host ?? '';
  return h.startsWith('::ffff:') && h.includes('.') ? h.slice(7) : h;
}

function sameHost(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}

/**
 * Where to send a response to `request` (§18.2.2, RFC 3581). Over TCP: back to `source` (the connection the
 * request came on; `send` falls back to the Via's `received`/sent-by when that connection is gone). Over UDP:
 * the top Via's `received` (else its sent-by host) and its `rport` value (else the sent-by port, else 5060).
 */
export function responseAddress(request: SipRequest, source: SipAddress): SipAddress {
  if (source.transport === 'tcp') return { ...source };
  const top = getHeader(request, 'Via');
  if (top === undefined) return { ...source };
  return viaAddress(parseVia(top), 'udp');
}

function viaAddress(via: Via, transport: SipTransportKind): SipAddress {
  const host = via.params.received ?? via.host;
  const rport = transport === 'udp' && via.params.rport ? Number(via.params.rport) : undefined;
  return { transport, host, port: rport ?? via.port ?? 5060 };
}

/** The UDP socket and TCP listener of one SIP endpoint; emits 'message' (message, source). */
export class SipTransport extends EventEmitter {
  readonly #publicAddress: string | undefined;
  #udp: dgram.Socket | undefined;
  #tcp: net.Server | undefined;
  readonly #bound = new Map<SipTransportKind, SipAddress>();
  readonly #connections = new Map<string, Connection>();
  readonly #connecting = new Map<string, Promise<Connection>>();
  readonly #sockets = new Set<net.Socket>();
  #closed = false;
  readonly #stats: Omit<SipTransportStats, 'tcpConnections'> = {
    received: 0,
    sent: 0,
    malformed: 0,
    answered400: 0,
    dropped: 0,
    listenerErrors: 0,
  };

  private constructor(publicAddress: string | undefined) {
    super();
    this.#publicAddress = publicAddress;
  }

  /** Binds the sockets asked for (at least one of udp, tcp). Rejects with SipTransportError when a bind fails. */
  static async open(options: SipTransportOptions): Promise<SipTransport> {
    checkObject(options, 'options');
    if (!options.udp && !options.tcp) throw invalidOption('udp or tcp', 'options', 'neither');
    const bindings: [SipTransportKind, { host: string; port: number }][] = [];
    for (const kind of ['udp', 'tcp'] as const) {
      const b = options[kind];
      if (b === undefined) continue;
      checkObject(b, `options.${kind}`);
      checkNonEmptyString(b.host, `options.${kind}.host`);
      checkInteger(b.port, `options.${kind}.port`, 0, 65535);
      bindings.push([kind, b]);
    }
    if (options.publicAddress !== undefined) checkNonEmptyString(options.publicAddress, 'options.publicAddress');
    const transport = new SipTransport(options.publicAddress);
    try {
      for (const [kind, b] of bindings) {
        if (kind === 'udp') await transport.#bindUdp(b.host, b.port);
        else await transport.#bindTcp(b.host, b.port);
      }
    } catch (error) {
      await transport.close();
      throw new SipTransportError(`Cannot bind SIP transport: ${(error as Error).message}`, { cause: error });
    }
    return transport;
  }

  /** The bound address of `kind` (publicAddress in place of the host when given). */
  local(kind: SipTransportKind): SipAddress {
    const bound = this.#bound.get(kind);
    if (!bound) throw new SipTransportError(`No ${kind} transport is open`);
    return { ...bound, host: this.#publicAddress ?? bound.host };
  }

  /** Counters since open. */
  stats(): SipTransportStats {
    return { ...this.#stats, tcpConnections: this.#connections.size };
  }

  /**
   * Sends one message. UDP: one datagram. TCP: over an open connection to (or from) `to`; for a response whose
   * connection is gone, to the top Via's received/sent-by (§18.2.2); else a new connection (TCP_CONNECT_TIMEOUT_MS).
   * Rejects with SipTransportError (too large, no such transport, connect/send failed, closed).
   */
  async send(message: SipMessage, to: SipAddress): Promise<void> {
    if (this.#closed) throw new SipTransportError('The SIP transport is closed');
    const bytes = serializeMessage(message);
    if (bytes.length > MAX_MESSAGE_BYTES) {
      throw new SipTransportError(
        `SIP message of ${bytes.length} bytes exceeds MAX_MESSAGE_BYTES (${MAX_MESSAGE_BYTES})`,
      );
    }
    if (to.transport === 'udp') await this.#sendUdp(bytes, to);
    else await this.#sendTcp(bytes, message, to);
    this.#stats.sent++;
  }

  /** Closes the sockets and every connection; idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const socket of this.#sockets) socket.destroy();
    this.#sockets.clear();
    this.#connections.clear();
    const udp = this.#udp;
    const tcp = this.#tcp;
    this.#udp = undefined;
    this.#tcp = undefined;
    await Promise.all([
      udp && new Promise<void>((resolve) => udp.close(() => resolve())),
      tcp && new Promise<void>((resolve) => tcp.close(() => resolve())),
    ]);
  }

  // ---- binding

  async #bindUdp(host: string, port: number): Promise<void> {
    const socket = dgram.createSocket({ type: net.isIPv6(host) ? 'udp6' : 'udp4' });
    this.#udp = socket;
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(port, host, () => {
        socket.off('error', reject);
        resolve();
      });
    });
    // After bind, socket errors (ICMP unreachable on some systems) must not crash us; sends report their own.
    socket.on('error', () => undefined);
    socket.on('message', (data, rinfo) => {
      this.#onDatagram(data, { transport: 'udp', host: plainHost(rinfo.address), port: rinfo.port });
    });
    const a = socket.address();
    this.#bound.set('udp', { transport: 'udp', host: a.address, port: a.port });
  }

  async #bindTcp(host: string, port: number): Promise<void> {
    const server = net.createServer((socket) => this.#onIncomingConnection(socket));
    this.#tcp = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host, port }, () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.on('error', () => undefined);
    const a = server.address() as net.AddressInfo;
    this.#bound.set('tcp', { transport: 'tcp', host: a.address, port: a.port });
  }

  // ---- receiving

  #onDatagram(data: Buffer, source: SipAddress): void {
    // CRLF keep-alives (RFC 5626 §3.5.1) are not messages.
    if (data.every((b) => b === 0x0d || b === 0x0a)) return;
    let message: SipMessage;
    try {
      message = parseMessage(data);
    } catch (error) {
      this.#onMalformed(error, source, (bytes, to) => this.#sendUdp(bytes, to));
      return;
    }
    this.#deliver(message, source);
  }

  #deliver(message: SipMessage, source: SipAddress): void {
    if (message.type === 'request') {
      this.#markSource(message, source);
    } else if (!this.#isOurVia(getHeader(message, 'Via'))) {
      // §18.1.2: a response whose top Via is not ours was misrouted.
      this.#stats.dropped++;
      return;
    }
    this.#stats.received++;
    try {
      this.emit('message', message, source);
    } catch {
      this.#stats.listenerErrors++;
    }
  }

  /** §18.2.1 and RFC 3581 §4: received when the source differs from sent-by (always with rport), rport=<port>. */
  #markSource(request: SipRequest, source: SipAddress): void {
    const top = getHeader(request, 'Via');
    if (top === undefined) return;
    const via = parseVia(top);
    const rport = via.params.rport !== undefined;
    if (rport) via.params.rport = String(source.port);
    if (rport || !sameHost(via.host, source.host)) via.params.received = source.host;
    if (rport || via.params.received === source.host) setTopVia(request, via);
  }

  #isOurVia(top: string | undefined): boolean {
    if (top === undefined) return false;
    let via: Via;
    try {
      via = parseVia(top);
    } catch {
      return false;
    }
    // The port decides, then the host: another SIP node on this host (a proxy) differs by port.
    const port = via.port ?? 5060;
    for (const bound of this.#bound.values()) {
      if (bound.port !== port) continue;
      const wildcard = bound.host === '0.0.0.0' || bound.host === '::';
      if (wildcard || sameHost(via.host, bound.host) || sameHost(via.host, this.#publicAddress ?? '')) return true;
    }
    return false;
  }

  /** Counts a malformed input; answers 400 (reason phrase naming the fault) when Via, CSeq, Call-ID, From, To read. */
  #onMalformed(error: unknown, source: SipAddress, reply: (bytes: Buffer, to: SipAddress) => Promise<void>): boolean {
    this.#stats.malformed++;
    const partial = error instanceof SipParseError ? error.partial : undefined;
    if (!partial || partial.type !== 'request' || partial.method === 'ACK' || !answerable(partial)) {
      this.#stats.dropped++;
      return false;
    }
    this.#markSource(partial, source);
    const response = makeResponse(partial, 400, badRequestPhrase(error as SipParseError));
    this.#stats.answered400++;
    reply(serializeMessage(response), responseAddress(partial, source)).then(
      () => this.#stats.sent++,
      () => undefined,
    );
    return true;
  }

  // ---- TCP connections

  #onIncomingConnection(socket: net.Socket): void {
    if (this.#closed || this.#connections.size + this.#connecting.size >= MAX_TCP_CONNECTIONS) {
      // MAX_TCP_CONNECTIONS reached: refuse rather than let one peer exhaust us.
      this.#stats.dropped++;
      socket.destroy();
      return;
    }
    const remote: SipAddress = {
      transport: 'tcp',
      host: plainHost(socket.remoteAddress),
      port: socket.remotePort ?? 0,
    };
    this.#attach(socket, remote);
  }

  #attach(socket: net.Socket, remote: SipAddress): Connection {
    const conn: Connection = { socket, key: keyOf(remote), remote };
    this.#connections.set(conn.key, conn);
    this.#sockets.add(socket);
    socket.setNoDelay(true);
    socket.setTimeout(TCP_IDLE_TIMEOUT_MS, () => socket.destroy());
    const reply = (bytes: Buffer) => this.#write(conn, bytes);
    const parser = new SipStreamParser({ onError: (error) => this.#onMalformed(error, remote, reply) });
    socket.on('data', (chunk: Buffer) => {
      let messages: SipMessage[];
      try {
        messages = parser.push(chunk);
      } catch (error) {
        // The stream broke framing: answer if we can, then close it (nothing after this point can be trusted).
        const answered = this.#onMalformed(error, remote, async (bytes) => {
          if (!socket.destroyed) socket.end(bytes);
        });
        if (!answered) socket.destroy();
        else socket.on('finish', () => setTimeout(() => socket.destroy(), TCP_CLOSE_GRACE_MS).unref());
        return;
      }
      for (const m of messages) this.#deliver(m, remote);
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      this.#sockets.delete(socket);
      if (this.#connections.get(conn.key) === conn) this.#connections.delete(conn.key);
    });
    return conn;
  }

  async #connect(to: SipAddress): Promise<Connection> {
    const key = keyOf(to);
    const pending = this.#connecting.get(key);
    if (pending) return pending;
    if (this.#connections.size + this.#connecting.size >= MAX_TCP_CONNECTIONS) {
      throw new SipTransportError(`MAX_TCP_CONNECTIONS (${MAX_TCP_CONNECTIONS}) reached; not connecting to ${key}`);
    }
    const attempt = new Promise<Connection>((resolve, reject) => {
      const socket = net.connect({ host: to.host, port: to.port });
      this.#sockets.add(socket);
      const timer = setTimeout(() => {
        socket.destroy();
        reject(
          new SipTransportError(`TCP connect to ${key} timed out (TCP_CONNECT_TIMEOUT_MS ${TCP_CONNECT_TIMEOUT_MS})`),
        );
      }, TCP_CONNECT_TIMEOUT_MS);
      socket.once('connect', () => {
        clearTimeout(timer);
        if (this.#closed) {
          socket.destroy();
          reject(new SipTransportError('The SIP transport is closed'));
          return;
        }
        resolve(this.#attach(socket, { ...to }));
      });
      socket.once('error', (error) => {
        clearTimeout(timer);
        this.#sockets.delete(socket);
        reject(new SipTransportError(`TCP connect to ${key} failed: ${error.message}`, { cause: error }));
      });
      socket.once('close', () => {
        clearTimeout(timer);
        this.#sockets.delete(socket);
        reject(new SipTransportError(`TCP connection to ${key} closed while connecting`));
      });
    });
    this.#connecting.set(key, attempt);
    try {
      return await attempt;
    } finally {
      this.#connecting.delete(key);
    }
  }

  async #sendTcp(bytes: Buffer, message: SipMessage, to: SipAddress): Promise<void> {
    if (!this.#bound.has('tcp')) throw new SipTransportError('No tcp transport is open');
    let conn = this.#open(to);
    if (!conn && message.type === 'response') {
      // §18.2.2: the request's connection is gone; open one to the Via's received (or sent-by) and port.
      const top = getHeader(message, 'Via');
      if (top !== undefined) {
        const fallback = viaAddress(parseVia(top), 'tcp');
        conn = this.#open(fallback) ?? (await this.#connect(fallback));
      }
    }
    conn ??= await this.#connect(to);
    await this.#write(conn, bytes);
  }

  #open(to: { host: string; port: number }): Connection | undefined {
    const conn = this.#connections.get(keyOf(to));
    return conn && !conn.socket.destroyed && conn.socket.writable ? conn : undefined;
  }

  #write(conn: Connection, bytes: Buffer): Promise<void> {
    return new Promise((resolve, reject) => {
      if (conn.socket.destroyed || !conn.socket.writable) {
        reject(new SipTransportError(`TCP connection to ${conn.key} is closed`));
        return;
      }
      conn.socket.write(bytes, (error) => {
        if (error) reject(new SipTransportError(`TCP send to ${conn.key} failed: ${error.message}`, { cause: error }));
        else resolve();
      });
    });
  }

  #sendUdp(bytes: Buffer, to: SipAddress): Promise<void> {
    const socket = this.#udp;
    if (!socket) return Promise.reject(new SipTransportError('No udp transport is open'));
    return new Promise((resolve, reject) => {
      socket.send(bytes, to.port, to.host, (error) => {
        if (error) reject(new SipTransportError(`UDP send to ${keyOf(to)} failed: ${error.message}`, { cause: error }));
        else resolve();
      });
    });
  }
}

/** Whether a malformed request still has what a 400 needs (§8.2.6): a top Via, CSeq, Call-ID, From and To. */
function answerable(request: SipRequest): boolean {
  try {
    const top = getHeaders(request, 'Via')[0];
    if (top === undefined) return false;
    parseVia(top);
    const cseq = getHeader(request, 'CSeq');
    const from = getHeader(request, 'From');
    const to = getHeader(request, 'To');
    const callId = getHeader(request, 'Call-ID');
    if (cseq === undefined || from === undefined || to === undefined || !callId) return false;
    parseCSeq(cseq);
    parseNameAddr(from);
    parseNameAddr(to);
    return true;
  } catch {
    return false;
  }
}
