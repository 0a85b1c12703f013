#!/usr/bin/env node
/** The `faxline` command. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { InvalidOptionError } from '../engine/errors';
import { runLoopback, type LoopbackCall } from '../engine/loopback';
import { COMPRESSIONS, MODEMS, type Compression, type Modem } from '../engine/options';
import { pageToPng } from '../engine/page';
import { lineAudioToWav } from '../engine/wav';
import { sendFaxVariables } from '../swml/variables';

/** Exit statuses: the fax succeeded, the fax failed, the command line was wrong. */
const EXIT_SUCCESS = 0;
const EXIT_FAX_FAILED = 1;
const EXIT_USAGE = 2;

function listOf<T extends string>(allowed: readonly T[], what: string) {
  return (value: string): T[] => {
    const items = value.split(',').map((s) => s.trim().toLowerCase()).filter(Boolean);
    for (const item of items) {
      if (!allowed.includes(item as T)) throw new InvalidArgumentError(`unknown ${what} '${item}' (allowed: ${allowed.join(', ')})`);
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

interface SendFlags {
  to: string;
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
}

async function writeReceived(dir: string, call: LoopbackCall): Promise<void> {
  await fs.promises.mkdir(dir, { recursive: true });
  if (call.receivedTiff) await fs.promises.writeFile(path.join(dir, 'received.tif'), call.receivedTiff);
  let n = 0;
  for (const page of call.receivedPages) {
    n++;
    await fs.promises.writeFile(path.join(dir, `page-${String(n).padStart(3, '0')}.png`), pageToPng(page));
  }
}

async function send(document: string, flags: SendFlags): Promise<number> {
  if (flags.to !== 'loopback') throw new InvalidArgumentError(`--to ${flags.to}: only 'loopback' is available so far`);
  const call = await runLoopback({
    document,
    identity: flags.identity,
    headerInfo: flags.headerInfo,
    ecm: flags.ecm,
    modems: flags.modems,
    compressions: flags.compressions,
    pages: { first: flags.firstPage, last: flags.lastPage },
    recordAudio: flags.wav !== undefined,
  });
  if (flags.received) await writeReceived(flags.received, call);
  if (flags.wav && call.audio) await fs.promises.writeFile(flags.wav, lineAudioToWav(call.audio));

  const variables = sendFaxVariables(document, flags.identity ?? '', call.sender);
  if (flags.json) {
    process.stdout.write(JSON.stringify({ variables, stats: call.sender.stats }) + '\n');
  } else {
    for (const [name, value] of Object.entries(variables)) process.stdout.write(`${name}=${value}\n`);
    const s = call.sender.stats;
    const summary = call.sender.success
      ? `Sent ${call.sender.pages} page(s) in ${(call.durationMs / 1000).toFixed(1)} s of line time at ${s.bitRate} bit/s, ${s.compression}${s.ecm ? ', ECM' : ''}.`
      : `Fax failed: ${call.sender.text}${call.sender.detail ? ` (${call.sender.detail})` : ''}; ${call.sender.pages} page(s) confirmed.`;
    process.stderr.write(summary + '\n');
    if (flags.received) process.stderr.write(`Received pages written to ${flags.received}\n`);
  }
  return call.sender.success ? EXIT_SUCCESS : EXIT_FAX_FAILED;
}

/** Builds the command; exported for tests. */
export function buildProgram(setExit: (code: number) => void): Command {
  const program = new Command();
  program
    .name('faxline')
    .description('Send faxes with SpanDSP from Node.js')
    .exitOverride()
    .showHelpAfterError();
  program
    .command('send')
    .description('send a TIFF-F document as a fax and print the send_fax variables')
    .argument('<document>', 'TIFF-F file to send')
    .addOption(new Option('--to <destination>', 'where to send it').choices(['loopback']).default('loopback'))
    .option('--identity <id>', 'our station identity (TSI), up to 20 of 0-9 + space')
    .option('--header-info <text>', 'text for the header line of every page (up to 50 characters)')
    .option('--no-ecm', 'disable error correcting mode')
    .option('--modems <list>', `image modems to allow (${MODEMS.join(',')})`, listOf(MODEMS, 'modem'))
    .option('--compressions <list>', `image codings to allow (${COMPRESSIONS.join(',')})`, listOf(COMPRESSIONS, 'compression'))
    .option('--first-page <n>', 'first page to send', pageNumber)
    .option('--last-page <n>', 'last page to send', pageNumber)
    .option('--received <dir>', 'write what the receiver got: received.tif and page-NNN.png')
    .option('--wav <file>', 'write the line audio as a stereo WAV (left: sender, right: receiver)')
    .option('--json', 'print one JSON object {variables, stats} and nothing else')
    .action(async (document: string, flags: SendFlags) => setExit(await send(document, flags)));
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
    if (error instanceof CommanderError) {
      // --help and --version exit 0; everything else commander rejects is a usage error.
      return error.exitCode === 0 ? EXIT_SUCCESS : EXIT_USAGE;
    }
    if (error instanceof InvalidArgumentError || error instanceof InvalidOptionError) {
      process.stderr.write(`faxline: ${error.message}\n`);
      return EXIT_USAGE;
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
