/**
 * Prints the README's table of result codes, read from the linked SpanDSP.
 * Run: npx ts-node --transpile-only scripts/result-codes.ts
 */
import { completionCodes } from '../lib';

/** The markdown table of every SpanDSP T.30 completion code and its text. */
export function resultCodesTable(): string {
  const rows = completionCodes().map((c) => `| ${c.code} | ${c.text} |`);
  return ['| code | text (SpanDSP) |', '|---:|---|', ...rows].join('\n');
}

if (require.main === module) console.log(resultCodesTable());
