/**
 * The CLI's SIP: `faxline send DOC --to sip:USER@HOST[:PORT]` (one call through a SipEndpoint of
 * its own) and `faxline serve` (a fax server that answers every call with receive_fax and writes
 * each fax into a folder of its own, the files `faxline receive` writes).
 */
import * as dgram from 'node:dgram';
import { lookup } from 'node:dns/promises';
import * as fs from 'node:fs';
import { isIPv4 } from 'node:net';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { InvalidOptionError } from '../base/errors';
import { parseUri } from '../sip/message';
import {
  SipEndpoint,
  parseListen,
  type SipSendFaxOutcome,
  type SipListenAddress,
  type T38Policy,
} from '../sip/endpoint';
import type { SendFaxOptions } from '../swml/send-fax';
import type { SendFaxParams } from '../swml/params';
import { readReceived } from '../transports/loopback';
import type { RtpEndpoint } from '../transports/rtp/rtp-line';
import { EXIT_SUCCESS } from './common';
import { receivedPdfPath, writeLadder, writeReceivedPages } from './received';

/** The T.38 policies, as the flags take them. */
export const T38_POLICIES: readonly T38Policy[] = ['prefer', 'off', 'only'];

/** Whether a `--to` names a SIP destination. */
export function isSipTarget(to: string): boolean {
  return /^sips?:/i.test(to);
}

/** The flags `send --to sip:` reads (beside the send command's own). */
export interface SipSendFlags {
  to: string;
  /** Seconds the call may ring (send's --timeout). */
  timeout: number;
  auth?: string;
  proxy?: string;
  /** A policy (`--t38 off`), or true for a bare `--t38` (T.38 only, as the loopback's --t38 runs T.38). */
  t38?: boolean | string;
  publicIp?: string;
  /** The SIP listen address (send's --local). */
  local?: RtpEndpoint;
  json?: boolean;
}

function ipv4(value: string): string {
  if (!isIPv4(value)) throw new InvalidArgumentError(`expected an IPv4 address, got '${value}'`);
  return value;
}

function positiveInteger(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected a whole number from 1');
  return n;
}

/** Adds `send`'s SIP flags: --auth, --proxy, --public-ip. */
export function addSipSendFlags(command: Command): Command {
  return command
    .option('--auth <user:pass>', 'SIP: digest credentials for 401/407 challenges')
    .option('--proxy <uri>', 'SIP: send the INVITE through this proxy (e.g. sip:10.0.0.1:5060)')
    .option('--public-ip <ip>', 'SIP: our address as the far end sees it (NAT): Contact, Via and SDP', ipv4);
}

/** `USER:PASS` as credentials. */
function credentials(auth: string | undefined): { username: string; password: string } | undefined {
  if (auth === undefined) return undefined;
  const colon = auth.indexOf(':');
  if (colon <= 0) throw new InvalidOptionError('--auth expects USER:PASS');
  return { username: auth.slice(0, colon), password: auth.slice(colon + 1) };
}

/** The T.38 policy of `send --t38`. */
function sendPolicy(t38: boolean | string | undefined): T38Policy {
  if (t38 === undefined || t38 === false) return 'prefer';
  if (t38 === true) return 'only';
  if (!(T38_POLICIES as readonly string[]).includes(t38))
    throw new InvalidOptionError(`--t38 expects one of ${T38_POLICIES.join(', ')}; got '${t38}'`);
  return t38 as T38Policy;
}

/**
 * The local address that reaches `host:port` (the kernel's route, learnt by connecting a UDP
 * socket: nothing is sent), so our Via, Contact and SDP name an address the far end can reach.
 */
async function localAddressFor(host: string, port: number): Promise<string> {
  const address = isIPv4(host) ? host : (await lookup(host, { family: 4 })).address;
  const socket = dgram.createSocket('udp4');
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.connect(port, address, () => resolve());
    });
    return socket.address().address;
  } finally {
    socket.close();
  }
}

/**
 * `faxline send DOC --to sip:…`: one call from an endpoint of its own, the same send_fax
 * outcome as the other transports (main prints it), and on stderr a line about the SIP call.
 */
export async function sendFaxOverSip(
  params: SendFaxParams,
  options: SendFaxOptions,
  flags: SipSendFlags,
): Promise<SipSendFaxOutcome> {
  const to = parseUri(flags.to);
  if (to.scheme === 'tel') throw new InvalidOptionError(`--to expects a sip: URI; got '${flags.to}'`);
  const proxy = flags.proxy === undefined ? undefined : parseUri(flags.proxy);
  const via = proxy ?? to;
  const listen: SipListenAddress = flags.local
    ? { transport: 'udp', ...flags.local }
    : { transport: 'udp', host: await localAddressFor(via.host, via.port ?? 5060), port: 0 };
  const endpoint = new SipEndpoint({
    listen,
    publicAddress: flags.publicIp,
    credentials: credentials(flags.auth),
    outboundProxy: proxy === undefined ? undefined : flags.proxy!.includes(';lr') ? flags.proxy : `${flags.proxy};lr`,
    t38: sendPolicy(flags.t38),
    ringTimeoutMs: flags.timeout * 1000,
  });
  await endpoint.start();
  try {
    const outcome = await endpoint.sendFax({
      ...options,
      to: flags.to,
      document: params.document,
      identity: params.identity,
      headerInfo: params.header_info,
      statusUrl: params.status_url,
    });
    if (!flags.json) {
      const s = outcome.sip;
      process.stderr.write(
        `SIP: ${s.callId ? `Call-ID ${s.callId}, ` : ''}status ${s.status || 'none'}; ` +
          `fax over ${outcome.transport === 't38' ? 'T.38' : 'G.711'}${outcome.fellBack ? ' (T.38 refused: fell back)' : ''}.\n`,
      );
    }
    return outcome;
  } finally {
    await endpoint.close();
  }
}

interface ServeFlags {
  listen: string;
  out: string;
  t38: T38Policy;
  publicIp?: string;
  statusUrl?: string;
  maxCalls?: number;
  answerAfter?: number;
  identity?: string;
  allowPrivate?: boolean;
  callbackSecret?: string;
  ports?: { min: number; max: number };
  ecm: boolean;
}

/** `MIN-MAX` as a port range. */
function portRange(value: string): { min: number; max: number } {
  const m = /^(\d{1,5})-(\d{1,5})$/.exec(value);
  const min = Number(m?.[1]);
  const max = Number(m?.[2]);
  if (!m || min < 1024 || max > 65535 || max <= min)
    throw new InvalidArgumentError(`expected MIN-MAX with 1024 <= MIN < MAX <= 65535; got '${value}'`);
  return { min, max };
}

/** A folder name for a call: its Call-ID's safe characters (bounded), made unique under `dir`. */
function callFolder(dir: string, callId: string): string {
  const base = callId.replace(/[^A-Za-z0-9._@-]/g, '_').slice(0, 64) || 'call';
  let name = base;
  for (let n = 2; fs.existsSync(path.join(dir, name)); n++) name = `${base}-${n}`;
  return path.join(dir, name);
}

/** `faxline serve`: answers calls until SIGINT/SIGTERM, then drains and exits 0. */
async function serve(flags: ServeFlags): Promise<number> {
  const listen = parseListen(flags.listen);
  await fs.promises.mkdir(flags.out, { recursive: true });
  const secret = flags.callbackSecret ?? process.env.FAXLINE_CALLBACK_SECRET;
  const endpoint = new SipEndpoint({
    listen,
    publicAddress: flags.publicIp,
    t38: flags.t38,
    maxCalls: flags.maxCalls,
    ...(flags.answerAfter !== undefined && { answerDelayMs: flags.answerAfter }),
    ports: flags.ports,
    log: (message) => process.stderr.write(`faxline: ${message}\n`),
  });
  await endpoint.start();
  const bound = endpoint.address;
  process.stderr.write(`Listening on ${bound.transport}:${bound.host}:${bound.port}; faxes go to ${flags.out}\n`);

  endpoint.on('call', (call) => {
    const folder = callFolder(flags.out, call.callId);
    void (async () => {
      try {
        const outcome = await call.receiveFax({
          identity: flags.identity,
          statusUrl: flags.statusUrl,
          allowPrivate: flags.allowPrivate,
          fax: { ecm: flags.ecm },
          callbacks: { secret: secret || undefined },
          store: async (fax) => {
            await writeReceivedPages(folder, await readReceived(fax.tiffFile, fax.pages));
            return pathToFileURL(receivedPdfPath(folder)).href;
          },
          log: (message) => process.stderr.write(`faxline: ${message}\n`),
        });
        await writeLadder(folder, outcome.trace, `faxline serve: call ${call.callId}`);
        const r = outcome.result;
        process.stdout.write(
          `call ${call.callId} from ${call.from} to ${call.number || '-'}: ${outcome.variables.receive_fax_result} ` +
            `code=${r.code} pages=${r.pages} transport=${outcome.transport}${outcome.fellBack ? ' fellBack' : ''} ` +
            `sip=${outcome.sip.status} folder=${folder}${r.detail ? ` detail=${JSON.stringify(r.detail)}` : ''}\n`,
        );
      } catch (error) {
        process.stderr.write(
          `faxline: call ${call.callId}: ${error instanceof Error ? error.message : String(error)}\n`,
        );
      }
    })();
  });

  await new Promise<void>((resolve) => {
    let stopping = false;
    const stop = (signal: string): void => {
      if (stopping) {
        // A second signal: stop waiting for the calls in flight.
        process.stderr.write(`${signal} again: hanging up the calls in flight\n`);
        resolve();
        return;
      }
      stopping = true;
      process.stderr.write(`${signal}: draining (${endpoint.stats().active} call(s) in flight)\n`);
      void endpoint.drain().then(() => resolve());
    };
    process.on('SIGINT', () => stop('SIGINT'));
    process.on('SIGTERM', () => stop('SIGTERM'));
  });
  const stats = endpoint.stats();
  await endpoint.close();
  process.stderr.write(
    `Stopped: ${stats.callsIn} call(s) in, ${stats.faxesOk} fax(es) received, ${stats.faxesFailed} failed.\n`,
  );
  return EXIT_SUCCESS;
}

/** Adds `faxline serve` to the program. */
export function addServeCommand(program: Command, setExit: (code: number) => void): void {
  program
    .command('serve')
    .description(
      'answer every SIP call with receive_fax; each fax goes to DIR/<Call-ID>/ (received.tif, page-NNN.png, received.pdf, ladder.svg)',
    )
    .requiredOption('--listen <where>', 'udp:HOST:PORT or tcp:HOST:PORT to take SIP on')
    .requiredOption('--out <dir>', 'folder under which each fax gets a folder of its own')
    .addOption(
      new Option('--t38 <policy>', 'T.38: prefer (switch when offered or asked), off, only')
        .choices(T38_POLICIES)
        .default('prefer'),
    )
    .option('--public-ip <ip>', 'our address as callers see it (NAT): Contact, Via and SDP', ipv4)
    .option('--ports <min-max>', 'local UDP ports for RTP and UDPTL (default 16384-32767)', portRange)
    .option('--answer-after <ms>', 'ring each call this long (180 Ringing) before answering (default 0)', (v) =>
      positiveInteger(v),
    )
    .option('--max-calls <n>', 'calls at once at most; more are answered 503 (default 1000)', positiveInteger)
    .option('--identity <id>', 'our station identity (CSI), up to 20 of 0-9 + space (default: the dialled number)')
    .option('--no-ecm', 'disable error correcting mode')
    .option('--status-url <url>', 'POST the calling.call.fax status events of each fax to this http(s) URL')
    .option('--callback-secret <secret>', 'sign status events (X-Faxline-Signature); or set FAXLINE_CALLBACK_SECRET')
    .option('--allow-private', 'allow loopback and private addresses for the status URL')
    .action(async (flags: ServeFlags) => setExit(await serve(flags)));
}
