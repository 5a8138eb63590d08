import 'reflect-metadata';
import { loadConfig } from '@vmops/config';
import { createDataSource, runMigrations } from '../data-source';

async function main(): Promise<void> {
  const { databaseUrl } = loadConfig();
  const dataSource = await createDataSource({ databaseUrl, poolSize: 1 }).initialize();
  try {
    const ran = await runMigrations(dataSource);
    console.log(ran.length ? `applied migrations: ${ran.join(', ')}` : 'database schema is up to date');
  } finally {
    await dataSource.destroy();
  }
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
