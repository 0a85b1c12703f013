/** Runs the `faxline` CLI (and other TypeScript entry points of the repository) as child processes. */
import { spawn, spawnSync } from 'node:child_process';
import * as path from 'node:path';

/** The repository's root. */
export const root = path.resolve(__dirname, '../..');

/** A child process never outlives this, whatever the test's own timeout. */
const CHILD_TIMEOUT_MS = 100_000;

/** Node's arguments to run a TypeScript file of the repository, as `npx ts-node` would. */
export const tsArgs = (file: string, ...args: string[]): string[] => [
  '-r',
  'ts-node/register/transpile-only',
  path.join(root, file),
  ...args,
];

/** Node's arguments to run the CLI from its TypeScript source, as the built bin would run. */
export const cliArgs = (...args: string[]): string[] => tsArgs('lib/cli/main.ts', ...args);

/** What a finished child printed. */
export interface ChildOutput {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the CLI and waits (blocking the event loop). */
export function faxline(...args: string[]): ChildOutput {
  const r = spawnSync(process.execPath, cliArgs(...args), { cwd: root, encoding: 'utf8', timeout: CHILD_TIMEOUT_MS });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Starts Node on `args` in the repository, killed after the child timeout at the latest. */
export function startNode(args: string[], env: NodeJS.ProcessEnv = {}) {
  return spawn(process.execPath, args, { cwd: root, env: { ...process.env, ...env }, timeout: CHILD_TIMEOUT_MS });
}

/** Collects a child's output until it exits. */
export function outputOf(child: ReturnType<typeof startNode>): Promise<ChildOutput> {
  return new Promise((resolve) => {
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

/** Runs the CLI without blocking the event loop (for tests that serve HTTP meanwhile). */
export function faxlineAsync(...args: string[]): Promise<ChildOutput> {
  return outputOf(startNode(cliArgs(...args)));
}
