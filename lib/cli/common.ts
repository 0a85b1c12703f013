/** What the CLI's commands share: exit statuses, the call context, argument parsers, stats output. */
import { randomUUID } from 'node:crypto';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { InvalidArgumentError } from 'commander';
import type { FaxStats } from '../engine/result';
import type { SendFaxContext } from '../swml/send-fax';
import type { LineStats } from '../transports/line';

/** Exit statuses: the fax succeeded, the fax failed, the command line was wrong. */
export const EXIT_SUCCESS = 0;
export const EXIT_FAX_FAILED = 1;
export const EXIT_USAGE = 2;

/** The fax statistics with the line's beside them, as `--json` prints them. */
export function statsWithLine(stats: FaxStats, line: LineStats | undefined): FaxStats & { line?: LineStats } {
  return line ? { ...stats, line } : stats;
}

/** The line's statistics as one line of text for stderr. */
export function formatLineStats(line: LineStats): string {
  return `Line: ${Object.entries(line)
    .map(([key, value]) => `${key}=${String(value)}`)
    .join(' ')}\n`;
}

/**
 * The document argument as send_fax's `document`: a URL stays as it is, a local path
 * becomes a `file:` URL. A scheme missing its colon (`https//…`) stays too, so the fax fails
 * with a message that points at it instead of looking for a local file of that name.
 */
export function documentArgument(arg: string): string {
  if (/^[a-z][a-z0-9+.-]+:/i.test(arg) || /^[a-z]+\/\//i.test(arg)) return arg;
  return pathToFileURL(path.resolve(arg)).href;
}

/** The call context the CLI gives send_fax and receive_fax: its own ids, this host's name. */
export function cliContext(): SendFaxContext {
  return {
    project_id: 'faxline-cli',
    space_id: 'faxline-cli',
    call_id: randomUUID(),
    node_id: os.hostname(),
    swml_session_id: randomUUID(),
  };
}

/** Seconds from the command line, as a positive number. */
export function seconds(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('expected a number of seconds above 0');
  return n;
}
