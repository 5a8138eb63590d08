import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { errorCatalogueMarkdown } from '@vmops/contracts';

/** The README's error tables, between their markers, written from the error catalogue (libs/contracts/src/errors.ts). */
export const START = '<!-- error-catalogue:start (npm run docs:errors writes this from libs/contracts/src/errors.ts) -->';
export const END = '<!-- error-catalogue:end -->';

export function withCatalogue(readme: string): string {
  const from = readme.indexOf(START);
  const to = readme.indexOf(END);
  if (from < 0 || to < from) throw new Error(`the README has no ${START} … ${END} block`);
  return `${readme.slice(0, from + START.length)}\n${errorCatalogueMarkdown()}\n${readme.slice(to)}`;
}

if (require.main === module) {
  const path = join(__dirname, '..', '..', 'README.md');
  writeFileSync(path, withCatalogue(readFileSync(path, 'utf8')));
  console.log(`README.md: error tables written from the catalogue`);
}
