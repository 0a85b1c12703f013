/** The runnable examples the README points to still run and do what they say. */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import * as http from 'node:http';
import * as path from 'node:path';
import { listenLocal } from '../helpers/http-server';

const root = path.resolve(__dirname, '../..');

/** Runs a TypeScript file of the repository with Node, as `npx ts-node` would. */
function start(file: string, args: string[] = [], env: NodeJS.ProcessEnv = {}): ChildProcessWithoutNullStreams {
  return spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', path.join(root, file), ...args], {
    cwd: root,
    env: { ...process.env, ...env },
  });
}

/** Collects a child's output until it exits. */
function finish(
  child: ChildProcessWithoutNullStreams,
): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

describe('examples/media-server.ts', () => {
  test('drives send_fax with its own frames: the far end gets both pages of the sample', async () => {
    const r = await finish(start('examples/media-server.ts'));
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^page 1 confirmed at \d+\.\d s\npage 2 confirmed at \d+\.\d s\n/);
    expect(r.stdout).toContain("send_fax_result: 'success'");
    expect(r.stdout).toMatch(/the far end got 2 page\(s\)\n$/);
  }, 120_000);
});

describe('examples/status-receiver.ts', () => {
  test('receives, verifies and prints the events of a fax the CLI sends', async () => {
    // A free port: taken, then given back for the example to listen on.
    const probe = await listenLocal(http.createServer());
    await probe.close();
    const receiver = start('examples/status-receiver.ts', [String(probe.port)], { FAXLINE_CALLBACK_SECRET: 's3cret' });
    const received = finish(receiver);
    try {
      await new Promise<void>((resolve, reject) => {
        receiver.stdout.on('data', (c: Buffer) => c.toString().includes('listening on') && resolve());
        receiver.on('exit', () => reject(new Error('the status receiver exited before listening')));
      });
      const cli = spawn(
        process.execPath,
        [
          '-r',
          'ts-node/register/transpile-only',
          path.join(root, 'lib/cli/main.ts'),
          'send',
          'examples/sample.pdf',
          '--status-url',
          `http://127.0.0.1:${probe.port}/fax`,
          '--allow-private',
          '--callback-secret',
          's3cret',
        ],
        { cwd: root },
      );
      expect((await finish(cli)).status).toBe(0);
    } finally {
      receiver.kill();
    }
    const lines = (await received).stdout.trim().split('\n');
    expect(lines[0]).toBe(`listening on http://127.0.0.1:${probe.port}/`);
    // One line per event: its time, its control_id, its type, then its params (over several lines).
    const events = lines.filter((l) => /^\d{4}-\d\d-\d\dT/.test(l)).map((l) => l.split(' ')[2]);
    expect(events).toEqual(['page', 'page', 'finished']);
    expect(lines.join('\n')).not.toContain('rejected');
  }, 120_000);
});
