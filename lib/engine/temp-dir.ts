/**
 * Private temp folders under os.tmpdir(), named faxline-<purpose>-<space>-<pid>-XXXXXX. A
 * process that is killed (SIGKILL) cannot remove its folders, so the pid in the name lets a
 * later process find the folders of one that is gone and remove them: once per process, on
 * the first folder it makes. A pid means something only within one boot and one pid
 * namespace (containers sharing a temp folder each have their own), so <space> tags both,
 * and only folders of our own space, owned by our own user, are swept. Where the tag cannot
 * be read (no /proc), nothing is swept.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/** What a temp folder holds: a rendered document, a loopback's or a paced loopback's received file. */
export type TempPurpose = 'document' | 'loopback' | 'paced' | 'receive';

const PURPOSES: readonly TempPurpose[] = ['document', 'loopback', 'paced', 'receive'];

/** This boot's pid namespace, as 8 hex digits; null where Linux's /proc does not tell. */
function pidSpace(): string | null {
  try {
    const boot = fs.readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
    const namespace = fs.readlinkSync('/proc/self/ns/pid');
    return createHash('sha256').update(`${boot} ${namespace}`).digest('hex').slice(0, 8);
  } catch {
    return null;
  }
}

const SPACE = pidSpace();
const SPACE_TAG = SPACE ?? '00000000';
// Exactly what makeTempDir creates in this space: mkdtemp appends six letters or digits.
const TEMP_NAME = new RegExp(`^faxline-(?:${PURPOSES.join('|')})-${SPACE_TAG}-([1-9][0-9]*)-[A-Za-z0-9]{6}$`);

/** The start of the name of a temp folder that process `pid` of this pid space makes for `purpose`. */
export function tempDirPrefix(purpose: TempPurpose, pid = process.pid): string {
  return `faxline-${purpose}-${SPACE_TAG}-${pid}-`;
}

let sweeping: Promise<void> | undefined;

function isAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

// Best effort: any failure leaves the folder for a later sweep, never fails the caller.
async function sweepStale(tmp: string): Promise<void> {
  if (SPACE === null) return;
  let entries: fs.Dirent[];
  try {
    entries = await fs.promises.readdir(tmp, { withFileTypes: true });
  } catch {
    return;
  }
  const uid = process.getuid?.();
  await Promise.all(
    entries.map(async (entry) => {
      const pid = TEMP_NAME.exec(entry.name)?.[1];
      if (pid === undefined || !entry.isDirectory() || isAlive(Number(pid))) return;
      const folder = path.join(tmp, entry.name);
      try {
        // Only our own user's: in a shared temp folder anyone can make a folder of that name.
        const stat = await fs.promises.lstat(folder);
        if (!stat.isDirectory() || stat.uid !== uid) return;
        await fs.promises.rm(folder, { recursive: true, force: true });
      } catch {
        // Gone already, or not ours to remove.
      }
    }),
  );
}

/**
 * Makes a private folder faxline-<purpose>-<space>-<pid>-XXXXXX under os.tmpdir(); the caller
 * removes it. The first call in a process first removes the folders of processes that are gone.
 */
export async function makeTempDir(purpose: TempPurpose): Promise<string> {
  const tmp = os.tmpdir();
  await (sweeping ??= sweepStale(tmp));
  return fs.promises.mkdtemp(path.join(tmp, tempDirPrefix(purpose)));
}

/** Runs `fn` in a fresh private temp folder (see {@link makeTempDir}) and always removes the folder. */
export async function withTempDir<T>(purpose: TempPurpose, fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await makeTempDir(purpose);
  try {
    return await fn(dir);
  } finally {
    await fs.promises.rm(dir, { recursive: true, force: true });
  }
}
