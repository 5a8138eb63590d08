import type { INestApplication } from '@nestjs/common';
import type { AddressInfo } from 'node:net';
import { Client } from 'pg';
import { createApiApp } from '../apps/api/src/bootstrap';
import { loadConfig } from '../libs/config/src';
import { freePort } from '../scripts/net';
import { NOTIFICATIONS_APPLICATION_NAME } from '../libs/persistence/src';
import { adminDatabaseUrl, withDatabase } from './support/databases';
import { startHarness, type Harness } from './support/harness';

async function health(baseUrl: string) {
  const res = await fetch(`${baseUrl}/health`);
  return { status: res.status, body: (await res.json()) as any };
}

describe('GET /health', () => {
  it('is 200 and needs no API key when PostgreSQL and Temporal answer', async () => {
    const h = await startHarness({ worker: false });
    try {
      const { status, body } = await health(h.baseUrl);
      expect(status).toBe(200);
      expect(body.info).toEqual({ database: { status: 'up' }, temporal: { status: 'up' } });
    } finally {
      await h.close();
    }
  });

  describe('when Temporal does not answer', () => {
    let h: Harness;
    let key: string;
    beforeAll(async () => {
      h = await startHarness({ worker: false, temporalAddress: `127.0.0.1:${await freePort()}` });
      ({ apiKey: key } = await h.newTenant());
    });
    afterAll(() => h.close());

    it('is 503 naming temporal, with the database still up', async () => {
      const { status, body } = await health(h.baseUrl);
      expect(status).toBe(503);
      expect(body.error).toMatchObject({ code: 'UNHEALTHY', message: 'not answering: temporal' });
      expect(body.error.details.error.temporal).toMatchObject({ status: 'down', message: expect.any(String) });
      expect(body.error.details.info.database).toEqual({ status: 'up' });
    });

    it('answers a create with 503 TEMPORAL_UNAVAILABLE and leaves no VM behind', async () => {
      const res = await h.call('POST', '/v1/vms', {
        key,
        body: { hostname: 'no-temporal', templateId: h.world.templateId, cpus: 1, memoryMb: 512 },
      });
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toBe('2');
      expect(res.body.error.code).toBe('TEMPORAL_UNAVAILABLE');
      expect(await h.dataSource.query(`SELECT id FROM vms WHERE hostname = 'no-temporal'`)).toEqual([]);
      const [op] = await h.dataSource.query(`SELECT status, error FROM operations WHERE id = $1`, [res.body.error.details.operationId]);
      expect(op).toMatchObject({ status: 'failed', error: { code: 'TEMPORAL_UNAVAILABLE' } });
    });
  });

  describe("when every one of the API's database connections is busy", () => {
    let h: Harness;
    let key: string;
    beforeAll(async () => {
      // Two connections, a request waits half a second for one; a statement may run 20 s.
      h = await startHarness({ worker: false, env: { DB_POOL_SIZE: '2', DB_POOL_WAIT_MS: '500', DB_TIMEOUT_MS: '20000' } });
      ({ apiKey: key } = await h.newTenant());
    });
    afterAll(() => h.close());

    const count = async (sql: string) => (await h.dataSource.query(sql))[0].n as number;
    const until = async (done: () => Promise<boolean>) => {
      for (let i = 0; i < 100 && !(await done()); i++) await new Promise((r) => setTimeout(r, 50));
      expect(await done()).toBe(true);
    };

    it('answers 503 API_BUSY while the database answers, DATABASE_UNAVAILABLE while it does not, and serves again once one is free', async () => {
      expect((await h.call('GET', '/v1/vms', { key })).status).toBe(200);
      // Both connections wait on a lock the test holds: the database itself answers everyone else.
      const locker = h.dataSource.createQueryRunner();
      await locker.connect();
      await locker.startTransaction();
      await locker.query('LOCK TABLE vms IN ACCESS EXCLUSIVE MODE');
      let held: Promise<{ status: number }>[];
      try {
        held = [0, 1].map(() => h.call('GET', '/v1/vms', { key }));
        await until(
          async () =>
            (await count(
              `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`,
            )) >= 2,
        );

        const started = Date.now();
        const busy = await h.call('GET', '/v1/vms', { key });
        expect([busy.status, busy.headers.get('retry-after'), busy.body.error.code]).toEqual([503, '2', 'API_BUSY']);
        expect(busy.body.error.message).toMatch(/while the database answers/);
        expect(Date.now() - started).toBeLessThan(3000);
        // /health says the same: the database answers, the API's connections are what is taken.
        const { status, body } = await health(h.baseUrl);
        expect(status).toBe(503);
        expect(body.error.message).toBe('not answering: database connections');
        expect(body.error.details.info.database).toMatchObject({ status: 'up' });
        expect(body.error.details.error['database connections']).toMatchObject({ status: 'down', message: expect.stringMatching(/busy/) });

        // The API's listening connection stops answering too (its backend stopped, as a hung server's would): the same
        // wait is the database's, not a busy API's.
        const [{ pid }] = await h.dataSource.query(
          `SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND datname = current_database()`,
          [NOTIFICATIONS_APPLICATION_NAME],
        );
        await new Promise((r) => setTimeout(r, 1100)); // what the listener heard last is older than the probe's second
        process.kill(pid, 'SIGSTOP');
        try {
          const stalled = await h.call('GET', '/v1/vms', { key });
          expect([stalled.status, stalled.headers.get('retry-after'), stalled.body.error.code]).toEqual([503, '2', 'DATABASE_UNAVAILABLE']);
          expect(stalled.body.error.message).toMatch(/the database does not answer/);
        } finally {
          process.kill(pid, 'SIGCONT');
        }
      } finally {
        await locker.rollbackTransaction();
        await locker.release();
      }
      // The requests that held the connections end as the lock goes; the next is served.
      expect((await Promise.all(held)).map((r) => r.status)).toEqual([200, 200]);
      expect((await h.call('GET', '/v1/vms', { key })).status).toBe(200);
    });
  });

  it('is 503 naming the database when PostgreSQL stops answering', async () => {
    const database = `vmops_health_${Date.now().toString(36)}`;
    const admin = new Client({ connectionString: adminDatabaseUrl() });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${database}`);
    let app: INestApplication | null = null;
    try {
      const config = loadConfig({
        DATABASE_URL: withDatabase(adminDatabaseUrl(), database),
        TEMPORAL_ADDRESS: process.env.VMOPS_TEST_TEMPORAL_ADDRESS,
        DB_POOL_SIZE: '2',
      });
      app = await createApiApp(config, { logger: false });
      await app.listen(0, '127.0.0.1');
      const baseUrl = `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;
      expect((await health(baseUrl)).status).toBe(200);

      await admin.query(`ALTER DATABASE ${database} ALLOW_CONNECTIONS false`);
      await admin.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1`, [database]);

      const { status, body } = await health(baseUrl);
      expect(status).toBe(503);
      expect(body.error.message).toBe('not answering: database');
      expect(body.error.details.error.database).toMatchObject({ status: 'down' });
      expect(body.error.details.info.temporal).toEqual({ status: 'up' });
    } finally {
      await app?.close().catch(() => undefined);
      await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
      await admin.end();
    }
  });
});
