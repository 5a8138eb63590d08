import { Client } from 'pg';
import { createDataSource, ENTITIES, MIGRATIONS } from '../libs/persistence/src';
import { adminDatabaseUrl, withDatabase } from './support/databases';

/** Every migration applies on an empty database, reverts cleanly, and applies again; entities match the tables. */
describe('migrations', () => {
  const database = `vmops_migrations_${Date.now().toString(36)}`;
  const admin = new Client({ connectionString: adminDatabaseUrl() });

  beforeAll(async () => {
    await admin.connect();
    await admin.query(`CREATE DATABASE ${database}`);
  });
  afterAll(async () => {
    await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    await admin.end();
  });

  it('apply, revert to nothing, and apply again', async () => {
    const dataSource = await createDataSource({ databaseUrl: withDatabase(adminDatabaseUrl(), database), poolSize: 1 }).initialize();
    try {
      const tables = async () =>
        (
          await dataSource.query(
            `SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'schema_migrations' ORDER BY 1`,
          )
        ).map((r: { tablename: string }) => r.tablename);
      expect((await dataSource.runMigrations({ transaction: 'each' })).length).toBe(MIGRATIONS.length);
      const applied = await tables();
      for (const entity of ENTITIES) {
        const meta = dataSource.getMetadata(entity);
        expect(applied).toContain(meta.tableName);
        // Every mapped column exists in its table.
        const columns = (
          await dataSource.query(`SELECT column_name FROM information_schema.columns WHERE table_name = $1`, [meta.tableName])
        ).map((r: { column_name: string }) => r.column_name);
        expect(columns).toEqual(expect.arrayContaining(meta.columns.map((c) => c.databaseName)));
      }

      for (let i = 0; i < MIGRATIONS.length; i++) await dataSource.undoLastMigration({ transaction: 'each' });
      expect(await tables()).toEqual([]);

      expect((await dataSource.runMigrations({ transaction: 'each' })).length).toBe(MIGRATIONS.length);
      expect(await tables()).toEqual(applied);
    } finally {
      await dataSource.destroy();
    }
  });
});
