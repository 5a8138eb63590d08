import { rm } from 'node:fs/promises';
import { harnessDatabasePrefix, onServer } from './support/databases';

export default async function globalTeardown(): Promise<void> {
  await globalThis.__VMOPS_TEMPORAL__?.stop();
  if (process.env.VMOPS_TEST_WORKFLOW_BUNDLE) await rm(process.env.VMOPS_TEST_WORKFLOW_BUNDLE, { force: true });
  const database = process.env.VMOPS_TEST_DATABASE;
  if (globalThis.__VMOPS_POSTGRES__) {
    // The run's own server: its data goes with it.
    await globalThis.__VMOPS_POSTGRES__.stop();
    return;
  }
  if (!database) return;
  await onServer(async (admin) => {
    // The run's database and any harness copy a failed test file left behind.
    const { rows } = await admin.query(`SELECT datname FROM pg_database WHERE datname = $1 OR starts_with(datname, $2)`, [
      database,
      harnessDatabasePrefix(database),
    ]);
    for (const { datname } of rows) await admin.query(`DROP DATABASE IF EXISTS ${datname} WITH (FORCE)`);
  });
}
