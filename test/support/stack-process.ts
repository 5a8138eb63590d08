import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../../scripts/net';
import { unwrap, waitForOperation, type Operation } from '@vmops/client';
import { checkedBody, checkedClient } from './openapi-check';

/** The README's stack (`scripts/stack.sh` after the install step), run from the built dist/ as a user runs it. */
const ROOT = path.resolve(__dirname, '..', '..');
export const STACK_SCRIPT = path.join(ROOT, 'dist', 'scripts', 'stack.js');

export interface StackProcess {
  proc: ChildProcess;
  output(): string;
  /** The admin key the stack printed. */
  adminKey(): string;
}

/** A data directory for a stack of its own, which the database (run as `postgres` when root) can reach. */
export function stackDataDir(prefix: string): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  chmodSync(dir, 0o755);
  return dir;
}

/**
 * The environment of a stack of its own, as a user starts it with nothing set: `dataDir`, free ports, the
 * embedded database and Temporal server; `extra` on top.
 */
export async function stackEnv(dataDir: string, extra: NodeJS.ProcessEnv): Promise<NodeJS.ProcessEnv> {
  if (!existsSync(STACK_SCRIPT)) throw new Error('dist/ is missing: run scripts/install.sh (scripts/test.sh does) first');
  return {
    VMOPS_DATA_DIR: dataDir,
    PORT: String(await freePort()),
    TEMPORAL_PORT: String(await freePort()),
    TEMPORAL_UI_PORT: String(await freePort()),
    POSTGRES_PORT: String(await freePort()),
    DATABASE_URL: '',
    TEMPORAL_ADDRESS: '',
    ...extra,
  };
}

/** Starts the stack in a process group of its own (so a test can SIGKILL the whole group, as a crash would). */
export function startStack(env: NodeJS.ProcessEnv): Promise<StackProcess> {
  const proc = spawn(process.execPath, ['-r', path.join(ROOT, 'scripts', 'register-paths.js'), STACK_SCRIPT], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let out = '';
  proc.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  proc.stderr!.on('data', (c: Buffer) => (out += c.toString()));
  const stack: StackProcess = {
    proc,
    output: () => out,
    adminKey: () => {
      const key = /Admin key\s+(\S+)/.exec(out)?.[1];
      if (!key) throw new Error('the stack printed no admin key');
      return key;
    },
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the stack did not come up in time:\n${out.slice(-3000)}`)), 120_000);
    proc.stdout!.on('data', () => {
      if (out.includes('vmops is running')) {
        clearTimeout(timer);
        resolve(stack);
      }
    });
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the stack exited with ${code}:\n${out.slice(-3000)}`));
    });
  });
}

/** Ctrl-C, as a user stops it; resolves with the exit code. */
export function stopStack(stack: StackProcess): Promise<number | null> {
  if (stack.proc.exitCode !== null || stack.proc.signalCode !== null) return Promise.resolve(stack.proc.exitCode);
  return new Promise((resolve) => {
    stack.proc.once('exit', (code) => resolve(code));
    stack.proc.kill('SIGINT');
  });
}

/** SIGKILL of the stack's whole process group: nothing gets to clean up. */
export async function killStack(stack: StackProcess): Promise<void> {
  if (stack.proc.exitCode !== null || stack.proc.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => stack.proc.once('exit', () => resolve()));
  process.kill(-stack.proc.pid!, 'SIGKILL');
  await exited;
}

export interface Reply {
  status: number;
  body: any;
}

/** A client of the stack's API on `port()`: JSON in and out, and a wait for an operation to end. */
export function apiClient(port: () => string | number | undefined) {
  const call = async (
    key: string | null,
    method: string,
    p: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<Reply> => {
    const res = await fetch(`http://127.0.0.1:${port()}${p}`, {
      method,
      headers: {
        ...(key ? { authorization: `Bearer ${key}` } : {}),
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...headers,
      },
      body: body !== undefined ? JSON.stringify(body) : undefined,
    });
    return { status: res.status, body: checkedBody(method, p, res.status, await res.text()) };
  };
  /** The operation's end, through the typed client's long-poll (5 s a call, 25 minutes at most). */
  const waitFor = async (key: string, operationId: string): Promise<Operation> =>
    waitForOperation(checkedClient(`http://127.0.0.1:${port()}`, key), operationId, { pollSeconds: 5, totalSeconds: 1500 });
  /** The typed client (@vmops/client) on the stack, with this key. */
  const typed = (key: string) => checkedClient(`http://127.0.0.1:${port()}`, key);
  return { call, waitFor, typed, unwrap };
}
