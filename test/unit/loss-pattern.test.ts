import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { lossPattern, type LossModel } from '../../lib/transports/impairments';

/*
 * The loss model is written twice, in TypeScript (lib/transports/impairments.ts) and in C
 * (bench/rtp_baseline.c, the raw SpanDSP baseline), and both must lose the same packets for a
 * seed. The C program is compiled here and its `--pattern` mode compared with lossPattern.
 */

const SOURCE = path.join(__dirname, '..', '..', 'bench', 'rtp_baseline.c');
let dir = '';
let binary = '';

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'faxline-loss-pattern-'));
  binary = path.join(dir, 'rtp_baseline');
  const flags = execFileSync('pkg-config', ['--cflags', '--libs', 'spandsp'], { encoding: 'utf8', timeout: 10000 })
    .trim()
    .split(/\s+/)
    .filter((f) => f !== '');
  execFileSync('cc', ['-O2', '-Wall', '-Wextra', '-Werror', '-o', binary, SOURCE, ...flags], {
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: 60000,
  });
}, 70000);

afterAll(() => {
  if (dir !== '') fs.rmSync(dir, { recursive: true, force: true });
});

/** The C program's pattern as a string of 0 and 1. */
function cPattern(seed: number, loss: string, direction: 0 | 1, packets: number): string {
  const args = ['--pattern', String(seed), '--loss', loss, '--direction', String(direction), '--packets'];
  return execFileSync(binary, [...args, String(packets)], { encoding: 'utf8', timeout: 10000 }).trim();
}

function tsPattern(seed: number, model: LossModel, direction: 0 | 1, packets: number): string {
  return Array.from(lossPattern(seed, model, direction, packets)).join('');
}

/** The C program's --loss spelling of a model. */
function spec(model: LossModel): string {
  switch (model.kind) {
    case 'none':
      return 'none';
    case 'random':
      return `random:${model.p}`;
    case 'burst':
      return model.lossG === undefined && model.lossB === undefined
        ? `burst:${model.p},${model.r}`
        : `burst:${model.p},${model.r},${model.lossG ?? 0},${model.lossB ?? 1}`;
  }
}

describe('hand-worked patterns from the model definition', () => {
  /*
   * mulberry32 from seed 0, first draw (all arithmetic mod 2^32):
   *   state = 0 + 0x6D2B79F5 = 0x6D2B79F5 = t
   *   t ^ (t >>> 15) = 0x6D2B79F5 ^ 0x0000DA56 = 0x6D2BA3A3;  t | 1 = 0x6D2B79F5
   *   t = imul(0x6D2BA3A3, 0x6D2B79F5) = 0xFE7CA5FF
   *   t ^ (t >>> 7) = 0xFE7CA5FF ^ 0x01FCF94B = 0xFF805CB4;  t | 61 = 0xFE7CA5FF
   *   imul(0xFF805CB4, 0xFE7CA5FF) = 0xBBCC5B4C;  t + that = 0xBA49014B
   *   t ^= 0xBA49014B  ->  0xFE7CA5FF ^ 0xBA49014B = 0x4435A4B4
   *   t ^ (t >>> 14) = 0x4435A4B4 ^ 0x000110D6 = 0x4434B462 = 1144304738
   *   u = 1144304738 / 2^32 = 0.26643
   * So direction 0 of seed 0 loses packet 0 at p = 0.27 (u < p) and keeps it at p = 0.26.
   */
  test('seed 0, direction 0: the first draw is 0.26643', () => {
    expect(cPattern(0, 'random:0.27', 0, 1)).toBe('1');
    expect(cPattern(0, 'random:0.26', 0, 1)).toBe('0');
    expect(tsPattern(0, { kind: 'random', p: 0.27 }, 0, 1)).toBe('1');
    expect(tsPattern(0, { kind: 'random', p: 0.26 }, 0, 1)).toBe('0');
  });

  test('random loss of 0 loses nothing and of 1 loses everything (every u is in [0, 1))', () => {
    expect(cPattern(5, 'random:0', 1, 50)).toBe('0'.repeat(50));
    expect(cPattern(5, 'random:1', 1, 50)).toBe('1'.repeat(50));
    expect(cPattern(5, 'none', 0, 50)).toBe('0'.repeat(50));
  });

  test('a burst model with p = r = 1 alternates: G keeps packet 0, then B loses packet 1, ...', () => {
    // Start in G: packet 0 is kept (lossG = 0), u2 < 1 moves to B; packet 1 is lost (lossB = 1),
    // u2 < 1 moves back to G; and so on.
    expect(cPattern(77, 'burst:1,1', 0, 10)).toBe('0101010101');
    expect(tsPattern(77, { kind: 'burst', p: 1, r: 1 }, 0, 10)).toBe('0101010101');
  });

  test('a burst model with p = 0 never leaves G and never loses', () => {
    expect(cPattern(3, 'burst:0,0.5', 1, 100)).toBe('0'.repeat(100));
  });
});

describe('the C baseline and lossPattern agree', () => {
  const models: LossModel[] = [
    { kind: 'random', p: 0.01 },
    { kind: 'random', p: 0.2 },
    { kind: 'burst', p: 0.005, r: 0.3 },
    { kind: 'burst', p: 0.05, r: 0.5, lossG: 0.01, lossB: 0.8 },
  ];
  const seeds = [0, 1, 2, 42, 0x9e3779b9, 0xffffffff];

  test.each(models.map((m) => [spec(m), m] as const))('for %s, six seeds, both directions, 5000 packets', (_n, m) => {
    for (const seed of seeds) {
      for (const direction of [0, 1] as const) {
        const c = cPattern(seed, spec(m), direction, 5000);
        expect(c).toHaveLength(5000);
        const ts = tsPattern(seed, m, direction, 5000);
        if (c !== ts) throw new Error(`seed ${seed} direction ${direction}: first difference at ${diff(c, ts)}`);
      }
    }
  });

  test('the two directions of a seed differ', () => {
    expect(cPattern(1, 'random:0.2', 0, 200)).not.toBe(cPattern(1, 'random:0.2', 1, 200));
  });

  test('the patterns lose about p of the packets', () => {
    const lost = [...cPattern(1, 'random:0.2', 0, 5000)].filter((c) => c === '1').length;
    expect(lost).toBeGreaterThan(900);
    expect(lost).toBeLessThan(1100);
  });
});

describe('the C program rejects bad arguments with exit code 2', () => {
  test.each([
    [['--pattern', '1', '--loss', 'random:1.5', '--direction', '0', '--packets', '5']],
    [['--pattern', '1', '--loss', 'burst:0.1', '--direction', '0', '--packets', '5']],
    [['--pattern', '1', '--loss', 'none', '--direction', '2', '--packets', '5']],
    [['--pattern', '-1', '--loss', 'none', '--direction', '0', '--packets', '5']],
    [['--tiff', 'x.tif', '--ecm', '1', '--loss', 'none', '--seeds', '5-1']],
  ])('%j', (args) => {
    let status: number | null = null;
    try {
      execFileSync(binary, args, { stdio: 'pipe', timeout: 10000 });
    } catch (e) {
      status = (e as { status: number | null }).status;
    }
    expect(status).toBe(2);
  });
});

function diff(a: string, b: string): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return i;
  return Math.min(a.length, b.length);
}
