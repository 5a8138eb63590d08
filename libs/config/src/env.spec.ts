import { ConfigError, loadConfig } from './env';

describe('loadConfig', () => {
  it('applies defaults around a database URL', () => {
    expect(loadConfig({ DATABASE_URL: 'postgresql://u@h:5432/db' })).toEqual({
      databaseUrl: 'postgresql://u@h:5432/db',
      dbPoolSize: 10,
      temporalAddress: 'localhost:7233',
      temporalNamespace: 'default',
      temporalTaskQueue: 'vmops',
      temporalUiUrl: 'http://localhost:8233',
      port: 3000,
      simLatencyMs: 0,
    });
  });

  it('names every bad variable at once', () => {
    const load = () => loadConfig({ DATABASE_URL: 'mysql://x', PORT: '70000', DB_POOL_SIZE: '0' });
    expect(load).toThrow(ConfigError);
    expect(load).toThrow('DATABASE_URL must be a postgres:// or postgresql:// URL');
    expect(load).toThrow('PORT must be an integer from 0 to 65535, got "70000"');
    expect(load).toThrow('DB_POOL_SIZE must be an integer from 1 to 200, got "0"');
    expect(() => loadConfig({})).toThrow('DATABASE_URL is required');
  });

  it('trims a trailing slash from the Temporal UI URL, so links do not double it', () => {
    expect(loadConfig({ DATABASE_URL: 'postgres://h/db', TEMPORAL_UI_URL: 'http://ui:8080/' }).temporalUiUrl).toBe('http://ui:8080');
  });
});
