import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { SEARCH_ATTRIBUTE_NAMES } from '../libs/contracts/src/temporal';
import { waitForPort } from './net';

const REPO_ROOT = path.resolve(__dirname, '..').replace(/[\\/]dist$/, '');
const WITH_PARENT = path.join(REPO_ROOT, 'scripts', 'with-parent.mjs');

/**
 * The Temporal CLI: $TEMPORAL_CLI, `temporal` on PATH, or the one scripts/install-temporal-cli.sh put in
 * the project's venv.
 */
export function resolveTemporalCli(): string {
  if (process.env.TEMPORAL_CLI) return process.env.TEMPORAL_CLI;
  const onPath = spawnSync('sh', ['-c', 'command -v temporal'], { encoding: 'utf8' });
  if (onPath.status === 0 && onPath.stdout.trim()) return onPath.stdout.trim();
  const local = path.join(REPO_ROOT, '.tools', 'venv', 'bin', 'temporal');
  if (existsSync(local)) return local;
  throw new Error('the Temporal CLI was not found: run scripts/install-temporal-cli.sh, or set TEMPORAL_CLI');
}

export type DynamicConfigValue = number | boolean;

/**
 * Dynamic configuration the stack's Temporal server runs with (docker/temporal-dynamicconfig.yaml holds the same for
 * docker-compose).
 * - The history service's queue processors read their queues at most 20 times a second by default, which on a
 *   one-shard dev server puts tens of milliseconds on every workflow task and every activity dispatched to another
 *   task queue (docs/performance.md has the figures); the first two lift that throttle.
 * - Fairness: every operation starts with its tenant as its fairness key (operationPriority), and with these the
 *   matching service dispatches a backlog in turn by key, not first in, first out: one tenant's burst of a thousand
 *   operations does not put every other tenant's behind it (`npm run bench:fairness`).
 * - Every task is written to its queue's root partition (of the four a queue has by default; all four are still read,
 *   so a backlog written before drains). Fairness holds within a partition, so it now holds across the whole queue;
 *   and at 1,000 operations at once the matcher hands out a keyed backlog as fast as bare's (0.97–0.98× bare, was
 *   0.76–0.84×: docs/performance.md, run 13). One server on one machine gains nothing from spreading a queue.
 */
export const TEMPORAL_DYNAMIC_CONFIG: Readonly<Record<string, DynamicConfigValue>> = {
  'history.transferProcessorMaxPollRPS': 1000,
  'history.timerProcessorMaxPollRPS': 1000,
  'matching.useNewMatcher': true,
  'matching.enableFairness': true,
  'matching.numTaskqueueWritePartitions': 1,
};

/**
 * `key=value` pairs separated by commas (TEMPORAL_DEV_DYNAMIC_CONFIG), on top of TEMPORAL_DYNAMIC_CONFIG: e.g.
 * `matching.enableFairness=false` for first-in-first-out dispatch. A value is a number, true or false.
 */
export function parseDynamicConfig(text: string | undefined): Record<string, DynamicConfigValue> {
  const config: Record<string, DynamicConfigValue> = {};
  for (const pair of (text ?? '')
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)) {
    const match = /^([\w.]+)=(true|false|-?\d+(?:\.\d+)?)$/.exec(pair);
    if (!match) throw new Error(`TEMPORAL_DEV_DYNAMIC_CONFIG: "${pair}" is not key=value with a number, true or false as its value`);
    config[match[1]] = match[2] === 'true' ? true : match[2] === 'false' ? false : Number(match[2]);
  }
  return config;
}

/**
 * SQLite settings of the stack's Temporal server when it keeps its state in a file. Write-ahead logging with
 * `synchronous=NORMAL` syncs at checkpoints instead of on every commit: a killed server loses nothing (the log is
 * in the file); a power cut or an OS crash may lose the last transactions. With the default (a journal synced on
 * every commit) each workflow task and activity costs a sync, and the dev server spends most of its time there.
 */
export const TEMPORAL_SQLITE_PRAGMAS: Readonly<Record<string, string>> = {
  journal_mode: 'wal',
  synchronous: 'normal',
};

export interface TemporalDevServerOptions {
  cli?: string;
  ip?: string;
  port: number;
  /** Web UI port; omit for a headless server. */
  uiPort?: number;
  /** SQLite file for durable state; omit for an in-memory server. */
  dbFile?: string;
  log?: (line: string) => void;
  startTimeoutMs?: number;
  /** On top of TEMPORAL_DYNAMIC_CONFIG (a value of null leaves the server's default). */
  dynamicConfig?: Record<string, DynamicConfigValue | null>;
  /** With dbFile: instead of TEMPORAL_SQLITE_PRAGMAS ({} for SQLite's defaults). */
  sqlitePragmas?: Record<string, string>;
}

export interface TemporalDevServer {
  address: string;
  process: ChildProcess;
  stop(): Promise<void>;
}

/** `temporal server start-dev` with the project's search attributes registered. */
export async function startTemporalDevServer(options: TemporalDevServerOptions): Promise<TemporalDevServer> {
  const ip = options.ip ?? '127.0.0.1';
  const args = ['server', 'start-dev', '--ip', ip, '--port', String(options.port), '--log-level', 'warn'];
  args.push(...(options.uiPort ? ['--ui-port', String(options.uiPort)] : ['--headless']));
  if (options.dbFile) {
    args.push('--db-filename', options.dbFile);
    for (const [pragma, value] of Object.entries(options.sqlitePragmas ?? TEMPORAL_SQLITE_PRAGMAS))
      args.push('--sqlite-pragma', `${pragma}=${value}`);
  }
  for (const name of SEARCH_ATTRIBUTE_NAMES) args.push('--search-attribute', `${name}=Keyword`);
  for (const [key, value] of Object.entries({ ...TEMPORAL_DYNAMIC_CONFIG, ...options.dynamicConfig })) {
    if (value !== null) args.push('--dynamic-config-value', `${key}=${value}`);
  }

  // Through a wrapper that ends it with this process, even a SIGKILLed one (it holds the wrapper's stdin).
  const child = spawn(process.execPath, [WITH_PARENT, options.cli ?? resolveTemporalCli(), ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  const log = options.log ?? (() => undefined);
  child.stdout?.on('data', (chunk: Buffer) => chunk.toString().split('\n').filter(Boolean).forEach(log));
  child.stderr?.on('data', (chunk: Buffer) => chunk.toString().split('\n').filter(Boolean).forEach(log));
  let exited = false;
  const exit = new Promise<void>((resolve) =>
    child.once('exit', () => {
      exited = true;
      resolve();
    }),
  );

  const stop = async () => {
    if (exited) return;
    child.kill('SIGTERM');
    const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exit;
    clearTimeout(killer);
  };

  try {
    await waitForPort(ip, options.port, options.startTimeoutMs ?? 60_000, () => !exited);
  } catch (err) {
    await stop();
    throw err;
  }
  return { address: `${ip}:${options.port}`, process: child, stop };
}
