/** `faxline receive`: answer one fax (RTP, AudioSocket or the built-in loopback sender) and write it to a folder. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Command, Option } from 'commander';
import { readReceived } from '../transports/loopback';
import { InvalidOptionError } from '../base/errors';
import { receiveFax, type ReceiveFaxOptions } from '../swml/receive-fax';
import { defaultPrepareDocument } from '../swml/send-fax';
import { LineMedia } from '../realtime/line-media';
import { LoopbackMedia, type FaxMedia } from '../transports/media';
import {
  addLineFlags,
  loopbackLineOptions,
  openLine,
  parseMediaTarget,
  type LineFlags,
  type OpenedLine,
} from './lines';
import {
  cliContext,
  documentArgument,
  EXIT_FAX_FAILED,
  EXIT_SUCCESS,
  formatLineStats,
  seconds,
  statsWithLine,
} from './common';
import { receivedPdfPath, writeLadder, writeReceivedPages } from './received';

interface ReceiveFlags extends LineFlags {
  listen: string;
  out: string;
  json?: boolean;
  identity?: string;
  ecm: boolean;
  statusUrl?: string;
  allowPrivate?: boolean;
  timeout: number;
  document?: string;
  callbackSecret?: string;
}

/** The document the loopback's built-in sender sends when none is named: the package's sample letter. */
const SAMPLE_DOCUMENT = path.resolve(__dirname, '..', '..', 'examples', 'sample.pdf');

async function receive(flags: ReceiveFlags): Promise<number> {
  const target = parseMediaTarget(flags.listen);
  const timeoutMs = flags.timeout * 1000;
  let media: FaxMedia;
  let opened: OpenedLine | null = null;
  let cleanup = async (): Promise<void> => undefined;
  if (target.kind === 'loopback') {
    const lineOptions = loopbackLineOptions(flags);
    // A PDF is rendered, a TIFF-F is sent as it is: what `faxline send` accepts.
    const document = await defaultPrepareDocument(documentArgument(flags.document ?? SAMPLE_DOCUMENT), {
      allowFiles: true,
      allowPrivate: flags.allowPrivate,
    }).catch((error: unknown) => {
      throw new InvalidOptionError(`--document: ${error instanceof Error ? error.message : String(error)}`);
    });
    // A TIFF-F that fails the send checks (missing, unreadable, no page) is the operator's mistake.
    if (document.pagesChecked === false) {
      await document.cleanup();
      throw new InvalidOptionError(`--document: ${flags.document} is not a TIFF-F file faxline can send`);
    }
    cleanup = document.cleanup;
    media = new LoopbackMedia({ sender: { document: document.file, pagesChecked: true }, ...lineOptions });
  } else {
    if (flags.document) throw new InvalidOptionError('--document is for --listen loopback (the built-in sender)');
    opened = await openLine(target, 'listen', flags, timeoutMs);
    media = new LineMedia(opened.line, { readyTimeoutMs: timeoutMs, closeLine: false, t38: opened.t38 });
  }

  const secret = flags.callbackSecret ?? process.env.FAXLINE_CALLBACK_SECRET;
  const options: ReceiveFaxOptions = {
    allowPrivate: flags.allowPrivate,
    fax: { ecm: flags.ecm },
    callbacks: { secret: secret || undefined },
    // The fax is written where the operator asked; its URL is what receive_fax_document says.
    store: async (fax) => {
      await writeReceivedPages(flags.out, await readReceived(fax.tiffFile, fax.pages));
      return pathToFileURL(receivedPdfPath(flags.out)).href;
    },
    log: (message) => process.stderr.write(`faxline: ${message}\n`),
  };
  let outcome;
  try {
    outcome = await receiveFax(
      { identity: flags.identity, status_url: flags.statusUrl },
      { ...cliContext(), media },
      options,
    );
  } finally {
    await opened?.close();
    await cleanup();
  }
  await fs.promises.mkdir(flags.out, { recursive: true });
  await writeLadder(flags.out, outcome.trace, `faxline receive ${flags.listen}`);

  const { result, variables } = outcome;
  if (flags.json) {
    process.stdout.write(JSON.stringify({ variables, stats: statsWithLine(result.stats, outcome.line) }) + '\n');
  } else {
    for (const [name, value] of Object.entries(variables)) process.stdout.write(`${name}=${value}\n`);
    process.stderr.write(
      result.success
        ? `Received ${result.pages} page(s) in ${(outcome.durationMs / 1000).toFixed(1)} s of line time; written to ${flags.out}.\n`
        : `Fax failed: ${result.text}${result.detail ? ` (${result.detail})` : ''}; ${result.pages} page(s) received.\n`,
    );
    if (outcome.line) process.stderr.write(formatLineStats(outcome.line));
  }
  return result.success ? EXIT_SUCCESS : EXIT_FAX_FAILED;
}

/** Adds `faxline receive` to the program. */
export function addReceiveCommand(program: Command, setExit: (code: number) => void): void {
  const command = program
    .command('receive')
    .description('answer one fax and write received.tif, page-NNN.png, received.pdf and ladder.svg to a folder')
    .requiredOption(
      '--listen <where>',
      'rtp://HOST:PORT, audiosocket://HOST:PORT, t38://HOST:PORT, or loopback (a built-in sender)',
    )
    .requiredOption('--out <dir>', 'folder for the received fax')
    .option('--identity <id>', 'our station identity (CSI), up to 20 of 0-9 + space')
    .option('--no-ecm', 'disable error correcting mode')
    .option('--status-url <url>', 'POST the calling.call.fax status events to this http(s) URL')
    .option('--callback-secret <secret>', 'sign status events (X-Faxline-Signature); or set FAXLINE_CALLBACK_SECRET')
    .option('--allow-private', 'allow loopback and private addresses for the status URL and --document')
    .option('--timeout <s>', 'seconds to wait for a call to arrive', seconds, 60)
    .addOption(new Option('--document <doc>', 'loopback: what the built-in sender sends (default: the sample letter)'))
    .option('--json', 'print one JSON object {variables, stats} and nothing else on stdout');
  addLineFlags(command).action(async (flags: ReceiveFlags) => setExit(await receive(flags)));
}
