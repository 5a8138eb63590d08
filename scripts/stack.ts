import 'reflect-metadata';
import { generateApiKey } from '@vmops/domain';
import { createDataSource, runMigrations, seedDemo } from '@vmops/persistence';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startEmbeddedPostgres, type EmbeddedPostgres } from './embedded-postgres';
import { parseDynamicConfig, startTemporalDevServer, type TemporalDevServer } from './temporal-dev-server';

/**
 * The whole stack on one machine: Temporal dev server + Web UI, PostgreSQL (embedded unless DATABASE_URL
 * is set), migrations and seed, the worker, one agent per node (over the simulated hypervisor, or QEMU for the
 * nodes VMOPS_QEMU_NODES names) and the API.
 * Every one of them is started again when it dies (see onDeath). Ctrl-C stops it all.
 */
const ROOT = path.resolve(__dirname, '..', '..');
const DIST = path.join(ROOT, 'dist');
const DATA_DIR = path.resolve(ROOT, process.env.VMOPS_DATA_DIR ?? '.data');
const API_PORT = Number(process.env.PORT ?? 3000);
const TEMPORAL_PORT = Number(process.env.TEMPORAL_PORT ?? 7233);
const TEMPORAL_UI_PORT = Number(process.env.TEMPORAL_UI_PORT ?? 8233);
const POSTGRES_PORT = Number(process.env.POSTGRES_PORT ?? 54329);
/** On top of the dev server's TEMPORAL_DYNAMIC_CONFIG: `key=value,…` (e.g. `matching.enableFairness=false`). */
const TEMPORAL_EXTRA_CONFIG = parseDynamicConfig(process.env.TEMPORAL_DEV_DYNAMIC_CONFIG);

const children: { name: string; proc: ChildProcess }[] = [];
let temporal: TemporalDevServer | null = null;
let postgres: EmbeddedPostgres | null = null;
let stopping = false;

function log(name: string, line: string): void {
  console.log(`${`[${name}]`.padEnd(14)} ${line}`);
}

/** A process that dies this soon after it started has not come up: five times in a row is a crash loop. */
const CRASH_LOOP = { withinMs: 10_000, times: 5 };

/**
 * What to do when a process of the stack died: after 1 s, doubling up to 30 s while it keeps dying young, start
 * it again (`restart`, given the young deaths so far); a crash loop (CRASH_LOOP) stops the stack, saying so.
 */
function onDeath(name: string, startedAt: number, youngDeaths: number, how: string, restart: (youngDeaths: number) => unknown): void {
  if (stopping) return;
  const young = Date.now() - startedAt < CRASH_LOOP.withinMs ? youngDeaths + 1 : 0;
  if (young >= CRASH_LOOP.times) {
    log(name, `exited ${young} times in a row within ${CRASH_LOOP.withinMs / 1000} s of starting (last: ${how}); stopping the stack`);
    void shutdown(1);
    return;
  }
  const delayMs = Math.min(30_000, 1000 * 2 ** Math.max(0, young - 1));
  log(name, `exited unexpectedly (${how}); restarting it in ${delayMs / 1000} s`);
  setTimeout(() => stopping || restart(young), delayMs);
}

/**
 * Starts a process of the stack and, as a host supervisor (systemd) would, starts it again when it dies: after
 * 1 s, doubling up to 30 s while it keeps dying young. A crash loop (CRASH_LOOP) stops the stack, saying so.
 * Each process stops with the stack, even a SIGKILLed one (scripts/exit-with-parent.js).
 */
function run(name: string, script: string, env: NodeJS.ProcessEnv, youngDeaths = 0): void {
  const startedAt = Date.now();
  const proc = spawn(
    process.execPath,
    [
      '-r',
      path.join(ROOT, 'scripts', 'register-paths.js'),
      '-r',
      path.join(ROOT, 'scripts', 'exit-with-parent.js'),
      path.join(DIST, script),
    ],
    { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] },
  );
  for (const stream of [proc.stdout, proc.stderr]) {
    stream?.on('data', (chunk: Buffer) =>
      chunk
        .toString()
        .split('\n')
        .filter(Boolean)
        .forEach((l) => log(name, l)),
    );
  }
  proc.once('exit', (code, signal) => {
    if (stopping) return;
    children.splice(
      children.findIndex((c) => c.proc === proc),
      1,
    );
    onDeath(name, startedAt, youngDeaths, signal ?? `code ${code}`, (young) => run(name, script, env, young));
  });
  children.push({ name, proc });
}

/** From the environment variable, else the one kept in the data dir, else a new one kept there. */
function demoKey(variable: string, fileName: string): string {
  if (process.env[variable]?.trim()) return process.env[variable]!.trim();
  const file = path.join(DATA_DIR, fileName);
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  const key = generateApiKey();
  writeFileSync(file, key + '\n', { mode: 0o600 });
  return key;
}

/** A path as printed: relative to the project when it is inside it. */
function shortPath(p: string): string {
  const rel = path.relative(ROOT, p);
  return rel && !rel.startsWith('..') ? rel : p;
}

/** The URL as printed: its password stays in the data dir (or the caller's environment). */
function redactPassword(url: string): string {
  const u = new URL(url);
  if (u.password) u.password = '***';
  return u.toString();
}

async function waitForHealth(url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    try {
      const res = await fetch(url);
      if (res.ok) return;
      last = `${res.status} ${await res.text()}`;
    } catch (err) {
      last = err instanceof Error ? err.message : String(err);
    }
    await sleep(500);
  }
  throw new Error(`${url} did not report healthy: ${last}`);
}

/** A restart that could not even start: the stack cannot go on without it. */
function fail(name: string, err: unknown): void {
  log(name, `could not be started again: ${err instanceof Error ? err.message : err}; stopping the stack`);
  void shutdown(1);
}

async function shutdown(code: number): Promise<never> {
  if (!stopping) {
    stopping = true;
    console.log('stopping the stack…');
    for (const { proc } of [...children].reverse()) {
      if (proc.exitCode !== null || proc.signalCode !== null) continue;
      proc.kill('SIGTERM');
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          proc.kill('SIGKILL');
          resolve();
        }, 15_000);
        proc.once('exit', () => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    await temporal?.stop();
    await postgres?.stop();
  }
  process.exit(code);
}

async function main(): Promise<void> {
  process.once('SIGINT', () => void shutdown(0));
  process.once('SIGTERM', () => void shutdown(0));
  mkdirSync(DATA_DIR, { recursive: true });

  // The database and Temporal are supervised like the rest: started again, on the same port and data, when they
  // die; meanwhile the API answers 503 and the workflows and activities wait and retry.
  let databaseUrl = process.env.DATABASE_URL;
  if (!databaseUrl) {
    const startPostgres = async (youngDeaths: number): Promise<void> => {
      const startedAt = Date.now();
      const server = await startEmbeddedPostgres({
        dataDir: path.join(DATA_DIR, 'postgres'),
        port: POSTGRES_PORT,
        // The server's routine chatter stays out of the stack's output; what needs a look does not.
        log: (line) => /\b(WARNING|ERROR|FATAL|PANIC)\b|did not start|left running|stale lock/.test(line) && log('postgres', line),
      });
      postgres = server;
      server.process.once('exit', (code, signal) =>
        onDeath('postgres', startedAt, youngDeaths, signal ?? `code ${code}`, (young) =>
          startPostgres(young).catch((err) => fail('postgres', err)),
        ),
      );
      log('postgres', `PostgreSQL ready on 127.0.0.1:${POSTGRES_PORT} in ${server.startMs} ms`);
    };
    await startPostgres(0);
    databaseUrl = postgres!.url;
  }

  let temporalAddress = process.env.TEMPORAL_ADDRESS;
  if (!temporalAddress) {
    const startTemporal = async (youngDeaths: number): Promise<void> => {
      const startedAt = Date.now();
      const server = await startTemporalDevServer({
        port: TEMPORAL_PORT,
        uiPort: TEMPORAL_UI_PORT,
        dbFile: path.join(DATA_DIR, 'temporal.sqlite'),
        dynamicConfig: TEMPORAL_EXTRA_CONFIG,
        log: (line) => log('temporal', line),
      });
      temporal = server;
      server.process.once('exit', (code, signal) =>
        onDeath('temporal', startedAt, youngDeaths, signal ?? `code ${code}`, (young) =>
          startTemporal(young).catch((err) => fail('temporal', err)),
        ),
      );
    };
    await startTemporal(0);
    temporalAddress = temporal!.address;
  }
  const temporalUiUrl = process.env.TEMPORAL_UI_URL ?? `http://localhost:${TEMPORAL_UI_PORT}`;

  const apiKey = demoKey('DEMO_API_KEY', 'demo-api-key');
  const adminKey = demoKey('DEMO_ADMIN_API_KEY', 'demo-admin-api-key');
  const dataSource = await createDataSource({ databaseUrl, poolSize: 1 }).initialize();
  let nodes: { id: string; name: string; cpus: number; memory_mb: number; storage_gb: number }[];
  let baseImages: { id: string; disk_size_gb: number }[];
  try {
    const ran = await runMigrations(dataSource);
    log('stack', ran.length ? `applied migrations: ${ran.join(', ')}` : 'database schema is up to date');
    await seedDemo(dataSource, apiKey, adminKey);
    nodes = await dataSource.query(`SELECT id, name, cpus, memory_mb, storage_gb FROM nodes WHERE status <> 'offline' ORDER BY name`);
    // The public templates that are not captured from a VM: a QEMU node's image store needs a base image of each.
    baseImages = await dataSource.query(
      `SELECT id, disk_size_gb FROM templates WHERE tenant_id IS NULL AND node_id IS NULL AND source_vm_id IS NULL ORDER BY name`,
    );
  } finally {
    await dataSource.destroy();
  }

  const env = {
    DATABASE_URL: databaseUrl,
    TEMPORAL_ADDRESS: temporalAddress,
    TEMPORAL_UI_URL: temporalUiUrl,
    PORT: String(API_PORT),
    SIM_LATENCY_MS: process.env.SIM_LATENCY_MS ?? '1500',
  };
  run('worker', 'apps/worker/src/main.js', env);
  // One agent per node, as on real hosts; each reports its node's inventory capacity. The nodes VMOPS_QEMU_NODES
  // names (e.g. node-2) run on QEMU: their state and image store under .data/qemu.
  const qemuNodes = (process.env.VMOPS_QEMU_NODES ?? '')
    .split(',')
    .map((n) => n.trim())
    .filter(Boolean);
  const unknown = qemuNodes.filter((name) => !nodes.some((n) => n.name === name));
  if (unknown.length)
    throw new Error(
      `VMOPS_QEMU_NODES names no node of the inventory: ${unknown.join(', ')} (nodes: ${nodes.map((n) => n.name).join(', ')})`,
    );
  for (const node of nodes) {
    const qemu = qemuNodes.includes(node.name);
    run(`agent:${node.name}`, 'apps/agent/src/main.js', {
      ...env,
      AGENT_NODE_IDS: node.id,
      SIM_NODE_CPUS: String(node.cpus),
      SIM_NODE_MEMORY_MB: String(node.memory_mb),
      SIM_NODE_STORAGE_GB: String(node.storage_gb),
      ...(qemu
        ? {
            AGENT_DRIVER: 'qemu',
            QEMU_ROOT: process.env.QEMU_ROOT ?? path.join(DATA_DIR, 'qemu'),
            QEMU_GUEST_KERNEL: path.join(ROOT, '.tools/qemu-guest/vmlinux'),
            QEMU_GUEST_INITRD: path.join(ROOT, '.tools/qemu-guest/initramfs.gz'),
            QEMU_BASE_IMAGES: baseImages.map((t) => `${t.id}:${t.disk_size_gb}`).join(','),
          }
        : {}),
    });
  }
  run('api', 'apps/api/src/main.js', env);
  await waitForHealth(`http://127.0.0.1:${API_PORT}/health`, 60_000);

  console.log(`
  vmops is running
    API          http://localhost:${API_PORT}/v1
    Swagger UI   http://localhost:${API_PORT}/docs
    Health       http://localhost:${API_PORT}/health
    Temporal UI  ${temporalUiUrl}
    Database     ${process.env.DATABASE_URL ? redactPassword(databaseUrl) : `${redactPassword(databaseUrl)} (embedded PostgreSQL, data in ${shortPath(path.join(DATA_DIR, 'postgres'))})`}
    Demo API key ${apiKey}
    Admin key    ${adminKey}  (nodes, templates, resets, node audits, simulator faults)
    Node agents  ${nodes.map((n) => `${n.name}${qemuNodes.includes(n.name) ? ' (QEMU)' : ''}`).join(', ')}

  Ctrl-C stops everything; state is kept in ${shortPath(DATA_DIR)}/.
`);
}

main().catch(async (err) => {
  console.error(err instanceof Error ? err.message : err);
  await shutdown(1);
});
