import { rm } from 'node:fs/promises';
import { Client } from 'pg';
import { adminDatabaseUrl } from './global-setup';

export default async function globalTeardown(): Promise<void> {
  await globalThis.__VMOPS_TEMPORAL__?.stop();
  if (process.env.VMOPS_TEST_WORKFLOW_BUNDLE) await rm(process.env.VMOPS_TEST_WORKFLOW_BUNDLE, { force: true });
  const database = process.env.VMOPS_TEST_DATABASE;
  if (!database) return;
  const admin = new Client({ connectionString: adminDatabaseUrl() });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
  } finally {
    await admin.end();
  }
}
