import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Harness } from './harness';

const ROOT = path.resolve(__dirname, '..', '..');
const AGENT = path.join(ROOT, 'dist', 'apps', 'agent', 'src', 'main.js');

/**
 * A node agent as the stack runs it: a process of its own (the built dist/), serving every node of the harness's
 * world on its queue. Resolves once it polls every node's task queue.
 */
export function startAgentProcess(h: Harness): Promise<ChildProcess> {
  if (!existsSync(AGENT)) throw new Error('dist/ is missing: run scripts/install.sh (scripts/test.sh does) first');
  const proc = spawn(process.execPath, ['-r', path.join(ROOT, 'scripts', 'register-paths.js'), AGENT], {
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
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the agent did not start:\n${out}`)), 30_000);
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      if ((out.match(/polls task queue/g) ?? []).length === h.world.nodeIds.length) {
        clearTimeout(timer);
        resolve(proc);
      }
    };
    proc.stdout!.on('data', onData);
    proc.stderr!.on('data', onData);
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the agent exited with ${code}:\n${out}`));
    });
  });
}

/** Ends the agent (SIGKILL: no goodbye, as a crash) and waits for it to be gone. */
export async function stopAgentProcess(agent: ChildProcess | null, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
  if (!agent || agent.exitCode !== null || agent.signalCode !== null) return;
  await new Promise<void>((resolve) => {
    agent.once('exit', () => resolve());
    agent.kill(signal);
  });
}
