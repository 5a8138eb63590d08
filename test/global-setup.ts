// Global setup runs outside jest's module mapper: resolve the @vmops/* aliases to the sources here.
import './support/register-paths';
import { writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { bundleWorkflows } from '../apps/worker/src/worker';
import { createDataSource, runMigrations } from '../libs/persistence/src';
import { freePort } from '../scripts/net';
import { adminDatabaseUrl, onServer, withDatabase } from './support/databases';
import { startEmbeddedPostgres, type EmbeddedPostgres } from '../scripts/embedded-postgres';
import { parseDynamicConfig, startTemporalDevServer, type TemporalDevServer } from '../scripts/temporal-dev-server';

declare global {
  var __VMOPS_TEMPORAL__: TemporalDevServer | undefined;
  var __VMOPS_POSTGRES__: EmbeddedPostgres | undefined;
}

/**
 * Once per jest run: a Temporal dev server on free ports (in memory, search attributes registered), a new
 * database with every migration applied, and the workflow bundle. Test files find them through env vars.
 * The database server is TEST_DATABASE_URL's, or else an embedded PostgreSQL of the run's own, so that the
 * suite needs no PostgreSQL installed on the machine.
 */
export default async function globalSetup(): Promise<void> {
  if (!process.env.TEST_DATABASE_URL) {
    const postgres = await startEmbeddedPostgres({
      dataDir: path.join(os.tmpdir(), `vmops-test-postgres-${process.pid}`),
      port: await freePort(),
      ephemeral: true,
    });
    globalThis.__VMOPS_POSTGRES__ = postgres;
    process.env.TEST_DATABASE_URL = postgres.url;
    console.log(`\nembedded PostgreSQL for this run started in ${postgres.startMs} ms`);
  }
  const database = `vmops_test_${process.pid}_${Date.now().toString(36)}`;
  await onServer((admin) => admin.query(`CREATE DATABASE ${database}`));
  const databaseUrl = withDatabase(adminDatabaseUrl(), database);
  const dataSource = await createDataSource({ databaseUrl, poolSize: 1 }).initialize();
  await runMigrations(dataSource);
  await dataSource.destroy();

  const [temporal, bundle] = await Promise.all([
    freePort().then((port) =>
      // TEMPORAL_DEV_DYNAMIC_CONFIG as the stack reads it (e.g. matching.enableFairness=false, to see test/fairness fail).
      startTemporalDevServer({ port, dynamicConfig: parseDynamicConfig(process.env.TEMPORAL_DEV_DYNAMIC_CONFIG) }),
    ),
    bundleWorkflows(),
  ]);
  globalThis.__VMOPS_TEMPORAL__ = temporal;

  const bundlePath = path.join(os.tmpdir(), `${database}-workflows.js`);
  await writeFile(bundlePath, bundle.code);

  process.env.VMOPS_TEST_DATABASE = database;
  process.env.VMOPS_TEST_DATABASE_URL = databaseUrl;
  process.env.VMOPS_TEST_TEMPORAL_ADDRESS = temporal.address;
  process.env.VMOPS_TEST_WORKFLOW_BUNDLE = bundlePath;
}
