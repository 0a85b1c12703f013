/** The runnable examples the README points to still run and do what they say. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { cliArgs, outputOf, startNode, tsArgs } from '../helpers/cli';

describe('examples/media-server.ts', () => {
  test('drives send_fax with its own frames: the far end gets both pages of the sample', async () => {
    // Its far end writes the received pages to the temp folder: a private one, removed after.
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'faxline-examples-'));
    const r = await outputOf(startNode(tsArgs('examples/media-server.ts'), { TMPDIR: tmp }));
    fs.rmSync(tmp, { recursive: true, force: true });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^page 1 confirmed at \d+\.\d s\npage 2 confirmed at \d+\.\d s\n/);
    expect(r.stdout).toContain("send_fax_result: 'success'");
    expect(r.stdout).toMatch(/the far end got 2 page\(s\)\n$/);
  }, 120_000);
});

describe('examples/status-receiver.ts', () => {
  test('receives, verifies and prints the events of a fax the CLI sends', async () => {
    // Port 0: the example listens where the system puts it and says where.
    const receiver = startNode(tsArgs('examples/status-receiver.ts', '0'), { FAXLINE_CALLBACK_SECRET: 's3cret' });
    const received = outputOf(receiver);
    let url = '';
    try {
      url = await new Promise<string>((resolve, reject) => {
        receiver.stdout.on('data', (c: Buffer) => {
          const listening = /listening on (http:\/\/127\.0\.0\.1:\d+\/)/.exec(c.toString());
          if (listening) resolve(listening[1]!);
        });
        receiver.on('exit', () => reject(new Error('the status receiver exited before listening')));
      });
      const cli = startNode(
        cliArgs(
          'send',
          'examples/sample.pdf',
          '--status-url',
          `${url}fax`,
          '--allow-private',
          '--callback-secret',
          's3cret',
        ),
      );
      expect((await outputOf(cli)).status).toBe(0);
    } finally {
      receiver.kill();
    }
    const lines = (await received).stdout.trim().split('\n');
    expect(lines[0]).toBe(`listening on ${url}`);
    // One line per event: its time, its control_id, its type, then its params (over several lines).
    const events = lines.filter((l) => /^\d{4}-\d\d-\d\dT/.test(l)).map((l) => l.split(' ')[2]);
    expect(events).toEqual(['page', 'page', 'finished']);
    expect(lines.join('\n')).not.toContain('rejected');
  }, 120_000);
});
