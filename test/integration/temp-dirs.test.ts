import { spawn } from 'node:child_process';
import { once } from 'node:events';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { tempDirPrefix, withTempDir } from '../../lib/engine/temp-dir';
import { usePrivateTmpdir } from '../helpers/pdfs';

const tmpdir = usePrivateTmpdir('faxline-temp-dirs-');

/** The pid of a process that has exited (and been reaped): nothing answers to it. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' });
  await once(child, 'exit');
  return child.pid!;
}

describe('the temp folders of a process that was killed', () => {
  test('are removed when the next process makes its first temp folder; everything else stays', async () => {
    const dead = await deadPid();
    expect(() => process.kill(dead, 0)).toThrow(expect.objectContaining({ code: 'ESRCH' }));
    const entry = (name: string) => path.join(tmpdir(), name);
    const stale = [
      `${tempDirPrefix('document', dead)}Ab12Cd`,
      `${tempDirPrefix('loopback', dead)}xY9z0Q`,
      `${tempDirPrefix('paced', dead)}000000`,
    ];
    for (const name of stale) {
      fs.mkdirSync(entry(name));
      fs.writeFileSync(path.join(entry(name), 'received.tif'), 'left behind');
    }
    const otherSpace = tempDirPrefix('document', dead).replace(/-[0-9a-f]{8}-/, '-0badc0de-');
    const kept = [
      `${tempDirPrefix('paced')}Ab12Cd`, // a live process
      `${otherSpace}Ab12Cd`, // another pid namespace's (a container's, another boot's): not ours to judge
      `faxline-render-${dead}-Ab12Cd`, // not a name faxline makes
      `${tempDirPrefix('document', dead)}Ab12Cd7`,
      `faxline-test-Ab12Cd`,
    ];
    for (const name of kept) fs.mkdirSync(entry(name));
    fs.writeFileSync(entry(`${tempDirPrefix('loopback', dead)}File01`), 'a file, not a folder');
    kept.push(`${tempDirPrefix('loopback', dead)}File01`);
    // Another user's folder of the same name is theirs, not ours to remove. Only root can give
    // a folder away, so only a run as root (as in CI) can make one.
    if (process.getuid?.() === 0) {
      const foreign = `${tempDirPrefix('paced', dead)}Other1`;
      fs.mkdirSync(entry(foreign));
      fs.chownSync(entry(foreign), 65534, 65534);
      kept.push(foreign);
    }

    await withTempDir('loopback', async () => undefined);

    for (const name of stale) expect(fs.existsSync(entry(name))).toBe(false);
    expect(fs.readdirSync(tmpdir()).sort()).toEqual([...kept].sort());
    for (const name of kept) fs.rmSync(entry(name), { recursive: true });
  });
});

describe('a temp folder', () => {
  test('is named after its purpose, the pid space and the pid that made it, and is removed when the work is done', async () => {
    let made = '';
    const result = await withTempDir('paced', async (dir) => {
      made = dir;
      expect(path.dirname(dir)).toBe(tmpdir());
      expect(path.basename(dir)).toMatch(new RegExp(`^faxline-paced-[0-9a-f]{8}-${process.pid}-[A-Za-z0-9]{6}$`));
      expect(path.basename(dir).startsWith(tempDirPrefix('paced'))).toBe(true);
      fs.writeFileSync(path.join(dir, 'received.tif'), 'pages');
      return 42;
    });
    expect(result).toBe(42);
    expect(fs.existsSync(made)).toBe(false);
  });

  test('is removed also when the work throws', async () => {
    let made = '';
    const attempt = withTempDir('loopback', async (dir) => {
      made = dir;
      throw new Error('the call failed');
    });
    await expect(attempt).rejects.toThrow('the call failed');
    expect(fs.existsSync(made)).toBe(false);
  });
});
