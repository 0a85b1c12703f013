/**
 * The SIP judges for tests: SIPp, Kamailio, baresip and `faxline serve` as child processes on
 * free 127.0.0.1 ports. Every start waits a bounded time for its child to be ready, every child's
 * output is kept for failure messages, and stopSipTools() kills whatever is still running (for
 * afterAll). SIPp's message trace is parsed so tests can look at exactly what faxline sent.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as dgram from 'node:dgram';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { cliArgs, root } from './cli';
import { freePorts, waitForUdpListener, waitUntil } from './cli-peers';

/** Where the scenarios and configuration templates are. */
export const SIP_DIR = path.join(root, 'test/sip');

/** No child outlives this, whatever the test's own timeout. */
const CHILD_TIMEOUT_MS = 150_000;
/** How long a child may take to start and answer (ts-node compiles the CLI on start). */
export const START_BOUND_MS = 40_000;
/** How long a stopped child may take to exit before it is killed. */
const STOP_BOUND_MS = 10_000;
/** What a child's log keeps at most, characters (the newest are kept). */
const LOG_LIMIT = 2_000_000;

/** A child process of a judge or a node, with what it printed. */
export class ToolChild {
  readonly name: string;
  readonly child: ChildProcess;
  /** Resolves with the exit status (or the signal's name) once the child exited; never rejects. */
  readonly exited: Promise<number | string>;
  #log = '';
  #exit: number | string | null = null;

  constructor(name: string, command: string, args: string[], options: { cwd: string; env?: NodeJS.ProcessEnv }) {
    this.name = name;
    // Its own process group, so a stop reaches the workers Kamailio forks too.
    this.child = spawn(command, args, {
      cwd: options.cwd,
      env: { ...process.env, ...options.env },
      detached: true,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    running.add(this);
    const keep = (chunk: Buffer): void => {
      this.#log += chunk.toString('utf8');
      if (this.#log.length > LOG_LIMIT) this.#log = this.#log.slice(-LOG_LIMIT);
    };
    this.child.stdout?.on('data', keep);
    this.child.stderr?.on('data', keep);
    this.exited = new Promise((resolve) => {
      this.child.once('error', (error) => {
        keep(Buffer.from(`\n[${name}: ${error.message}]\n`));
        this.#exit = 'error';
        running.delete(this);
        resolve('error');
      });
      this.child.once('close', (status, signal) => {
        this.#exit = status ?? signal ?? 'unknown';
        running.delete(this);
        resolve(this.#exit);
      });
    });
    const timer = setTimeout(() => this.kill('SIGKILL'), CHILD_TIMEOUT_MS);
    timer.unref();
    void this.exited.then(() => clearTimeout(timer));
  }

  /** Everything the child printed so far (stdout and stderr interleaved). */
  get log(): string {
    return this.#log;
  }

  /** The exit status, or null while it runs. */
  get exitStatus(): number | string | null {
    return this.#exit;
  }

  /** Sends a signal to the child's process group (no-op once it exited). */
  kill(signal: NodeJS.Signals): void {
    if (this.#exit !== null || this.child.pid === undefined) return;
    try {
      process.kill(-this.child.pid, signal);
    } catch {
      // Already gone.
    }
  }

  /** SIGTERM, then SIGKILL if it has not exited within the stop bound; resolves once it exited. */
  async stop(): Promise<void> {
    if (this.#exit !== null) return;
    this.kill('SIGTERM');
    const timer = setTimeout(() => this.kill('SIGKILL'), STOP_BOUND_MS);
    await this.exited;
    clearTimeout(timer);
  }

  /** Waits (bounded) until the log matches `pattern`; returns the match. */
  async waitForLog(pattern: RegExp, ms: number, what: string): Promise<RegExpMatchArray> {
    let match: RegExpMatchArray | null = null;
    await waitUntil(
      () => {
        match = pattern.exec(this.#log);
        return match !== null || this.#exit !== null;
      },
      ms,
      `${this.name}: ${what}`,
    ).catch((error: Error) => {
      throw new Error(`${error.message}; its log:\n${this.tail()}`);
    });
    if (match === null)
      throw new Error(`${this.name} exited (${String(this.#exit)}) before ${what}; its log:\n${this.tail()}`);
    return match;
  }

  /** The end of the log, for failure messages. */
  tail(chars = 6000): string {
    return this.#log.slice(-chars);
  }
}

const running = new Set<ToolChild>();

/** Stops every child still running (for afterAll): SIGTERM, then SIGKILL after the stop bound. */
export async function stopSipTools(): Promise<void> {
  await Promise.all([...running].map((c) => c.stop()));
}

/** A SIP message as SIPp's trace shows it. */
export interface TracedMessage {
  direction: 'sent' | 'received';
  /** The start line: 'INVITE sip:… SIP/2.0' or 'SIP/2.0 200 OK'. */
  startLine: string;
  /** The request method, or the CSeq method of a response. */
  method: string;
  /** The status of a response, 0 for a request. */
  status: number;
  headers: Array<{ name: string; value: string }>;
  body: string;
}

/** The first value of a header (case-insensitive name). */
export function header(message: TracedMessage, name: string): string | undefined {
  return message.headers.find((h) => h.name.toLowerCase() === name.toLowerCase())?.value;
}

/** Reads SIPp's -message_file: one block per message, each after a line of dashes. */
export function parseSippTrace(text: string): TracedMessage[] {
  const messages: TracedMessage[] = [];
  for (const block of text.split(/^-{20,}.*$/m)) {
    const lines = block.replace(/^\n+/, '').split('\n');
    const kind = /message (sent|received)/.exec(lines[0] ?? '');
    if (!kind) continue;
    // A blank line follows the "sent/received" line, then the message.
    let i = 1;
    while (i < lines.length && lines[i]!.trim() === '') i++;
    const startLine = (lines[i++] ?? '').trim();
    const headers: Array<{ name: string; value: string }> = [];
    for (; i < lines.length && lines[i]!.trim() !== ''; i++) {
      const colon = lines[i]!.indexOf(':');
      if (colon > 0) headers.push({ name: lines[i]!.slice(0, colon).trim(), value: lines[i]!.slice(colon + 1).trim() });
    }
    const body = lines
      .slice(i + 1)
      .join('\n')
      .replace(/\s+$/, '');
    const response = /^SIP\/2\.0 (\d{3})/.exec(startLine);
    const cseq = headers.find((h) => h.name.toLowerCase() === 'cseq')?.value ?? '';
    messages.push({
      direction: kind[1] as 'sent' | 'received',
      startLine,
      method: response ? (cseq.split(/\s+/)[1] ?? '') : startLine.split(' ')[0]!,
      status: response ? Number(response[1]) : 0,
      headers,
      body,
    });
  }
  return messages;
}

/** What a SIPp run ended with. */
export interface SippResult {
  /** SIPp's exit status: 0 when every call of the scenario succeeded. */
  status: number | string;
  /** The messages SIPp sent and received, in order. */
  messages: TracedMessage[];
  /** SIPp's error log (unexpected messages, failed checks). */
  errors: string;
  /** What SIPp printed. */
  log: string;
}

/** Options of one SIPp run. */
export interface SippOptions {
  /** A scenario file name under test/sip/. */
  scenario: string;
  /** A folder for SIPp's logs. */
  dir: string;
  /** Our SIP port (bound on 127.0.0.1). */
  port: number;
  /** The port SIPp puts in its SDP ([media_port]) and binds (and the one two above it, for video): see freeMediaPort(). */
  mediaPort: number;
  /** The far end, for a scenario that starts by sending; omitted for one that starts by receiving. */
  target?: { host: string; port: number };
  /** The Request-URI's user ([service]). */
  service?: string;
  /** SIPp gives up after this long (and fails), s. */
  timeoutS: number;
  /** More SIPp flags (e.g. -d for the default pause, -nr). */
  extraArgs?: string[];
}

/** A running SIPp. */
export interface Sipp {
  process: ToolChild;
  /** The messages traced so far. */
  messagesSoFar(): TracedMessage[];
  /** Resolves once SIPp exited. */
  done: Promise<SippResult>;
}

let sippRuns = 0;

/** Starts SIPp on a scenario; for a scenario that receives first, resolves once its port is bound. */
export async function startSipp(options: SippOptions): Promise<Sipp> {
  const id = `${path.basename(options.scenario, '.xml')}-${++sippRuns}`;
  const messageFile = path.join(options.dir, `${id}.messages.log`);
  const errorFile = path.join(options.dir, `${id}.errors.log`);
  const args = [
    '-sf',
    path.join(SIP_DIR, options.scenario),
    '-i',
    '127.0.0.1',
    '-p',
    String(options.port),
    '-bind_local',
    '-mi',
    '127.0.0.1',
    '-mp',
    String(options.mediaPort),
    '-m',
    '1',
    '-l',
    '1',
    '-timeout',
    `${options.timeoutS}s`,
    '-timeout_error',
    '-trace_err',
    '-error_file',
    errorFile,
    '-trace_msg',
    '-message_file',
    messageFile,
    '-nostdin',
    '-s',
    options.service ?? 'fax',
  ];
  args.push(...(options.extraArgs ?? []));
  if (options.target) args.push(`${options.target.host}:${options.target.port}`);
  const proc = new ToolChild(`sipp ${options.scenario}`, 'sipp', args, { cwd: options.dir });
  const read = (file: string): string => {
    try {
      return fs.readFileSync(file, 'utf8');
    } catch {
      return '';
    }
  };
  const done = proc.exited.then((status) => ({
    status,
    messages: parseSippTrace(read(messageFile)),
    errors: read(errorFile),
    log: proc.log,
  }));
  if (!options.target) {
    const exitedEarly = proc.exited.then(async () => {
      throw new Error(describeSipp(await done));
    });
    await Promise.race([waitForUdpListener(options.port, START_BOUND_MS), exitedEarly]);
    exitedEarly.catch(() => undefined);
  }
  return { process: proc, messagesSoFar: () => parseSippTrace(read(messageFile)), done };
}

/** Runs SIPp to its end. */
export async function runSipp(options: SippOptions): Promise<SippResult> {
  return (await startSipp(options)).done;
}

/** A failure message for a SIPp run: its status, its errors and the messages it saw. */
export function describeSipp(result: SippResult): string {
  const flow = result.messages.map((m) => `${m.direction === 'sent' ? '->' : '<-'} ${m.startLine}`).join('\n');
  return `sipp exited ${String(result.status)}\nerrors:\n${result.errors.slice(-4000)}\nflow:\n${flow}\nlog:\n${result.log.slice(-3000)}`;
}

/** The start lines of a trace as '-> INVITE' / '<- 200 INVITE', for asserting a whole flow. */
export function flowOf(messages: TracedMessage[]): string[] {
  return messages.map(
    (m) => `${m.direction === 'sent' ? '->' : '<-'} ${m.status ? `${m.status} ${m.method}` : m.method}`,
  );
}

/**
 * Sends one OPTIONS to host:port from a socket of its own and resolves with the response's
 * status, or null when nothing answered within `ms`. Written by hand, apart from our SIP stack.
 */
export async function probeOptions(host: string, port: number, ms = 1000): Promise<number | null> {
  const socket = dgram.createSocket('udp4');
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(0, '127.0.0.1', () => resolve());
    });
    const local = socket.address().port;
    const branch = `z9hG4bK${Math.random().toString(36).slice(2)}`;
    const request = [
      `OPTIONS sip:${host}:${port} SIP/2.0`,
      `Via: SIP/2.0/UDP 127.0.0.1:${local};branch=${branch};rport`,
      `From: <sip:probe@127.0.0.1:${local}>;tag=${branch.slice(7)}`,
      `To: <sip:${host}:${port}>`,
      `Call-ID: ${branch}@127.0.0.1`,
      'CSeq: 1 OPTIONS',
      'Max-Forwards: 70',
      'Content-Length: 0',
      '',
      '',
    ].join('\r\n');
    return await new Promise<number | null>((resolve) => {
      const timer = setTimeout(() => resolve(null), ms);
      socket.on('message', (data) => {
        const status = /^SIP\/2\.0 (\d{3})/.exec(data.toString('latin1'));
        // A provisional is not the answer.
        if (status && Number(status[1]) >= 200) {
          clearTimeout(timer);
          resolve(Number(status[1]));
        }
      });
      socket.send(request, port, host);
    });
  } finally {
    socket.close();
  }
}

/** Waits (bounded) until host:port answers OPTIONS with `status` (null: with any final response). */
export async function waitForOptions(
  host: string,
  port: number,
  status: number | null,
  ms: number,
  what: string,
): Promise<void> {
  const until = Date.now() + ms;
  let last: number | null = null;
  while (Date.now() < until) {
    last = await probeOptions(host, port, 500);
    if (last !== null && (status === null || last === status)) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(
    `${what}: OPTIONS not answered ${String(status ?? 'at all')} within ${ms / 1000} s (last: ${String(last)})`,
  );
}

/** A running `faxline serve`. */
export interface ServeNode {
  process: ToolChild;
  port: number;
  out: string;
  /** The call folders written under `out` so far. */
  calls(): string[];
}

/** Starts `faxline serve --listen udp:127.0.0.1:PORT --out DIR` and waits until it answers OPTIONS 200. */
export async function startServe(options: {
  port: number;
  out: string;
  args?: string[];
  name?: string;
}): Promise<ServeNode> {
  fs.mkdirSync(options.out, { recursive: true });
  const args = cliArgs(
    'serve',
    '--listen',
    `udp:127.0.0.1:${options.port}`,
    '--out',
    options.out,
    ...(options.args ?? []),
  );
  const proc = new ToolChild(options.name ?? `faxline serve :${options.port}`, process.execPath, args, { cwd: root });
  try {
    await Promise.race([
      waitForOptions('127.0.0.1', options.port, 200, START_BOUND_MS, proc.name),
      proc.exited.then((status) => {
        throw new Error(`exited ${String(status)}`);
      }),
    ]);
  } catch (error) {
    await proc.stop();
    throw new Error(`${proc.name} did not start: ${(error as Error).message}; its log:\n${proc.tail()}`);
  }
  return {
    process: proc,
    port: options.port,
    out: options.out,
    calls: () =>
      fs.existsSync(options.out)
        ? fs
            .readdirSync(options.out, { withFileTypes: true })
            .filter((e) => e.isDirectory())
            .map((e) => path.join(options.out, e.name))
        : [],
  };
}

/** Runs `faxline send` as a child; resolves once it exited. */
export function startSend(args: string[], name = 'faxline send'): ToolChild {
  return new ToolChild(name, process.execPath, cliArgs('send', ...args), { cwd: root });
}

/** Fills @NAME@ placeholders of a template under test/sip/ and writes it to `to`. */
export function fillTemplate(template: string, to: string, values: Record<string, string | number>): string {
  let text = fs.readFileSync(path.join(SIP_DIR, template), 'utf8');
  for (const [name, value] of Object.entries(values)) text = text.split(`@${name}@`).join(String(value));
  const left = /@[A-Z_]+@/.exec(text);
  if (left) throw new Error(`${template}: placeholder ${left[0]} not filled`);
  fs.writeFileSync(to, text);
  return to;
}

/** A running Kamailio. */
export interface Kamailio {
  process: ToolChild;
  port: number;
}

/**
 * Starts Kamailio on test/sip/kamailio-test.cfg in front of `nodes` (set 1 of its dispatcher
 * list) and waits until it answers OPTIONS.
 */
export async function startKamailio(options: { dir: string; port: number; nodes: number[] }): Promise<Kamailio> {
  const list = path.join(options.dir, 'dispatcher.list');
  fs.writeFileSync(list, options.nodes.map((p) => `1 sip:127.0.0.1:${p} 0 0\n`).join(''));
  const cfg = fillTemplate('kamailio-test.cfg', path.join(options.dir, 'kamailio.cfg'), {
    PORT: options.port,
    DISPATCHER_LIST: list,
  });
  const run = path.join(options.dir, 'run');
  fs.mkdirSync(run, { recursive: true });
  // -DD: stay in the foreground (workers are still forked); -E: log to stderr; small memory pools.
  const proc = new ToolChild(
    `kamailio :${options.port}`,
    'kamailio',
    ['-f', cfg, '-DD', '-E', '-Y', run, '-P', path.join(run, 'kamailio.pid'), '-m', '64', '-M', '8'],
    { cwd: options.dir },
  );
  try {
    await waitForOptions('127.0.0.1', options.port, 200, START_BOUND_MS, proc.name);
  } catch (error) {
    await proc.stop();
    throw new Error(`${(error as Error).message}; its log:\n${proc.tail()}`);
  }
  return { process: proc, port: options.port };
}

/** A running baresip. */
export interface Baresip {
  process: ToolChild;
  port: number;
  /** Hangs up its call (the menu's "b" key on its standard input). */
  hangUp(): void;
}

/**
 * Starts baresip with a config folder of its own (test/sip/baresip/*, ports filled): listening on
 * 127.0.0.1:PORT, answering every call, G.711 only, no audio device.
 */
export async function startBaresip(options: { dir: string; port: number; rtpPort: number }): Promise<Baresip> {
  const conf = path.join(options.dir, 'baresip');
  fs.mkdirSync(conf, { recursive: true });
  const values = { PORT: options.port, RTP_MIN: options.rtpPort, RTP_MAX: options.rtpPort + 10, DIR: conf };
  fillTemplate('baresip/config', path.join(conf, 'config'), values);
  fillTemplate('baresip/accounts', path.join(conf, 'accounts'), values);
  fs.writeFileSync(path.join(conf, 'contacts'), '');
  const proc = new ToolChild(`baresip :${options.port}`, 'baresip', ['-f', conf, '-v'], { cwd: options.dir });
  try {
    // baresip answers an OPTIONS to no user 404: any answer means it listens.
    await Promise.race([
      waitForOptions('127.0.0.1', options.port, null, START_BOUND_MS, proc.name),
      proc.exited.then((status) => {
        throw new Error(`exited ${String(status)}`);
      }),
    ]);
  } catch (error) {
    await proc.stop();
    throw new Error(`${(error as Error).message}; its log:\n${proc.tail()}`);
  }
  return { process: proc, port: options.port, hangUp: () => void proc.child.stdin?.write('b') };
}

/**
 * A free UDP port for SIPp's media (-mp): SIPp binds it for audio and the port two above it for
 * video, so both must be free.
 */
export async function freeMediaPort(): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const [port] = await freePorts('udp', 1);
    const socket = dgram.createSocket('udp4');
    const free = await new Promise<boolean>((resolve) => {
      socket.once('error', () => resolve(false));
      socket.bind(port! + 2, '127.0.0.1', () => resolve(true));
    });
    await new Promise<void>((resolve) => {
      try {
        socket.close(() => resolve());
      } catch {
        resolve();
      }
    });
    if (free && port! + 2 <= 65535) return port!;
  }
  throw new Error('no free UDP port pair for SIPp media within 20 attempts');
}

/** `count` free UDP ports on 127.0.0.1 (each bound to port 0 first). */
export function freeUdpPorts(count: number): Promise<number[]> {
  return freePorts('udp', count);
}
