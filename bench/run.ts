/**
 * `npm run bench`: runs the benchmark's parts and prints their figures, as aligned tables or,
 * with --json, as exactly one JSON object on stdout keyed by part name. Progress and errors go
 * to stderr. A new part is a BenchPart added to `parts`.
 */
import { Command, InvalidArgumentError } from 'commander';
import { type BenchOptions, type BenchPart, type BenchTable } from './part';
import { documents } from './parts/documents';
import { engine } from './parts/engine';
import { rtp } from './parts/rtp';
import { scale } from './parts/scale';
import { t38 } from './parts/t38';

const parts: Record<string, BenchPart<object>> = {
  engine,
  documents,
  rtp,
  t38,
  scale,
};

function positiveInteger(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected a whole number from 1');
  return n;
}

function formatTable({ title, rows, notes = [] }: BenchTable): string {
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => (row[column] ?? '').length)));
  // Labels left, figures right, so the decimal points line up.
  const lines = rows.map((row) =>
    row
      .map((cell, column) => (column === 0 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!)))
      .join('  '),
  );
  return [title, ...lines.map((line) => `  ${line.trimEnd()}`), ...notes.map((note) => `  ${note}`)].join('\n');
}

async function main(): Promise<void> {
  const program = new Command()
    .name('bench')
    .description(
      `faxline benchmarks. Parts:\n${Object.entries(parts)
        .map(([name, part]) => `  ${name}: ${part.description}`)
        .join('\n')}`,
    )
    .option('--only <part>', `run one part (${Object.keys(parts).join(', ')})`)
    .option('--json', 'print one JSON object on stdout: {"<part>": {...figures}}')
    .option('--runs <n>', 'timed runs per measured side; the median is reported', positiveInteger, 7)
    .parse();
  const opts = program.opts<{ only?: string; json?: boolean; runs: number }>();
  if (opts.only !== undefined && !Object.hasOwn(parts, opts.only)) {
    program.error(`error: unknown part '${opts.only}'; parts: ${Object.keys(parts).join(', ')}`);
  }
  const selected = opts.only === undefined ? Object.keys(parts) : [opts.only];
  const options: BenchOptions = { runs: opts.runs, log: (message) => process.stderr.write(`${message}\n`) };

  const results: Record<string, object> = {};
  for (const name of selected) {
    const part = parts[name]!;
    results[name] = await part.run(options);
    if (!opts.json) process.stdout.write(`${formatTable(part.table(results[name]!))}\n`);
  }
  if (opts.json) process.stdout.write(`${JSON.stringify(results)}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
