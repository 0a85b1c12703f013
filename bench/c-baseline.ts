/** The benchmark's C baselines: plain programs on raw SpanDSP, compiled on demand. */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * Compiles bench/<name>.c against the installed SpanDSP (and libtiff) into bench/out/<name>;
 * every time, so it never goes stale. Returns the binary's path.
 */
export function buildCBaseline(name: string): string {
  const source = path.join(__dirname, `${name}.c`);
  const binary = path.join(__dirname, 'out', name);
  fs.mkdirSync(path.dirname(binary), { recursive: true });
  const flags = execFileSync('pkg-config', ['--cflags', '--libs', 'spandsp', 'libtiff-4'], { encoding: 'utf8' })
    .trim()
    .split(/\s+/);
  // The compiler's messages go to stderr: stdout is for the result only.
  execFileSync('cc', ['-O2', '-Wall', '-Wextra', '-o', binary, source, ...flags], { stdio: ['ignore', 2, 2] });
  return binary;
}
