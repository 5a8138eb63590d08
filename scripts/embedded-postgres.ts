import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import { mkdirSync } from 'node:fs';

/**
 * PostgreSQL for a machine that has none: PGlite served over the wire protocol, so TypeORM and pg work
 * unchanged. Used by the stack when DATABASE_URL is not set.
 */
async function main(): Promise<void> {
  const dataDir = process.env.PGLITE_DATA_DIR ?? '.data/pglite';
  const port = Number(process.env.PGLITE_PORT ?? 54329);
  // Every pool of the API, worker and simulator connects here; PGlite runs their queries one at a time.
  const maxConnections = Number(process.env.PGLITE_MAX_CONNECTIONS ?? 64);
  mkdirSync(dataDir, { recursive: true });

  const db = await PGlite.create(dataDir);
  const server = new PGLiteSocketServer({ db, port, host: '127.0.0.1', maxConnections });
  await server.start();
  console.log(`embedded PostgreSQL (PGlite) on 127.0.0.1:${port}, data in ${dataDir}`);

  const shutdown = async () => {
    await server.stop();
    await db.close();
    process.exit(0);
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
