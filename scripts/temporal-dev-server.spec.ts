import { readFileSync } from 'node:fs';
import path from 'node:path';
import { TEMPORAL_DYNAMIC_CONFIG } from './temporal-dev-server';

describe('the Temporal dynamic configuration', () => {
  it('is the same for the stack (dev server) and for docker-compose', () => {
    const yaml = readFileSync(path.join(__dirname, '..', 'docker', 'temporal-dynamicconfig.yaml'), 'utf8');
    const fromYaml: Record<string, number> = {};
    for (const [, key, value] of yaml.matchAll(/^([\w.]+):\s*\n\s+- value: (\S+)\s*$/gm)) fromYaml[key] = Number(value);
    expect(fromYaml).toEqual(TEMPORAL_DYNAMIC_CONFIG);
  });
});
