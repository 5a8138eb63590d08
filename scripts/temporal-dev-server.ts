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
  if (options.dbFile) args.push('--db-filename', options.dbFile);
  for (const name of SEARCH_ATTRIBUTE_NAMES) args.push('--search-attribute', `${name}=Keyword`);

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
