import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';

/** The README's stack (`scripts/stack.sh` after the install step), run from the built dist/ as a user runs it. */
const ROOT = path.resolve(__dirname, '..', '..');
export const STACK_SCRIPT = path.join(ROOT, 'dist', 'scripts', 'stack.js');

export interface StackProcess {
  proc: ChildProcess;
  output(): string;
  /** The admin key the stack printed. */
  adminKey(): string;
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
