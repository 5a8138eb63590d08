import { Client, Pool, type QueryArrayResult, type QueryResult } from 'pg';
import { createDataSource, DatabaseClient, isDatabaseUnavailable } from '../libs/persistence/src';

/**
 * The client of our pools (DatabaseClient): every form of query answered as pg's own Client answers it, and the read
 * timeout it keeps in place of pg's `query_timeout`: the query fails as pg's would, and its connection is replaced.
 */
describe('DatabaseClient', () => {
  const databaseUrl = process.env.VMOPS_TEST_DATABASE_URL!;
  const SQL = `SELECT n, now() - make_interval(secs => n) AS at, 'x' || n AS label, jsonb_build_object('n', n) AS doc, NULL::text AS nothing
                 FROM generate_series(1, $1::int) n`;
  const shape = (r: QueryResult | QueryArrayResult) => ({
    rows: r.rows,
    rowCount: r.rowCount,
    command: r.command,
    fields: r.fields.map((f) => f.name),
  });

  it('answers a query in each of its forms with the same rows, fields and errors as pg', async () => {
    const ours = new DatabaseClient({ connectionString: databaseUrl });
    const pgs = new Client({ connectionString: databaseUrl });
    await Promise.all([ours.connect(), pgs.connect()]);
    try {
      // now() differs between the two connections: `at` is compared as a Date, the rest as it is.
      const comparable = (r: QueryResult) => ({
        ...shape(r),
        rows: r.rows.map(({ at, ...rest }) => ({ ...rest, at: at instanceof Date })),
      });
      expect(comparable(await ours.query(SQL, [3]))).toEqual(comparable(await pgs.query(SQL, [3])));
      expect(comparable(await ours.query({ text: SQL, values: [2] }))).toEqual(comparable(await pgs.query({ text: SQL, values: [2] })));
      const arrays = await ours.query({ text: 'SELECT 1 AS a, 2 AS b', rowMode: 'array' });
      expect(arrays.rows).toEqual([[1, 2]]);

      const byCallback = await new Promise<QueryResult>((resolve, reject) =>
        ours.query('SELECT $1::int AS v', [7], (err: Error | null, r: QueryResult) => (err ? reject(err) : resolve(r))),
      );
      expect(byCallback.rows).toEqual([{ v: 7 }]);
      const noValues = await new Promise<QueryResult>((resolve, reject) =>
        ours.query('SELECT 8 AS v', (err: Error | null, r: QueryResult) => (err ? reject(err) : resolve(r))),
      );
      expect(noValues.rows).toEqual([{ v: 8 }]);

      const failed = await ours.query('SELEC 1').catch((err: Error & { code?: string }) => err);
      expect(failed).toMatchObject({ code: '42601', message: expect.stringContaining('syntax error') });
      // The stack leads back to the code that made the query, as pg's does, not only to the socket that answered.
      expect((failed as Error).stack).toContain('pg-client.test.ts');
      const failedByCallback = await new Promise<Error & { code?: string }>((resolve) =>
        ours.query('SELEC 1', (err: Error) => resolve(err)),
      );
      expect(failedByCallback.code).toBe('42601');
      // Mistakes are pg's TypeErrors, thrown at once.
      expect(() => ours.query(null as never)).toThrow(TypeError);
      expect(() => ours.query('SELECT 1', [], 'not a function' as never)).toThrow('callback is not a function');
      // The connection is still good after an error.
      expect((await ours.query('SELECT 1 AS ok')).rows).toEqual([{ ok: 1 }]);
    } finally {
      await Promise.all([ours.end(), pgs.end()]);
    }
  });

  it('fails a query the server does not answer within readTimeoutMs, and the pool replaces its connection', async () => {
    const pool = new Pool({ connectionString: databaseUrl, Client: DatabaseClient, readTimeoutMs: 300, max: 1 } as never);
    const poolErrors: Error[] = [];
    pool.on('error', (err) => poolErrors.push(err));
    try {
      const backend = async (client: { query: Pool['query'] }) =>
        Number((await client.query('SELECT pg_backend_pid() AS pid')).rows[0].pid);
      // As TypeORM uses the pool: a connection taken, its query failed, the connection given back without an error.
      const client = await pool.connect();
      const first = await backend(client);
      const started = Date.now();
      const err = await client.query('SELECT pg_sleep(3)').catch((e: Error) => e);
      client.release();
      expect(err).toBeInstanceOf(Error);
      expect((err as Error).message).toBe('Query read timeout');
      expect(isDatabaseUnavailable(err)).toBe(true);
      expect(Date.now() - started).toBeLessThan(2_000);
      // The next query gets a new connection at once, not the one still waiting for pg_sleep's answer.
      const answered = Date.now();
      expect(await backend(pool)).not.toBe(first);
      expect(Date.now() - answered).toBeLessThan(1_000);
      // A query answered in time is not disturbed by the timer it had.
      await new Promise((r) => setTimeout(r, 400));
      expect((await pool.query('SELECT 1 AS ok')).rows).toEqual([{ ok: 1 }]);
      expect(poolErrors).toEqual([]);
    } finally {
      await pool.end();
    }
  });

  it("is what the data sources' pools use: a read timeout there is the database unavailable", async () => {
    const dataSource = createDataSource({ databaseUrl, poolSize: 2, timeoutMs: 300 });
    await dataSource.initialize();
    try {
      // statement_timeout (also 300 ms) would have the server end pg_sleep first; with it off in this transaction, the
      // read timeout is what fires, as when the server has stopped answering.
      const err = await dataSource
        .transaction(async (tx) => {
          await tx.query('SET LOCAL statement_timeout = 0');
          await tx.query('SELECT pg_sleep(3)');
        })
        .catch((e: Error) => e);
      expect(isDatabaseUnavailable(err)).toBe(true);
      expect(String((err as Error).message)).toContain('Query read timeout');
      expect(await dataSource.query('SELECT 1 AS ok')).toEqual([{ ok: 1 }]);
    } finally {
      await dataSource.destroy();
    }
  });

  it('refuses query_timeout, whose callback would take the place of its own', () => {
    expect(() => new DatabaseClient({ connectionString: databaseUrl, query_timeout: 1000 })).toThrow(/readTimeoutMs, not query_timeout/);
  });
});
