/** What the tests of calls over simulated lines share: their document, and checks of what arrived. */
import { readTiffPages, type FaxPage, type LineStats } from '../../lib';
import { differingRows, tempDir, writeTextDocument } from './pages';

/** A test file's document: its temp folder, the TIFF-F file and the pages written to it. */
export interface TextDocument {
  /** The temp folder (received files go here too). */
  readonly dir: string;
  /** The document's path. */
  readonly file: string;
  /** The pages it holds, to compare what arrives with. */
  readonly pages: FaxPage[];
}

/**
 * For a test file: a temp folder with an `n`-page text document, made before all tests and
 * removed after. Read its fields inside tests, not at the top level.
 */
export function useTextDocument(n: number): TextDocument {
  const state: { dir: string; file: string; pages: FaxPage[] } = { dir: '', file: '', pages: [] };
  let cleanup = (): void => undefined;
  beforeAll(() => {
    const tmp = tempDir();
    cleanup = tmp.cleanup;
    state.dir = tmp.dir;
    Object.assign(state, writeTextDocument(tmp.dir, n));
  });
  afterAll(() => cleanup());
  return state;
}

/** Expects the TIFF-F `file` to hold exactly the pages `sent`, row for row. */
export function expectBitExact(file: string, sent: readonly FaxPage[]): void {
  const pages = readTiffPages(file);
  expect(pages).toHaveLength(sent.length);
  sent.forEach((page, i) => expect(differingRows(pages[i]!, page)).toBe(0));
}

/** A numeric line statistic (LineStats values are loosely typed); throws if it is not a number. */
export function lineStat(stats: LineStats, key: string): number {
  const value = stats[key];
  if (typeof value !== 'number') throw new Error(`line statistic ${key} is not a number: ${String(value)}`);
  return value;
}
