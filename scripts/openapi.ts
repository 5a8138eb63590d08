import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '@vmops/config';
import { previewOpenApiDocument } from '../apps/api/src/bootstrap';

/**
 * openapi.json, the API's OpenAPI document, as the API serves it at /docs-json: `npm run openapi` writes it,
 * `npm run openapi -- --check` fails when the committed file is stale (CI runs the check through the unit tests).
 */
export async function currentOpenApiJson(): Promise<string> {
  // The preview starts no provider: the database address is never dialled.
  const document = await previewOpenApiDocument(loadConfig({ DATABASE_URL: 'postgresql://openapi@127.0.0.1:1/preview' }));
  return `${JSON.stringify(document, null, 2)}\n`;
}

export const OPENAPI_FILE = join(__dirname, '..', '..', 'openapi.json');

if (require.main === module) {
  void currentOpenApiJson().then((json) => {
    if (process.argv.includes('--check')) {
      if (readFileSync(OPENAPI_FILE, 'utf8') !== json) {
        console.error('openapi.json is stale: run npm run openapi');
        process.exit(1);
      }
      console.log('openapi.json is current');
      return;
    }
    writeFileSync(OPENAPI_FILE, json);
    console.log(`openapi.json written (${Object.keys(JSON.parse(json).paths).length} paths)`);
  });
}
