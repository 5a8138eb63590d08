import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { API_ERRORS, OPERATION_ERRORS } from '@vmops/contracts';
import { withCatalogue } from './docs-errors';

const readme = readFileSync(join(__dirname, '..', 'README.md'), 'utf8');

describe('the error catalogue and the README', () => {
  it('the README holds the tables the catalogue writes (run npm run docs:errors after changing the catalogue)', () => {
    expect(readme).toBe(withCatalogue(readme));
  });

  it('every code the README names with a status is in the catalogue with that status', () => {
    const named = [...readme.matchAll(/\b([1-5]\d\d) `([A-Z][A-Z_]+)`/g)].map(([, status, code]) => [code, Number(status)]);
    expect(named.length).toBeGreaterThan(10);
    for (const [code, status] of named) expect([code, API_ERRORS[code as keyof typeof API_ERRORS]?.status]).toEqual([code, status]);
  });

  it('every entry is an error status with a meaning that says something, and no code is in both catalogues with two meanings', () => {
    for (const [code, { status, meaning }] of Object.entries(API_ERRORS)) {
      expect([code, status >= 400 && status < 600, meaning.length > 20]).toEqual([code, true, true]);
    }
    for (const [code, meaning] of Object.entries(OPERATION_ERRORS)) expect([code, meaning.length > 20]).toEqual([code, true]);
  });
});
