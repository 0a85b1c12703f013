/**
 * The CLI's media: `--to`/`--listen` URLs (loopback, rtp://HOST:PORT, audiosocket://HOST:PORT,
 * t38://HOST:PORT) and the flags every transport shares (`--local`, `--codec`, `--symmetric`,
 * `--redundancy`, `--fec`, `--line`), turned into an AudioLine or a DatagramLine.
 */
import { isIPv4 } from 'node:net';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { InvalidOptionError } from '../base/errors';
import { native } from '../native';
import { AudioSocketServer, connectAudioSocket } from '../transports/audiosocket';
import { G711_LAWS, type G711Law } from '../transports/g711';
import { LineImpairment, parseLineSpec, type LineSpec } from '../transports/impairments';
import type { AudioLine, DatagramLine } from '../transports/line';
import { RtpLine, type RtpEndpoint } from '../transports/rtp/rtp-line';
import { UdptlLine } from '../transports/t38/udptl-line';
import type { T38Options } from '../engine/options';

/** Where a fax goes or comes from. */
export type MediaTarget = { kind: 'loopback' } | { kind: 'rtp' | 'audiosocket' | 't38'; host: string; port: number };

/** The dynamic payload type faxline uses for RFC 2198 redundancy when both ends are told `--redundancy N`. */
export const CLI_RED_PAYLOAD_TYPE = 96;

/** Flags shared by `send` and `receive` for their media. */
export interface LineFlags {
  local?: RtpEndpoint;
  codec: G711Law;
  symmetric?: boolean;
  /** Unset: each transport's default (RTP none, T.38 three). */
  redundancy?: number;
  fec?: boolean;
  /** Loopback: run the call over T.38 instead of audio (bare flag). sip: the T.38 policy (prefer, off, only). */
  t38?: boolean | string;
  line?: LineSpec;
}

/** UDPTL redundancy when --redundancy is not given: T.38 peers expect it (some mis-recover FEC). */
const T38_DEFAULT_REDUNDANCY = 3;

/** HOST:PORT with an IPv4 literal (or localhost) and a port; port 0 allowed only where `anyPort`. */
export function parseHostPort(text: string, anyPort = true): RtpEndpoint {
  const match = /^(.+):(\d{1,5})$/.exec(text);
  if (!match) throw new InvalidArgumentError(`expected HOST:PORT, got '${text}'`);
  const host = match[1] === 'localhost' ? '127.0.0.1' : match[1]!;
  const port = Number(match[2]);
  if (!isIPv4(host)) throw new InvalidArgumentError(`expected an IPv4 address in '${text}'`);
  if (port > 65535 || (!anyPort && port === 0)) throw new InvalidArgumentError(`no such port in '${text}'`);
  return { host, port };
}

/**
 * `loopback`, `rtp://HOST:PORT`, `audiosocket://HOST:PORT` or `t38://HOST:PORT`; `alsoAccepted`
 * names what the caller takes besides (send's `sip:USER@HOST[:PORT]`) in the error.
 */
export function parseMediaTarget(text: string, alsoAccepted?: string): MediaTarget {
  if (text === 'loopback') return { kind: 'loopback' };
  const match = /^(rtp|audiosocket|t38):\/\/(.+)$/.exec(text);
  if (!match)
    throw new InvalidArgumentError(
      `expected loopback, rtp://HOST:PORT, audiosocket://HOST:PORT${alsoAccepted ? ', t38://HOST:PORT or ' + alsoAccepted : ' or t38://HOST:PORT'}; got '${text}'`,
    );
  return { kind: match[1] as 'rtp' | 'audiosocket' | 't38', ...parseHostPort(match[2]!, false) };
}

function redundancyDepth(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 8)
    throw new InvalidArgumentError('a redundancy depth is a whole number from 0 to 8');
  return n;
}

/** The T.38 settings the flags ask for: UDPTL redundancy (default 3), or FEC with --fec. */
export function t38Settings(flags: LineFlags): T38Options {
  if (flags.fec) {
    if (flags.redundancy !== undefined) throw new InvalidOptionError('--fec and --redundancy exclude each other');
    return { errorCorrection: 'fec' };
  }
  const redundancy = flags.redundancy ?? T38_DEFAULT_REDUNDANCY;
  if (redundancy > native.constants.UDPTL_MAX_REDUNDANCY)
    throw new InvalidOptionError(`UDPTL redundancy is at most ${native.constants.UDPTL_MAX_REDUNDANCY}`);
  return redundancy === 0 ? { errorCorrection: 'none' } : { errorCorrection: 'redundancy', redundancy };
}

function lineSpec(value: string): LineSpec {
  try {
    return parseLineSpec(value);
  } catch (error) {
    throw new InvalidArgumentError(error instanceof Error ? error.message : String(error));
  }
}

/** Adds the shared media flags to a command. */
export function addLineFlags(command: Command): Command {
  return command
    .option('--local <host:port>', 'RTP: the local address to bind (default any address, any port)', (v) =>
      parseHostPort(v),
    )
    .addOption(new Option('--codec <law>', 'RTP: G.711 law on the wire').choices(G711_LAWS).default('pcmu'))
    .option('--symmetric', "RTP: send to where the peer's packets come from (NAT)")
    .option(
      '--redundancy <n>',
      `RTP: RFC 2198 redundant audio with n earlier frames (payload type ${CLI_RED_PAYLOAD_TYPE}; default 0; both ends must be told). T.38: UDPTL redundancy, n earlier IFPs in each datagram (default 3)`,
      redundancyDepth,
    )
    .option('--fec', 'T.38: send UDPTL forward error correction instead of redundancy')
    .option(
      '--t38 [policy]',
      'loopback: run the call over T.38 (UDPTL) instead of audio; sip: the T.38 policy, prefer (default), off or only',
    )
    .option(
      '--line <spec>',
      "simulate a bad line on what we send (loopback: both ways), e.g. 'loss=1%,jitter=40ms,seed=7'; keys: loss, burst=P%/R%, jitter, dup, noise=LdBm0, gain=GdB, seed",
      lineSpec,
    );
}

/**
 * The loopback's options from the media flags: the codec and redundancy apply to its simulated
 * line (so only with --line or --paced); --symmetric and --local have no meaning there.
 */
export function loopbackLineOptions(flags: LineFlags & { paced?: boolean }): {
  line?: LineSpec;
  codec?: G711Law;
  redundancy?: number;
  t38?: T38Options;
} {
  if (flags.symmetric || flags.local)
    throw new InvalidOptionError('--symmetric and --local apply to RTP and T.38 only');
  if (typeof flags.t38 === 'string')
    throw new InvalidOptionError(
      `--t38 ${flags.t38}: a T.38 policy applies to sip: calls; the loopback takes a bare --t38`,
    );
  if (flags.t38) {
    if (flags.codec !== 'pcmu') throw new InvalidOptionError('--codec is for audio; --t38 carries no audio');
    return { line: flags.line, t38: t38Settings(flags) };
  }
  if (flags.fec) throw new InvalidOptionError('--fec is for T.38 (t38://, or the loopback with --t38)');
  const simulated = flags.line !== undefined || flags.paced === true;
  if (!simulated && ((flags.redundancy ?? 0) > 0 || flags.codec !== 'pcmu')) {
    throw new InvalidOptionError('on the loopback, --codec and --redundancy need --line (or --paced)');
  }
  return simulated ? { line: flags.line, codec: flags.codec, redundancy: flags.redundancy ?? 0 } : {};
}

/** What an opened line needs to be released: the line, and a server behind it. */
export interface OpenedLine {
  line: AudioLine | DatagramLine;
  /** The T.38 settings, for a T.38 line. */
  t38?: T38Options;
  close(): Promise<void>;
}

/**
 * Opens the line to `target` for one call: as the calling side (`send`: RTP to the far end, or
 * an AudioSocket client) or the answering side (`listen`: RTP bound and waiting for the first
 * packet, or an AudioSocket server waiting for one call, at most `timeoutMs`).
 */
export async function openLine(
  target: Exclude<MediaTarget, { kind: 'loopback' }>,
  role: 'call' | 'listen',
  flags: LineFlags,
  timeoutMs: number,
): Promise<OpenedLine> {
  if (flags.t38) throw new InvalidOptionError('--t38 is for the loopback; a T.38 line is t38://HOST:PORT');
  if (target.kind !== 't38' && flags.fec) throw new InvalidOptionError('--fec is for T.38 (t38://HOST:PORT)');
  const impairment = flags.line ? new LineImpairment(flags.line, role === 'call' ? 0 : 1) : undefined;
  const release = async (line: { close(): Promise<void> }): Promise<void> => {
    await line.close(); // sends what the impairment still holds first
    impairment?.close();
  };
  if (target.kind === 't38') {
    if (flags.codec !== 'pcmu') throw new InvalidOptionError('--codec is for audio; T.38 carries no audio');
    const t38 = t38Settings(flags);
    const line = new UdptlLine({
      local: role === 'listen' ? { host: target.host, port: target.port } : flags.local,
      remote: role === 'call' ? { host: target.host, port: target.port } : undefined,
      symmetric: flags.symmetric,
      impairment,
    });
    return { line, t38, close: () => release(line) };
  }
  if (target.kind === 'rtp') {
    const line = new RtpLine({
      local: role === 'listen' ? { host: target.host, port: target.port } : flags.local,
      remote: role === 'call' ? { host: target.host, port: target.port } : undefined,
      codec: flags.codec,
      symmetric: flags.symmetric,
      redundancy: flags.redundancy ? { payloadType: CLI_RED_PAYLOAD_TYPE, depth: flags.redundancy } : undefined,
      impairment,
    });
    return { line, close: () => release(line) };
  }
  if (flags.redundancy !== undefined || flags.symmetric || flags.local) {
    throw new InvalidOptionError('--redundancy, --symmetric and --local apply to RTP and T.38 only');
  }
  if (impairment)
    throw new InvalidOptionError('--line applies to RTP and loopback (AudioSocket runs over TCP, which does not lose)');
  if (role === 'call') {
    const line = await connectAudioSocket({
      host: target.host,
      port: target.port,
      timeoutMs: Math.min(timeoutMs, 10_000),
    });
    return { line, close: () => line.close() };
  }
  const server = new AudioSocketServer();
  await server.listen({ host: target.host, port: target.port });
  process.stderr.write(`Waiting for an AudioSocket call on ${target.host}:${target.port}\n`);
  try {
    const line = await new Promise<AudioLine>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new InvalidOptionError(`no AudioSocket call came within ${timeoutMs / 1000} s`)),
        timeoutMs,
      );
      server.once('call', (call: AudioLine) => {
        clearTimeout(timer);
        resolve(call);
      });
    });
    return {
      line,
      close: async () => {
        await line.close();
        await server.close();
      },
    };
  } catch (error) {
    await server.close();
    throw error;
  }
}
