import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseDynamicConfig, TEMPORAL_DYNAMIC_CONFIG } from './temporal-dev-server';

describe('the Temporal dynamic configuration', () => {
  it('is the same for the stack (dev server) and for docker-compose', () => {
    const yaml = readFileSync(path.join(__dirname, '..', 'docker', 'temporal-dynamicconfig.yaml'), 'utf8');
    const fromYaml: Record<string, number | boolean> = {};
    for (const [, key, value] of yaml.matchAll(/^([\w.]+):\s*\n\s+- value: (\S+)\s*$/gm))
      fromYaml[key] = value === 'true' || value === 'false' ? value === 'true' : Number(value);
    expect(fromYaml).toEqual(TEMPORAL_DYNAMIC_CONFIG);
  });
});

describe('TEMPORAL_DEV_DYNAMIC_CONFIG', () => {
  it('reads key=value pairs: numbers, true and false', () => {
    expect(parseDynamicConfig(' matching.enableFairness=false, history.transferProcessorMaxPollRPS=200 ')).toEqual({
      'matching.enableFairness': false,
      'history.transferProcessorMaxPollRPS': 200,
    });
    expect(parseDynamicConfig(undefined)).toEqual({});
    expect(parseDynamicConfig('')).toEqual({});
  });

  it('refuses a pair it cannot read, naming it', () => {
    expect(() => parseDynamicConfig('matching.enableFairness')).toThrow(/"matching.enableFairness" is not key=value/);
    expect(() => parseDynamicConfig('a=yes')).toThrow(/"a=yes"/);
  });
});
