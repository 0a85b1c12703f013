#!/usr/bin/env node
/** The `faxline` command. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { InvalidOptionError } from '../base/errors';
import { COMPRESSIONS, MODEMS, type Compression, type Modem } from '../engine/options';
import { formatTrace } from '../engine/trace';
import { lineAudioToWav } from '../engine/wav';
import { RESOLUTIONS, type DocumentResolution } from '../document/geometry';
import { prepareSendFax, sendFax, type LogKind, type SendFaxOptions } from '../swml/send-fax';
import { LineMedia } from '../realtime/line-media';
import { LoopbackMedia, type FaxMedia } from '../transports/media';
import { addLineFlags, loopbackLineOptions, openLine, parseMediaTarget, type LineFlags } from './lines';
import { addReceiveCommand } from './receive';
import { addServeCommand, addSipSendFlags, isSipTarget, sendFaxOverSip, type SipSendFlags } from './sip';
import {
  cliContext,
  documentArgument,
  EXIT_FAX_FAILED,
  EXIT_SUCCESS,
  EXIT_USAGE,
  formatLineStats,
  seconds,
  statsWithLine,
} from './common';
import { SendProgress } from './progress';
import { writeReceived } from './received';

/** A medium for a fax whose document failed: it is never used, only ended. */
function deadLine(): FaxMedia {
  const unused = (): never => {
    throw new Error('a failed document never reaches the line');
  };
  return { kind: 'none', send: unused, receive: unused, end: () => undefined };
}

function listOf<T extends string>(allowed: readonly T[], what: string) {
  return (value: string): T[] => {
    const items = value
      .split(',')
      .map((s) => s.trim().toLowerCase())
      .filter(Boolean);
    for (const item of items) {
      if (!allowed.includes(item as T))
        throw new InvalidArgumentError(`unknown ${what} '${item}' (allowed: ${allowed.join(', ')})`);
    }
    if (items.length === 0) throw new InvalidArgumentError(`name at least one ${what}`);
    return items as T[];
  };
}

function pageNumber(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('a page number is a whole number from 1');
  return n;
}

interface SendFlags extends LineFlags, Omit<SipSendFlags, 't38' | 'local'> {
  to: string;
  timeout: number;
  identity?: string;
  headerInfo?: string;
  ecm: boolean;
  modems?: Modem[];
  compressions?: Compression[];
  firstPage?: number;
  lastPage?: number;
  received?: string;
  wav?: string;
  json?: boolean;
  statusUrl?: string;
  allowPrivate?: boolean;
  resolution?: DocumentResolution;
  trace?: boolean;
  paced?: boolean;
  callbackSecret?: string;
  callbackCa?: string;
}

async function send(document: string, flags: SendFlags): Promise<number> {
  const target = isSipTarget(flags.to) ? null : parseMediaTarget(flags.to, 'sip:USER@HOST[:PORT]');
  const progress = new SendProgress(!flags.json && process.stdout.isTTY === true);
  const secret = flags.callbackSecret ?? process.env.FAXLINE_CALLBACK_SECRET;
  const url = documentArgument(document);
  const log = (message: string, kind: LogKind): void => {
    // The summary at the end already says why a document failed.
    if (kind === 'document' && !flags.json) return;
    progress.stop();
    process.stderr.write(`faxline: ${message}\n`);
  };
  const options: SendFaxOptions = {
    allowPrivate: flags.allowPrivate,
    // The operator named the document on their own machine: a local path is theirs to send.
    allowFiles: true,
    resolution: flags.resolution,
    fax: {
      ecm: flags.ecm,
      modems: flags.modems,
      compressions: flags.compressions,
      pages: { first: flags.firstPage, last: flags.lastPage },
    },
    callbacks: {
      secret: secret || undefined,
      ca: flags.callbackCa ? fs.readFileSync(flags.callbackCa) : undefined,
    },
    onEvent: (event) => progress.update(event),
    log,
  };
  const params = {
    document: url,
    identity: flags.identity,
    header_info: flags.headerInfo,
    status_url: flags.statusUrl,
  };
  let loopback: LoopbackMedia | null = null;
  let outcome;
  try {
    if (target === null) {
      outcome = await sendFaxOverSip(params, options, flags);
    } else if (target.kind === 'loopback') {
      loopback = new LoopbackMedia({
        recordAudio: flags.wav !== undefined,
        paced: flags.paced,
        ...loopbackLineOptions(flags),
      });
      outcome = await sendFax(params, { ...cliContext(), media: loopback }, options);
    } else {
      // The document is ready before the line opens, so the far end never waits for it.
      const job = await prepareSendFax(params, cliContext(), options);
      const opened = job.failure ? null : await openLine(target, 'call', flags, flags.timeout * 1000);
      try {
        outcome = await job.send(
          opened
            ? new LineMedia(opened.line, { readyTimeoutMs: flags.timeout * 1000, closeLine: false, t38: opened.t38 })
            : deadLine(),
        );
      } finally {
        await opened?.close();
      }
    }
  } finally {
    progress.stop();
  }

  const { result, variables } = outcome;
  let written: string[] = [];
  if (flags.received) {
    written = await writeReceived(
      flags.received,
      loopback?.call ?? null,
      outcome.trace,
      `faxline send ${path.basename(document)}`,
    );
  }
  if (flags.wav && loopback?.call?.audio) await fs.promises.writeFile(flags.wav, lineAudioToWav(loopback.call.audio));

  if (flags.json) {
    process.stdout.write(JSON.stringify({ variables, stats: statsWithLine(result.stats, outcome.line) }) + '\n');
    if (flags.trace) process.stderr.write(formatTrace(outcome.trace));
  } else {
    if (flags.trace) process.stdout.write(formatTrace(outcome.trace));
    for (const [name, value] of Object.entries(variables)) process.stdout.write(`${name}=${value}\n`);
    const s = result.stats;
    const summary = result.success
      ? `Sent ${result.pages} page(s) in ${(outcome.durationMs / 1000).toFixed(1)} s of line time at ${s.bitRate} bit/s, ${s.compression}${s.ecm ? ', ECM' : ''}.`
      : `Fax failed: ${result.text}${result.detail ? ` (${result.detail})` : ''}; ${result.pages} page(s) confirmed.`;
    process.stderr.write(summary + '\n');
    const report = outcome.callbacks;
    if (report) {
      process.stderr.write(
        `Status events: ${report.delivered} of ${report.events} delivered to ${flags.statusUrl}` +
          (report.failed + report.dropped > 0 ? ` (${report.failed} failed, ${report.dropped} skipped)` : '') +
          '.\n',
      );
    }
    if (flags.received) process.stderr.write(`Written to ${flags.received}: ${written.join(', ')}\n`);
    if (outcome.line) process.stderr.write(formatLineStats(outcome.line));
  }
  return result.success ? EXIT_SUCCESS : EXIT_FAX_FAILED;
}

/** Builds the command; exported for tests. */
export function buildProgram(setExit: (code: number) => void): Command {
  const program = new Command();
  program.name('faxline').description('Send faxes with SpanDSP from Node.js').exitOverride().showHelpAfterError();
  const sendCommand = program
    .command('send')
    .description('send a PDF (path or URL) or a TIFF-F file as a fax and print the send_fax variables')
    .argument('<document>', 'PDF or TIFF-F file, or a URL (https:, http:, file:, data:)')
    .option(
      '--to <destination>',
      'loopback (a built-in receiver), rtp://HOST:PORT, audiosocket://HOST:PORT, t38://HOST:PORT (UDPTL) or sip:USER@HOST[:PORT]',
      'loopback',
    )
    .option('--timeout <s>', 'seconds to wait for the far end to connect or answer the first packet', seconds, 60)
    .option('--identity <id>', 'our station identity (TSI), up to 20 of 0-9 + space')
    .option('--header-info <text>', 'text for the header line of every page (up to 50 characters)')
    .option('--status-url <url>', 'POST the calling.call.fax status events to this http(s) URL')
    .option('--allow-private', 'allow loopback and private addresses for the document and the status URL')
    .addOption(new Option('--resolution <name>', 'resolution a PDF is rendered at').choices(RESOLUTIONS))
    .option('--callback-secret <secret>', 'sign status events (X-Faxline-Signature); or set FAXLINE_CALLBACK_SECRET')
    .option('--callback-ca <file>', 'extra CA certificate (PEM) to trust for an https status URL')
    .option('--no-ecm', 'disable error correcting mode')
    .option('--modems <list>', `image modems to allow (${MODEMS.join(',')})`, listOf(MODEMS, 'modem'))
    .option(
      '--compressions <list>',
      `image codings to allow (${COMPRESSIONS.join(',')})`,
      listOf(COMPRESSIONS, 'compression'),
    )
    .option('--first-page <n>', 'first page to send', pageNumber)
    .option('--last-page <n>', 'last page to send', pageNumber)
    .option('--paced', 'run the loopback call at real time (20 ms per frame) instead of as fast as possible')
    .option('--received <dir>', 'write what the receiver got: received.tif, page-NNN.png, received.pdf, ladder.svg')
    .option('--wav <file>', 'write the line audio as a stereo WAV (left: sender, right: receiver)')
    .option('--trace', 'print every T.30 frame sent and received with its time')
    .option('--json', 'print one JSON object {variables, stats} and nothing else on stdout');
  addSipSendFlags(addLineFlags(sendCommand)).action(async (document: string, flags: SendFlags) => {
    if (flags.callbackCa && !fs.existsSync(flags.callbackCa)) {
      throw new InvalidOptionError(`--callback-ca ${flags.callbackCa}: no such file`);
    }
    if (flags.paced && flags.wav) throw new InvalidOptionError('--wav records unpaced calls only; drop --paced');
    if (flags.received && flags.to !== 'loopback') throw new InvalidOptionError('--received needs --to loopback');
    setExit(await send(document, flags));
  });
  addReceiveCommand(program, setExit);
  addServeCommand(program, setExit);
  return program;
}

/** Runs the CLI with argv; resolves to the exit status. */
export async function main(argv: string[]): Promise<number> {
  let status = EXIT_SUCCESS;
  const program = buildProgram((code) => (status = code));
  try {
    await program.parseAsync(argv, { from: 'user' });
    return status;
  } catch (error) {
    // First: commander's InvalidArgumentError is a CommanderError too, but one thrown by our own
    // actions (a bad --to/--listen) was never printed by commander.
    if (error instanceof InvalidArgumentError || error instanceof InvalidOptionError) {
      process.stderr.write(`faxline: ${error.message}\n`);
      return EXIT_USAGE;
    }
    if (error instanceof CommanderError) {
      // --help and --version exit 0; everything else commander rejects is a usage error.
      return error.exitCode === 0 ? EXIT_SUCCESS : EXIT_USAGE;
    }
    throw error;
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => (process.exitCode = code),
    (error: unknown) => {
      process.stderr.write(`faxline: ${error instanceof Error ? error.stack : String(error)}\n`);
      process.exitCode = EXIT_FAX_FAILED;
    },
  );
}
