import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, createWriteStream, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Client as PgClient } from 'pg';
import { DatabaseClient, PG_TYPES } from '@vmops/persistence';
import { startEmbeddedPostgres } from '../scripts/embedded-postgres';
import { freePort } from '../scripts/net';

const ROOT = path.resolve(__dirname, '..').replace(/[\\/]dist$/, '');

/** `--quick`: the CI smoke size of every bench (a minute or two); without it, the sizes docs/performance.md reports. */
export const QUICK = process.argv.includes('--quick') || process.env.BENCH_QUICK === '1';

export type ProcessKind = 'api' | 'worker' | 'agent' | 'temporal' | 'postgres' | 'stack';

const PROCESS_KINDS: [ProcessKind, RegExp][] = [
  ['api', /apps\/api\/src\/main\.js/],
  ['worker', /apps\/worker\/src\/main\.js/],
  ['agent', /apps\/agent\/src\/main\.js/],
  ['temporal', /server start-dev/],
  ['postgres', /postgres/],
  ['stack', /stack\.js/],
];

/**
 * CPU time a process has used so far, in ms (user + system, from /proc); with `reaped`, that of its children that
 * ended too (PostgreSQL's connections come and go: their time moves to the server's process as they end).
 */
export function cpuMsOf(pid: number, reaped = false): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const own = Number(fields[11]) + Number(fields[12]);
    return ((own + (reaped ? Number(fields[13]) + Number(fields[14]) : 0)) * 1000) / 100;
  } catch {
    return 0;
  }
}

/** Resident memory of a process, in MiB (from /proc). */
export function rssMibOf(pid: number): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
  } catch {
    return 0;
  }
}

/** CPU ms used so far per kind of the stack's processes. */
export function cpuByKind(stack: BenchStack): Record<ProcessKind, number> {
  const totals = { api: 0, worker: 0, agent: 0, temporal: 0, postgres: 0, stack: 0 };
  for (const { kind, pid } of stack.processes()) totals[kind] += cpuMsOf(pid, true);
  return totals;
}

export interface BenchStack {
  apiUrl: string;
  apiKey: string;
  adminKey: string;
  temporalAddress: string;
  databaseUrl: string;
  taskQueue: string;
  /** The stack's processes by kind, as they run now. */
  processes(): { kind: ProcessKind; pid: number }[];
  stop(): Promise<void>;
}

/**
 * The stack exactly as the README starts it (dist/scripts/stack.js: embedded PostgreSQL, the Temporal dev server,
 * worker, agents, API), on free ports and a data directory of its own, with the simulated hypervisor at zero
 * latency and no guest shutdown delay: what is measured is the engine, not the simulation.
 */
export async function startBenchStack(extraEnv: Record<string, string> = {}): Promise<BenchStack> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'vmops-bench-'));
  chmodSync(dataDir, 0o755);
  const [port, temporalPort, uiPort, pgPort] = [await freePort(), await freePort(), await freePort(), await freePort()];
  const apiKey = 'bench-demo-key-0123456789';
  const adminKey = 'bench-admin-key-0123456789';
  const proc: ChildProcess = spawn(
    process.execPath,
    ['-r', path.join(ROOT, 'scripts', 'register-paths.js'), path.join(ROOT, 'dist', 'scripts', 'stack.js')],
    {
      cwd: ROOT,
      env: {
        ...process.env,
        VMOPS_DATA_DIR: dataDir,
        PORT: String(port),
        TEMPORAL_PORT: String(temporalPort),
        TEMPORAL_UI_PORT: String(uiPort),
        POSTGRES_PORT: String(pgPort),
        DATABASE_URL: '',
        TEMPORAL_ADDRESS: '',
        DEMO_API_KEY: apiKey,
        DEMO_ADMIN_API_KEY: adminKey,
        SIM_LATENCY_MS: '0',
        SIM_GUEST_SHUTDOWN_MS: '0',
        SIM_TRANSFER_STEP_MS: '0',
        ...extraEnv,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    },
  );
  let out = '';
  // BENCH_STACK_LOG=<file>: the stack's output is also written there (what the API, worker and agents logged).
  const log = process.env.BENCH_STACK_LOG ? createWriteStream(process.env.BENCH_STACK_LOG, { flags: 'a' }) : null;
  const keep = (c: Buffer) => {
    out += c.toString();
    log?.write(c);
  };
  proc.stdout!.on('data', keep);
  proc.stderr!.on('data', keep);
  const deadline = Date.now() + 120_000;
  while (!out.includes('vmops is running')) {
    if (proc.exitCode !== null || Date.now() > deadline) throw new Error(`the stack did not start:\n${out}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  const password = readFileSync(path.join(dataDir, 'postgres.password'), 'utf8').trim();
  const cmdline = (pid: number) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
    } catch {
      return '';
    }
  };
  const descendants = (pid: number): number[] => {
    let kids: number[];
    try {
      kids = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
    } catch {
      return [];
    }
    return kids.flatMap((k) => [k, ...descendants(k)]);
  };
  return {
    apiUrl: `http://127.0.0.1:${port}`,
    apiKey,
    adminKey,
    temporalAddress: `127.0.0.1:${temporalPort}`,
    databaseUrl: `postgresql://postgres:${encodeURIComponent(password)}@127.0.0.1:${pgPort}/postgres`,
    taskQueue: 'vmops',
    processes() {
      return [proc.pid!, ...descendants(proc.pid!)].flatMap((pid) => {
        const line = cmdline(pid);
        // The Temporal CLI runs under a with-parent wrapper whose command line names it too: the wrapper is `stack`.
        const kind = /with-parent\.mjs/.test(line) ? 'stack' : PROCESS_KINDS.find(([, pattern]) => pattern.test(line))?.[0];
        return kind ? [{ kind, pid }] : [];
      });
    },
    async stop() {
      try {
        process.kill(-proc.pid!, 'SIGTERM');
      } catch {
        /* gone */
      }
      const exited = new Promise((r) => proc.once('exit', r));
      const killer = setTimeout(() => {
        try {
          process.kill(-proc.pid!, 'SIGKILL');
        } catch {
          /* gone */
        }
      }, 15_000);
      if (proc.exitCode === null) await exited;
      clearTimeout(killer);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** A JSON call to the stack's API; throws on an unexpected status. */
export async function api<T = any>(
  stack: BenchStack,
  method: string,
  route: string,
  body?: unknown,
  key = stack.apiKey,
): Promise<{ status: number; body: T }> {
  const res = await fetch(`${stack.apiUrl}${route}`, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  const parsed = text ? JSON.parse(text) : null;
  if (res.status >= 400) throw new Error(`${method} ${route} answered ${res.status}: ${text}`);
  return { status: res.status, body: parsed };
}

/**
 * A mutating call as a careful client sends it: a 503 (Temporal did not accept the start in time, or no database
 * connection came free in time; nothing was changed) is sent again, with backoff; `onRetry` gets each one's error code.
 */
export async function postRetrying<T = any>(
  stack: BenchStack,
  method: string,
  route: string,
  body: unknown,
  onRetry: (code: string) => void = () => {},
  key = stack.apiKey,
): Promise<{ status: number; body: T }> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await api<T>(stack, method, route, body, key);
    } catch (err) {
      if (attempt >= 20 || !/answered 503/.test(String(err))) throw err;
      onRetry(/"code":"(\w+)"/.exec(String(err))?.[1] ?? 'no code');
      await new Promise((r) => setTimeout(r, Math.min(200 * 2 ** attempt, 5000)));
    }
  }
}

/** Waits (through /wait) for the operation to end; throws unless it succeeded. */
export async function awaitSuccess(stack: BenchStack, operationId: string, key = stack.apiKey): Promise<any> {
  for (;;) {
    const op = await api(stack, 'GET', `/v1/operations/${operationId}/wait?timeout=120`, undefined, key);
    if (!op.body.finishedAt) continue;
    if (op.body.status !== 'succeeded') throw new Error(`${op.body.type} ended ${op.body.status}: ${JSON.stringify(op.body.error)}`);
    return op.body;
  }
}

/**
 * PostgreSQL for a bench that needs no stack: DATABASE_URL, or an embedded server of the bench's own (durable, as the
 * stack's is), stopped and removed when `work` has ended.
 */
export async function withPostgres<T>(name: string, work: (databaseUrl: string) => Promise<T>): Promise<T> {
  if (process.env.DATABASE_URL) return work(process.env.DATABASE_URL);
  const dataDir = mkdtempSync(path.join(os.tmpdir(), `vmops-bench-${name}-`));
  try {
    // As root, PostgreSQL runs as the postgres user, which must reach its data directory.
    chmodSync(dataDir, 0o755);
    const postgres = await startEmbeddedPostgres({ dataDir: path.join(dataDir, 'postgres'), port: await freePort() });
    try {
      return await work(postgres.url);
    } finally {
      await postgres.stop();
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/**
 * A connection to the stack's database for the bench's own statements: the client and type parsers of the API's pools,
 * so that a statement timed here as a baseline costs what it costs the API. Through pg's own Client, each result
 * outlived its read into the old generation, and the bench's collections paused it 7 ms every 40 pages (run 15).
 */
export async function withDatabase<T>(stack: BenchStack, work: (db: PgClient) => Promise<T>): Promise<T> {
  const db = new DatabaseClient({ connectionString: stack.databaseUrl, types: PG_TYPES });
  await db.connect();
  try {
    return await work(db);
  } finally {
    await db.end();
  }
}

/** Room for thousands of VMs on the stack's nodes, in the inventory and in the simulated hypervisor. */
export async function enlargeNodes(stack: BenchStack): Promise<string[]> {
  return withDatabase(stack, async (db) => {
    await db.query(`UPDATE nodes SET cpus = 100000, memory_mb = 1000000000, storage_gb = 1000000000`);
    await db.query(`UPDATE hypervisor_sim.nodes SET cpus = 100000, memory_mb = 1000000000, storage_gb = 1000000000`);
    return (await db.query(`SELECT id FROM nodes WHERE status = 'online' ORDER BY name`)).rows.map((r) => r.id as string);
  });
}

/** `count` running VMs of the demo tenant named `<prefix>-<i>`, spread over the online nodes. */
export async function seedRunningVms(stack: BenchStack, count: number, prefix: string): Promise<string[]> {
  // Written as rows, in the inventory and on the simulated nodes alike (creating thousands through the API measures
  // creation, not parking).
  return withDatabase(stack, async (db) => {
    const [{ id: tenantId }] = (await db.query(`SELECT id FROM tenants WHERE name = 'demo'`)).rows;
    const nodes = (await db.query(`SELECT id FROM nodes WHERE status = 'online' ORDER BY name`)).rows.map((r) => r.id as string);
    const { rows } = await db.query(
      `INSERT INTO vms (id, tenant_id, hostname, cpus, memory_mb, node_id, status)
       SELECT gen_random_uuid(), $1, $4::text || '-' || i, 1, 256, ($2::uuid[])[1 + i % array_length($2::uuid[], 1)], 'running'
         FROM generate_series(1, $3::int) i RETURNING id, node_id, hostname`,
      [tenantId, nodes, count, prefix],
    );
    await db.query(
      `INSERT INTO hypervisor_sim.vms (id, node_id, hostname, cpus, memory_mb, guest_agent, power_state, started_at)
       SELECT id::text, node_id::text, hostname, 1, 256, true, 'running', now() FROM vms WHERE id = ANY($1::uuid[])`,
      [rows.map((r) => r.id)],
    );
    return rows.map((r) => r.id as string);
  });
}

/** Creates `count` small VMs through the API, `parallel` at a time; resolves to their ids. */
export async function createVms(
  stack: BenchStack,
  count: number,
  options: { start: boolean; parallel?: number; prefix?: string; key?: string },
): Promise<string[]> {
  const key = options.key ?? stack.apiKey;
  const [{ id: templateId }] = (await api(stack, 'GET', '/v1/templates', undefined, key)).body.items;
  const ids: string[] = [];
  let next = 0;
  const lane = async () => {
    while (next < count) {
      const i = next++;
      const res = await postRetrying(
        stack,
        'POST',
        '/v1/vms',
        {
          hostname: `${options.prefix ?? 'bench'}-${i}-${Math.random().toString(36).slice(2, 7)}`,
          templateId,
          cpus: 1,
          memoryMb: 256,
          start: options.start,
        },
        undefined,
        key,
      );
      const done = await api(stack, 'GET', `/v1/operations/${res.body.id}/wait?timeout=120`, undefined, key);
      if (done.body.status !== 'succeeded') throw new Error(`vm.create ended ${done.body.status}: ${JSON.stringify(done.body.error)}`);
      ids.push(done.body.vmId);
    }
  };
  await Promise.all(Array.from({ length: options.parallel ?? 20 }, lane));
  return ids;
}

export function percentile(values: number[], p: number): number {
  if (!values.length) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

export const round = (x: number, digits = 2) => Math.round(x * 10 ** digits) / 10 ** digits;

/** Prints the rows as a table and writes them, with the run's settings, to bench/results/<name>.json. */
export function report(name: string, rows: Record<string, string | number>[], notes: Record<string, unknown> = {}): void {
  const columns = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  const width = columns.map((c) => Math.max(c.length, ...rows.map((r) => String(r[c] ?? '').length)));
  const line = (cells: string[]) => cells.map((cell, i) => cell.padEnd(width[i])).join('  ');
  console.log(`\n${name}${QUICK ? ' (--quick)' : ''}`);
  console.log(line(columns));
  console.log(line(width.map((w) => '-'.repeat(w))));
  for (const row of rows) console.log(line(columns.map((c) => String(row[c] ?? ''))));
  const dir = path.join(ROOT, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    path.join(dir, `${name}.json`),
    JSON.stringify({ name, quick: QUICK, at: new Date().toISOString(), cpus: os.cpus().length, rows, ...notes }, null, 2) + '\n',
  );
}
