import { DataSource, type DataSourceOptions } from 'typeorm';
import { ENTITIES } from './entities';
import { MIGRATIONS } from './migrations';
import { PG_TYPES } from './pg-types';
import { DatabaseClient } from './pg-client';

export interface DatabaseSettings {
  databaseUrl: string;
  poolSize?: number;
  /**
   * How long a new connection, and a query, may wait for the server before failing (0 or absent: for ever). Also the
   * server's statement_timeout, so that a query the client gave up on does not run on.
   */
  timeoutMs?: number;
  /** How long a query waits for a connection of the pool, free or new, before failing (absent: timeoutMs; 0: for ever). */
  poolWaitMs?: number;
}

/** Errors of a database that did not answer, refused or dropped the connection: not the request's fault (503). */
const UNAVAILABLE =
  /Query read timeout|timeout exceeded when trying to connect|Connection terminated|ECONNREFUSED|ECONNRESET|the database system is (starting up|shutting down|in recovery mode)|canceling statement due to statement timeout/;
const UNAVAILABLE_CODES = new Set(['57014', '57P01', '57P02', '57P03', '08000', '08001', '08003', '08006', 'ECONNREFUSED', 'ECONNRESET']);

/** pg's pool says this when no connection came free (or none could be made) while a query waited for one. */
const POOL_WAIT = /timeout exceeded when trying to connect/;

type ErrorLike = { message?: unknown; code?: unknown; driverError?: unknown; cause?: unknown };

/** The error and what it wraps (TypeORM's driverError, a cause), a few levels down. */
function* chainOf(err: unknown): Generator<ErrorLike> {
  for (let e = err as ErrorLike | undefined, depth = 0; e && depth < 4; depth++, e = (e.driverError ?? e.cause) as ErrorLike | undefined)
    yield e;
}

export function isDatabaseUnavailable(err: unknown): boolean {
  for (const e of chainOf(err)) {
    if ((typeof e.message === 'string' && UNAVAILABLE.test(e.message)) || (typeof e.code === 'string' && UNAVAILABLE_CODES.has(e.code)))
      return true;
  }
  return false;
}

/**
 * A query that waited in vain for a connection of the pool: the pool's connections all busy, or none could be made.
 * It cannot tell a busy process from a database that stopped answering (one of isDatabaseUnavailable's errors).
 */
export function isPoolWaitTimeout(err: unknown): boolean {
  for (const e of chainOf(err)) if (typeof e.message === 'string' && POOL_WAIT.test(e.message)) return true;
  return false;
}

export function dataSourceOptions({ databaseUrl, poolSize = 10, timeoutMs, poolWaitMs = timeoutMs }: DatabaseSettings): DataSourceOptions {
  return {
    type: 'postgres',
    url: databaseUrl,
    entities: ENTITIES,
    migrations: MIGRATIONS,
    migrationsTableName: 'schema_migrations',
    synchronize: false,
    migrationsRun: false,
    installExtensions: false,
    extra: {
      max: poolSize,
      Client: DatabaseClient,
      types: PG_TYPES,
      ...(poolWaitMs ? { connectionTimeoutMillis: poolWaitMs } : {}),
      ...(timeoutMs ? { readTimeoutMs: timeoutMs, statement_timeout: timeoutMs } : {}),
    },
  };
}

export function createDataSource(settings: DatabaseSettings): DataSource {
  return new DataSource(dataSourceOptions(settings));
}

/** Applies every pending migration; returns the names of those it ran. */
export async function runMigrations(dataSource: DataSource): Promise<string[]> {
  const ran = await dataSource.runMigrations({ transaction: 'each' });
  return ran.map((m) => m.name);
}
