import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { startHarness, type Harness } from './support/harness';

/**
 * A node's agent is a process of its own on the hypervisor host. Killing it (SIGKILL: no goodbye) in the middle
 * of a driver step must not lose the operation: once an agent polls the node's queue again, the step is
 * retried (it is idempotent) and the operation completes, leaving nothing orphaned on the node.
 */
const ROOT = path.resolve(__dirname, '..');
const AGENT = path.join(ROOT, 'dist', 'apps', 'agent', 'src', 'main.js');

describe('node agent killed mid-operation', () => {
  let h: Harness;
  let agent: ChildProcess | null = null;

  function startAgent(): Promise<ChildProcess> {
    const proc = spawn(process.execPath, ['-r', path.join(ROOT, 'scripts', 'register-paths.js'), AGENT], {
      cwd: ROOT,
      env: {
        ...process.env,
        DATABASE_URL: h.config.databaseUrl,
        SIM_SCHEMA: h.config.simulator.schema,
        SIM_GUEST_SHUTDOWN_MS: '100',
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

  beforeAll(async () => {
    if (!existsSync(AGENT)) throw new Error('dist/ is missing: run scripts/install.sh (scripts/test.sh does) first');
    h = await startHarness({ agentNodes: () => [] });
  });
  afterAll(async () => {
    if (agent && agent.exitCode === null && agent.signalCode === null) {
      const running = agent;
      await new Promise<void>((resolve) => {
        running.once('exit', () => resolve());
        running.kill('SIGTERM');
      });
    }
    await h?.close();
  });

  it('retries the step the killed agent was running once it is back, and the audit finds no orphan', async () => {
    agent = await startAgent();
    const { apiKey } = await h.newTenant();
    const nodeId = h.world.nodeIds[0];
    await h.sim.setLatency({ method: 'defineVm', ms: 3000 });

    const res = await h.call('POST', '/v1/vms', {
      key: apiKey,
      body: { hostname: 'crash-1', templateId: h.world.templateId, cpus: 1, memoryMb: 512, nodeId },
    });
    expect(res.status).toBe(202);
    while (!(await h.sim.callCount('defineVm'))) await new Promise((r) => setTimeout(r, 50));

    const killed = agent;
    await new Promise<void>((resolve) => {
      killed.once('exit', () => resolve());
      killed.kill('SIGKILL');
    });
    await h.sim.clearLatency();
    // With no agent, nothing moves: the operation waits, neither failed nor compensated.
    await new Promise((r) => setTimeout(r, 1500));
    expect((await h.call('GET', `/v1/operations/${res.body.id}`, { key: apiKey })).body.status).toBe('running');

    agent = await startAgent();
    const op = await h.waitForOperation(apiKey, res.body.id, 60_000);
    expect(op.status).toBe('succeeded');
    expect(op.steps.find((s) => s.name === 'defineVm')?.attempts).toBeGreaterThanOrEqual(2);

    const vm = (await h.hypervisor.audit(nodeId)).vms.find((v) => v.vmId === res.body.vmId);
    expect(vm).toMatchObject({ powerState: 'running', hostname: 'crash-1' });
    for (const node of h.world.nodeIds) {
      const { diff } = await h.auditNode(node);
      expect(diff).toEqual({ clean: true, orphans: [], missing: [], mismatches: [], skipped: [] });
    }
  });
});
