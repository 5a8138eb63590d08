import 'reflect-metadata';
import { loadConfig } from '@vmops/config';
import { createDataSource } from '../data-source';
import { seedDemo } from '../seed';

async function main(): Promise<void> {
  const apiKey = process.env.DEMO_API_KEY?.trim();
  if (!apiKey) throw new Error('DEMO_API_KEY is required: the key the demo tenant will accept');
  const { databaseUrl } = loadConfig();
  const dataSource = await createDataSource({ databaseUrl, poolSize: 1 }).initialize();
  try {
    const seeded = await seedDemo(dataSource, apiKey, process.env.DEMO_ADMIN_API_KEY?.trim() || undefined);
    console.log(`seeded tenant ${seeded.tenantId}, nodes ${seeded.nodeIds.join(', ')}, template ${seeded.templateId}`);
  } finally {
    await dataSource.destroy();
  }
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
