import { ConfigError, loadAgentConfig, loadConfig } from './env';

describe('loadConfig', () => {
  it("waits for a pool's connection as long as for a query, unless told otherwise", () => {
    const db = { DATABASE_URL: 'postgresql://u@h:5432/db' };
    expect(loadConfig({ ...db, DB_TIMEOUT_MS: '3000' })).toMatchObject({ dbTimeoutMs: 3000, dbPoolWaitMs: 3000 });
    expect(loadConfig({ ...db, DB_TIMEOUT_MS: '3000', DB_POOL_WAIT_MS: '500' })).toMatchObject({ dbTimeoutMs: 3000, dbPoolWaitMs: 500 });
    expect(() => loadConfig({ ...db, DB_POOL_WAIT_MS: '-1' })).toThrow(/DB_POOL_WAIT_MS/);
  });

  it('applies defaults around a database URL; the simulator shares the database unless told otherwise', () => {
    expect(loadConfig({ DATABASE_URL: 'postgresql://u@h:5432/db' })).toEqual({
      databaseUrl: 'postgresql://u@h:5432/db',
      dbPoolSize: 10,
      dbTimeoutMs: 8000,
      dbPoolWaitMs: 8000,
      temporalAddress: 'localhost:7233',
      temporalNamespace: 'default',
      temporalTaskQueue: 'vmops',
      temporalUiUrl: 'http://localhost:8233',
      startTimeoutMs: 8000,
      port: 3000,
      snapshotLimitPerVm: 50,
      snapshotBusyRetry: { intervalSeconds: 60, attempts: 30 },
      networkPools: { public: '100.64.0.0/10', private: '10.0.0.0/8' },
      reconcileEverySeconds: 60,
      workerMaxCachedWorkflows: 1000,
      simulator: {
        databaseUrl: 'postgresql://u@h:5432/db',
        schema: 'hypervisor_sim',
        latencyMs: 0,
        guestShutdownMs: 2000,
        transferStepMs: 300,
        faults: null,
      },
      simulatorEndpoints: true,
    });
  });

  it("serves the simulator's endpoints where the nodes run it, unless told otherwise", () => {
    const db = { DATABASE_URL: 'postgres://h/db' };
    expect(loadConfig({ ...db, AGENT_DRIVER: 'qemu' }).simulatorEndpoints).toBe(false);
    expect(loadConfig({ ...db, AGENT_DRIVER: 'qemu', SIMULATOR_ENDPOINTS: 'on' }).simulatorEndpoints).toBe(true);
    expect(loadConfig({ ...db, SIMULATOR_ENDPOINTS: 'off' }).simulatorEndpoints).toBe(false);
    expect(() => loadConfig({ ...db, SIMULATOR_ENDPOINTS: 'yes' })).toThrow('SIMULATOR_ENDPOINTS must be one of on, off, got "yes"');
  });

  it('names every bad variable at once', () => {
    const load = () => loadConfig({ DATABASE_URL: 'mysql://x', PORT: '70000', DB_POOL_SIZE: '0', SIM_SCHEMA: 'Drop;', SIM_FAULTS: '{}' });
    expect(load).toThrow(ConfigError);
    expect(load).toThrow('DATABASE_URL must be a postgres:// or postgresql:// URL');
    expect(load).toThrow('PORT must be an integer from 0 to 65535, got "70000"');
    expect(load).toThrow('DB_POOL_SIZE must be an integer from 1 to 200, got "0"');
    expect(load).toThrow('SIM_SCHEMA must be a lower-case SQL identifier, got "Drop;"');
    expect(load).toThrow('SIM_FAULTS must be a JSON array of fault specs');
    expect(() => loadConfig({})).toThrow('DATABASE_URL is required');
    expect(() => loadConfig({ DATABASE_URL: 'postgres://h/db', NETWORK_POOLS: 'public=10.0.0.0/31' })).toThrow(
      'NETWORK_POOLS must list network=a.b.c.d/8-30 pools',
    );
    expect(loadConfig({ DATABASE_URL: 'postgres://h/db', NETWORK_POOLS: 'lan=192.168.0.0/16, dmz=172.16.1.0/24' }).networkPools).toEqual({
      lan: '192.168.0.0/16',
      dmz: '172.16.1.0/24',
    });
  });

  it("sizes the worker's workflow cache from WORKER_MAX_CACHED_WORKFLOWS, 2 at the least", () => {
    expect(loadConfig({ DATABASE_URL: 'postgres://h/db', WORKER_MAX_CACHED_WORKFLOWS: '500' }).workerMaxCachedWorkflows).toBe(500);
    expect(() => loadConfig({ DATABASE_URL: 'postgres://h/db', WORKER_MAX_CACHED_WORKFLOWS: '1' })).toThrow(
      'WORKER_MAX_CACHED_WORKFLOWS must be an integer from 2 to 1000000, got "1"',
    );
  });

  it('trims a trailing slash from the Temporal UI URL, so links do not double it', () => {
    expect(loadConfig({ DATABASE_URL: 'postgres://h/db', TEMPORAL_UI_URL: 'http://ui:8080/' }).temporalUiUrl).toBe('http://ui:8080');
  });
});

describe('loadAgentConfig', () => {
  it('reads the nodes an agent serves, and needs at least one', () => {
    const config = loadAgentConfig({ DATABASE_URL: 'postgres://h/db', AGENT_NODE_IDS: ' n1, n2 ,' });
    expect(config.nodeIds).toEqual(['n1', 'n2']);
    expect(config.temporalTaskQueue).toBe('vmops');
    expect(() => loadAgentConfig({ DATABASE_URL: 'postgres://h/db' })).toThrow('AGENT_NODE_IDS is required');
  });

  it('gives each node 200 short and 1,000 long driver calls at once unless told otherwise', () => {
    const env = { DATABASE_URL: 'postgres://h/db', AGENT_NODE_IDS: 'n1' };
    expect(loadAgentConfig(env)).toMatchObject({ maxCalls: 200, maxLongCalls: 1000 });
    expect(loadAgentConfig({ ...env, AGENT_MAX_CALLS: '20', AGENT_MAX_LONG_CALLS: '5000' })).toMatchObject({
      maxCalls: 20,
      maxLongCalls: 5000,
    });
    expect(() => loadAgentConfig({ ...env, AGENT_MAX_LONG_CALLS: '0' })).toThrow(
      'AGENT_MAX_LONG_CALLS must be an integer from 1 to 100000, got "0"',
    );
  });

  it('runs the simulated hypervisor unless told QEMU, whose base images and root it reads', () => {
    expect(loadAgentConfig({ DATABASE_URL: 'postgres://h/db', AGENT_NODE_IDS: 'n1' }).driver).toBe('simulated');
    const config = loadAgentConfig({
      DATABASE_URL: 'postgres://h/db',
      AGENT_NODE_IDS: 'n1',
      AGENT_DRIVER: 'qemu',
      QEMU_ROOT: '/srv/vmops',
      QEMU_BASE_IMAGES: 'abc:10, def-1:20',
    });
    expect(config.driver).toBe('qemu');
    expect(config.qemu).toMatchObject({
      root: '/srv/vmops',
      accel: 'tcg',
      baseImages: [
        { templateId: 'abc', sizeGb: 10 },
        { templateId: 'def-1', sizeGb: 20 },
      ],
    });
    expect(() => loadAgentConfig({ DATABASE_URL: 'postgres://h/db', AGENT_NODE_IDS: 'n1', AGENT_DRIVER: 'xen' })).toThrow(
      'AGENT_DRIVER must be one of simulated, qemu',
    );
    expect(() => loadAgentConfig({ DATABASE_URL: 'postgres://h/db', AGENT_NODE_IDS: 'n1', QEMU_BASE_IMAGES: 'abc' })).toThrow(
      'QEMU_BASE_IMAGES must be',
    );
  });
});
