import * as fs from 'node:fs';
import * as path from 'node:path';
import { resultCodesTable } from '../../scripts/result-codes';

describe('the README', () => {
  const readme = fs.readFileSync(path.resolve(__dirname, '../../README.md'), 'utf8');

  test('starts with the two commands in one fenced block, the second ending in npm test', () => {
    const block = /```sh\n([\s\S]*?)```/.exec(readme)?.[1]?.trim().split('\n');
    expect(block).toHaveLength(2);
    // The test command may install the SIP peers first; it must still be `npm test` that runs.
    expect(block?.[1]).toMatch(/^(?:bash scripts\/setup\.sh [^&]*&& )?npm test$/);
  });

  test('has the result code table of the linked SpanDSP, unedited', () => {
    expect(readme).toContain(resultCodesTable());
  });
});
