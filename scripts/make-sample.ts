/**
 * Writes examples/sample.tif, the document the README's first command faxes: two A4 pages
 * at fine resolution with text-like content, coded T.6. Run: npx ts-node scripts/make-sample.ts
 */
import * as path from 'node:path';
import { writeTiffF } from '../lib';
import { textPage } from '../test/helpers/pages';

const file = path.resolve(__dirname, '../examples/sample.tif');
writeTiffF(file, [textPage(2026), textPage(2027)], 't6');
console.log(`wrote ${file}`);
