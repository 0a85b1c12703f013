import { native } from '../../lib/native';
import { useTempDocument } from '../helpers/pages';

const fixture = useTempDocument();

function churn(n: number): void {
  const out = new Int16Array(160);
  for (let i = 0; i < n; i++) {
    const s = new native.FaxSession({ direction: 'send', txFile: fixture.document, identity: '1234' });
    for (let f = 0; f < 5; f++) s.process(null, out);
    s.close();
  }
}

describe('creating and closing sessions', () => {
  test('1000 sessions leave resident memory flat', () => {
    churn(1000); // warm-up: allocator pools, JIT, first-use caches
    global.gc?.();
    const before = process.memoryUsage().rss;
    churn(1000);
    global.gc?.();
    const grownMb = (process.memoryUsage().rss - before) / 1048576;
    // A leak of one SpanDSP fax state (~100 KB) per session would add ~100 MB here.
    expect(grownMb).toBeLessThan(8);
  });
});
