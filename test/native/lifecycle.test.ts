import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { useTempDocument } from '../helpers/pages';

const fixture = useTempDocument();

/**
 * Runs rounds of 1000 sessions (5 frames each) in a child `node --expose-gc`, collecting
 * garbage after each round (jest gives tests no gc()), and returns how much resident memory
 * grew over 5 rounds after 3 warm-up rounds (allocator pools, JIT, first-use caches).
 * `close`: whether each session is closed, or only dropped for the collector to free.
 * Sessions are made with pagesChecked (only the TIFF's tags are read), so the rounds measure
 * sessions, not page decoding.
 */
function residentGrowthMb(close: boolean): number {
  const script = `
    const addon = require('node-gyp-build')(process.cwd());
    const out = new Int16Array(160);
    function round() {
      for (let i = 0; i < 1000; i++) {
        const s = new addon.FaxSession({ direction: 'send', txFile: ${JSON.stringify(fixture.document)}, identity: '1234', pagesChecked: true });
        for (let f = 0; f < 5; f++) s.process(null, out);
        if (${String(close)}) s.close();
      }
    }
    // Finalizers of collected objects may run after the collection, on a later turn.
    async function collect() {
      for (let i = 0; i < 3; i++) {
        gc();
        await new Promise((resolve) => setImmediate(resolve));
      }
    }
    (async () => {
      for (let r = 0; r < 3; r++) { round(); await collect(); }
      const before = process.memoryUsage().rss;
      for (let r = 0; r < 5; r++) { round(); await collect(); }
      process.stdout.write(String((process.memoryUsage().rss - before) / 1048576));
    })();`;
  const r = spawnSync(process.execPath, ['--expose-gc', '-e', script], {
    cwd: path.resolve(__dirname, '../..'),
    encoding: 'utf8',
    timeout: 60_000,
  });
  expect(r.stderr).toBe('');
  expect(r.signal).toBeNull();
  expect(r.status).toBe(0);
  const grown = Number(r.stdout);
  expect(Number.isFinite(grown)).toBe(true);
  return grown;
}

describe('creating and closing sessions', () => {
  // A leak of one SpanDSP fax state (~100 KB) per session would add ~500 MB over 5000 sessions.
  test('5000 sessions closed after use leave resident memory flat', () => {
    expect(residentGrowthMb(true)).toBeLessThan(8);
  });

  test('5000 sessions dropped without close are freed when collected, leaving resident memory flat', () => {
    expect(residentGrowthMb(false)).toBeLessThan(8);
  });
});
