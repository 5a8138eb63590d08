import { Client, Pool } from 'pg';
import { DatabaseClient, PG_TYPES } from '@vmops/persistence';

/**
 * One side of query-gc.ts, in a process of its own started with --trace-gc-nvp: reads the same page of 100 rows
 * `count` times, as TypeORM reads (a connection taken from the pool, a query without a callback, the connection given
 * back), through pg's Client with `query_timeout` (what the pools used before) or through DatabaseClient with the same
 * read timeout. Prints MARK when the timed part starts, then `ms <per query>` at its end.
 *
 * Usage: node query-gc.process.js pg|ours <database url> <table> <count>
 */
async function main(): Promise<void> {
  const [kind, databaseUrl, table, count] = process.argv.slice(2);
  const timeouts = {
    statement_timeout: 8000,
    ...(kind === 'ours' ? { Client: DatabaseClient, readTimeoutMs: 8000 } : { Client, query_timeout: 8000 }),
  };
  const pool = new Pool({ connectionString: databaseUrl, max: 2, types: PG_TYPES, ...timeouts } as never);
  const sql = `SELECT * FROM ${table} ORDER BY created_at DESC, id DESC LIMIT 100`;
  const page = async () => {
    const client = await pool.connect();
    try {
      const result = await client.query(sql);
      if (result.rows.length !== 100) throw new Error(`read ${result.rows.length} rows, not 100`);
    } finally {
      client.release();
    }
  };
  for (let i = 0; i < Math.min(300, Number(count)); i++) await page();
  console.log('MARK');
  const started = performance.now();
  for (let i = 0; i < Number(count); i++) await page();
  console.log(`ms ${(performance.now() - started) / Number(count)}`);
  await pool.end();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
