import { randomUUID } from 'node:crypto';
import { Client } from 'pg';

/** The PostgreSQL server the tests use (a real one): TEST_DATABASE_URL, set by global-setup when it starts its own. */
export function adminDatabaseUrl(): string {
  const url = process.env.TEST_DATABASE_URL;
  if (!url) throw new Error('TEST_DATABASE_URL is not set: run the integration tests through jest (test/global-setup.ts starts a server)');
  return url;
}

export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

export async function onServer<T>(work: (admin: Client) => Promise<T>): Promise<T> {
  const admin = new Client({ connectionString: adminDatabaseUrl() });
  await admin.connect();
  try {
    return await work(admin);
  } finally {
    await admin.end();
  }
}

/** Prefix of the databases the harnesses copy from the run's migrated database. */
export const harnessDatabasePrefix = (runDatabase: string) => `${runDatabase}_h_`;

/**
 * A database of its own for one harness, copied from the run's migrated one: its inventory, its nodes and its
 * simulated world see nothing of other test files'.
 */
export async function createHarnessDatabase(runDatabase: string): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `${harnessDatabasePrefix(runDatabase)}${randomUUID().slice(0, 8)}`;
  await onServer((admin) => admin.query(`CREATE DATABASE ${name} TEMPLATE ${runDatabase}`));
  return {
    url: withDatabase(adminDatabaseUrl(), name),
    drop: () => onServer((admin) => admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(() => undefined),
  };
}
