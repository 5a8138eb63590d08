import { Pool, type PoolClient } from 'pg';

export interface SimStoreOptions {
  /** The simulator keeps its world here, in a schema of its own, apart from the inventory. */
  databaseUrl: string;
  schema?: string;
  poolSize?: number;
}

/** Bumped whenever the tables below change; an older layout is dropped and created anew (it is a simulation). */
const LAYOUT_VERSION = 9;
const SCHEMA_PATTERN = /^[a-z_][a-z0-9_]*$/;
export const DEFAULT_SIM_SCHEMA = 'hypervisor_sim';

/**
 * The simulator's durable world: PostgreSQL tables in their own schema, shared by every process that opens
 * them (agents, the API's control endpoints, tests), so the world outlives any of them.
 */
export class SimStore {
  readonly schema: string;
  private readonly pool: Pool;
  private ready: Promise<void> | null = null;

  constructor(options: SimStoreOptions) {
    this.schema = options.schema ?? DEFAULT_SIM_SCHEMA;
    if (!SCHEMA_PATTERN.test(this.schema)) throw new Error(`invalid simulator schema name "${this.schema}"`);
    this.pool = new Pool({ connectionString: options.databaseUrl, max: options.poolSize ?? 4 });
    // An idle connection the server drops (a restart, a terminated backend) is an 'error' event of the pool:
    // unheard, it would end the process. The pool replaces the connection; the next query goes on.
    this.pool.on('error', (err) => console.warn(`simulated hypervisor: a database connection was lost (${err.message}); it is replaced`));
  }

  /** `t('vms')` → the schema-qualified table name. */
  t(table: string): string {
    return `${this.schema}.${table}`;
  }

  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- a row as pg returns it; callers name its shape
  async query<R extends object = any>(sql: string, params: unknown[] = []): Promise<R[]> {
    await this.ensureSchema();
    return (await this.pool.query<R>(sql, params)).rows;
  }

  async tx<T>(work: (c: PoolClient) => Promise<T>): Promise<T> {
    await this.ensureSchema();
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      const result = await work(client);
      await client.query('COMMIT');
      return result;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  }

  /** A connection of the pool for `work`, which runs its own statements (and its own transaction, if any). */
  async session<T>(work: (c: PoolClient) => Promise<T>): Promise<T> {
    await this.ensureSchema();
    const client = await this.pool.connect();
    try {
      return await work(client);
    } finally {
      client.release();
    }
  }

  async close(): Promise<void> {
    await this.pool.end();
  }

  private ensureSchema(): Promise<void> {
    this.ready ??= this.createSchema().catch((err) => {
      this.ready = null;
      throw err;
    });
    return this.ready;
  }

  private async createSchema(): Promise<void> {
    const t = (name: string) => this.t(name);
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      // Several processes open the simulator at once; one creates the tables, the others wait for it.
      await client.query(`SELECT pg_advisory_xact_lock(hashtext($1))`, [`vmops:${this.schema}`]);
      const layout = await client.query(`SELECT 1 FROM information_schema.tables WHERE table_schema = $1 AND table_name = 'layout'`, [
        this.schema,
      ]);
      const version = layout.rowCount ? (await client.query(`SELECT version FROM ${t('layout')}`)).rows[0]?.version : undefined;
      if (version === LAYOUT_VERSION) {
        await client.query('COMMIT');
        return;
      }
      const exists = await client.query(`SELECT 1 FROM information_schema.schemata WHERE schema_name = $1`, [this.schema]);
      if (exists.rowCount) {
        console.warn(`simulated hypervisor: schema "${this.schema}" has an older layout (${version ?? 1}); it starts empty`);
        await client.query(`DROP SCHEMA ${this.schema} CASCADE`);
      }
      await client.query(`CREATE SCHEMA ${this.schema}`);
      await client.query(`CREATE TABLE ${t('layout')} (version integer NOT NULL)`);
      await client.query(`INSERT INTO ${t('layout')} VALUES ($1)`, [LAYOUT_VERSION]);
      await client.query(`
        CREATE TABLE ${t('nodes')} (
          id text PRIMARY KEY, cpus integer NOT NULL, memory_mb integer NOT NULL, storage_gb integer NOT NULL)`);
      await client.query(`
        CREATE TABLE ${t('vms')} (
          id text PRIMARY KEY, node_id text NOT NULL, hostname text NOT NULL, cpus integer NOT NULL,
          memory_mb integer NOT NULL, guest_agent boolean NOT NULL, power_state text NOT NULL,
          stop_at timestamptz, frozen boolean NOT NULL DEFAULT false, boot_iso text, started_at timestamptz,
          root_password_hash text)`);
      // Every call settles the node's guests that finished shutting down: found through this index.
      await client.query(`CREATE INDEX ON ${t('vms')} (node_id, stop_at) WHERE power_state = 'stopping'`);
      await client.query(`
        CREATE TABLE ${t('disks')} (
          id text PRIMARY KEY, node_id text NOT NULL, size_gb integer NOT NULL, content text NOT NULL,
          vm_id text REFERENCES ${t('vms')}(id), position integer, UNIQUE (vm_id, position))`);
      await client.query(`
        CREATE TABLE ${t('snapshots')} (
          id text PRIMARY KEY, seq bigserial, node_id text NOT NULL,
          disk_id text NOT NULL REFERENCES ${t('disks')}(id) ON DELETE CASCADE,
          name text NOT NULL, size_gb integer NOT NULL, content text NOT NULL, fsfreeze boolean NOT NULL,
          created_at timestamptz NOT NULL DEFAULT clock_timestamp())`);
      // The image store templates are read from: shared by every node (as a real store would be).
      await client.query(
        `CREATE TABLE ${t('images')} (id text PRIMARY KEY, source_disk_id text NOT NULL, size_gb integer NOT NULL, content text NOT NULL)`,
      );
      await client.query(`
        CREATE TABLE ${t('nics')} (
          id text PRIMARY KEY, node_id text NOT NULL, mac text NOT NULL, network text NOT NULL,
          vm_id text REFERENCES ${t('vms')}(id), position integer, UNIQUE (vm_id, position))`);
      await client.query(`
        CREATE TABLE ${t('migrations')} (
          id text PRIMARY KEY, vm_id text NOT NULL, source_node_id text NOT NULL, target_node_id text NOT NULL,
          state text NOT NULL, progress integer NOT NULL DEFAULT 0, memory_mb integer NOT NULL, storage_gb integer NOT NULL,
          bytes_total bigint NOT NULL)`);
      await client.query(`
        CREATE TABLE ${t('faults')} (
          id serial PRIMARY KEY, method text NOT NULL, node_id text, error text NOT NULL, message text,
          skip_calls integer NOT NULL, fail_calls integer, probability double precision NOT NULL, lands boolean NOT NULL DEFAULT false,
          seen integer NOT NULL DEFAULT 0, failed integer NOT NULL DEFAULT 0,
          created_at timestamptz NOT NULL DEFAULT now())`);
      await client.query(`
        CREATE TABLE ${t('latency')} (method text NOT NULL, node_id text NOT NULL, ms integer NOT NULL, PRIMARY KEY (method, node_id))`);
      // Every call, in the order the calls began; counted from here too (no counter row every call would queue on).
      await client.query(`
        CREATE TABLE ${t('call_log')} (seq bigserial PRIMARY KEY, method text NOT NULL, node_id text NOT NULL, at timestamptz NOT NULL DEFAULT clock_timestamp())`);
      await client.query(`CREATE INDEX ON ${t('call_log')} (method, node_id)`);
      await client.query('COMMIT');
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  }
}
