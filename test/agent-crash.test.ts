import type { ChildProcess } from 'node:child_process';
import { startAgentProcess, stopAppProcess } from './support/app-process';
import { startHarness, type Harness } from './support/harness';

/**
 * A node's agent is a process of its own on the hypervisor host. Killing it (SIGKILL: no goodbye) in the middle
 * of a driver step must not lose the operation: once an agent polls the node's queue again, the step is
 * retried (it is idempotent) and the operation completes, leaving nothing orphaned on the node.
 */
describe('node agent killed mid-operation', () => {
  let h: Harness;
  let agent: ChildProcess | null = null;

  beforeAll(async () => {
    h = await startHarness({ agentNodes: () => [] });
  });
  afterAll(async () => {
    await stopAppProcess(agent, 'SIGTERM');
    await h?.close();
  });

  it('retries the step the killed agent was running once it is back, and the audit finds no orphan', async () => {
    agent = await startAgentProcess(h);
    const { apiKey } = await h.newTenant();
    const nodeId = h.world.nodeIds[0];
    await h.sim.setLatency({ method: 'defineVm', ms: 3000 });

    const res = await h.call('POST', '/v1/vms', {
      key: apiKey,
      body: { hostname: 'crash-1', templateId: h.world.templateId, cpus: 1, memoryMb: 512, nodeId },
    });
    expect(res.status).toBe(202);
    while (!(await h.sim.callCount('defineVm'))) await new Promise((r) => setTimeout(r, 50));

    await stopAppProcess(agent);
    await h.sim.clearLatency();
    // With no agent, nothing moves: the operation waits, neither failed nor compensated.
    await new Promise((r) => setTimeout(r, 1500));
    expect((await h.call('GET', `/v1/operations/${res.body.id}`, { key: apiKey })).body.status).toBe('running');

    agent = await startAgentProcess(h);
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
