import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Harness } from './harness';

const ROOT = path.resolve(__dirname, '..', '..');

/** What each app prints once it serves (the agent: once per node it polls for). */
const READY: Record<App, RegExp> = {
  agent: /polls task queue/g,
  api: /API listening on/g,
  worker: /worker polling task queue/g,
};

export type App = 'agent' | 'api' | 'worker';

/**
 * One of the apps as the stack runs it: a process of its own (the built dist/), on the harness's database,
 * Temporal server, task queue and simulated world (an agent serves every node of it). Resolves once it serves.
 */
export function startAppProcess(h: Harness, app: App, env: NodeJS.ProcessEnv = {}): Promise<ChildProcess> {
  const main = path.join(ROOT, 'dist', 'apps', app, 'src', 'main.js');
  if (!existsSync(main)) throw new Error('dist/ is missing: run scripts/install.sh (scripts/test.sh does) first');
  const proc = spawn(process.execPath, ['-r', path.join(ROOT, 'scripts', 'register-paths.js'), main], {
    cwd: ROOT,
    env: {
      ...process.env,
      DATABASE_URL: h.config.databaseUrl,
      SIM_SCHEMA: h.config.simulator.schema,
      SIM_GUEST_SHUTDOWN_MS: '100',
      SIM_TRANSFER_STEP_MS: '10',
      TEMPORAL_ADDRESS: h.config.temporalAddress,
      TEMPORAL_TASK_QUEUE: h.config.temporalTaskQueue,
      AGENT_NODE_IDS: h.world.nodeIds.join(','),
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const times = app === 'agent' ? h.world.nodeIds.length : 1;
  let out = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the ${app} did not start:\n${out}`)), 30_000);
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      if ((out.match(READY[app]) ?? []).length === times) {
        clearTimeout(timer);
        resolve(proc);
      }
    };
    proc.stdout!.on('data', onData);
    proc.stderr!.on('data', onData);
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the ${app} exited with ${code}:\n${out}`));
    });
  });
}

/** The agent of every node of the harness's world, as a process of its own. */
export const startAgentProcess = (h: Harness) => startAppProcess(h, 'agent');

/** Ends the process (SIGKILL: no goodbye, as a crash) and waits for it to be gone. */
export async function stopAppProcess(proc: ChildProcess | null, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
  if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
  await new Promise<void>((resolve) => {
    proc.once('exit', () => resolve());
    proc.kill(signal);
  });
}
