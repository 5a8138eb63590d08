import type { INestApplication } from '@nestjs/common';
import type { AddressInfo } from 'node:net';
import { Client } from 'pg';
import { createApiApp } from '../apps/api/src/bootstrap';
import { loadConfig } from '../libs/config/src';
import { freePort } from '../scripts/net';
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
