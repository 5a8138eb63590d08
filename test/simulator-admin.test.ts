import { startHarness, type Harness } from './support/harness';
import { recordHistory } from './support/histories';

/** Operators and tests drive the simulated hypervisor over HTTP: faults, latency, calls; and audit any node. */
describe('admin: simulator controls and node audit', () => {
  let h: Harness;
  let admin: string;
  let member: string;

  beforeAll(async () => {
    h = await startHarness();
    admin = (await h.newTenant('admin')).apiKey;
    member = (await h.newTenant()).apiKey;
  });
  afterAll(() => h?.close());
  afterEach(() => h.resetFaults());

  const create = (hostname: string) =>
    h.call('POST', '/v1/vms', { key: member, body: { hostname, templateId: h.world.templateId, cpus: 1, memoryMb: 512 } });

  it('fails exactly the call a fault names, and the saga undoes that operation only', async () => {
    // "Fail the 2nd call of startVm, for good."
    const fault = await h.call('POST', '/v1/admin/simulator/faults', {
      key: admin,
      body: { method: 'startVm', skipCalls: 1, failCalls: 1, error: 'invalid_state', message: 'host refused' },
    });
    expect(fault.status).toBe(201);

    const statuses = [];
    for (const name of ['fault-a', 'fault-b', 'fault-c']) {
      const res = await create(name);
      statuses.push((await h.waitForOperation(member, res.body.id)).status);
    }
    expect(statuses).toEqual(['succeeded', 'compensated', 'succeeded']);

    const listed = await h.call('GET', '/v1/admin/simulator/faults', { key: admin });
    expect(listed.body.items).toEqual([expect.objectContaining({ id: fault.body.id, method: 'startVm', seen: 3, failed: 1 })]);
    expect((await h.call('GET', '/v1/admin/simulator/calls?method=startVm', { key: admin })).body.count).toBe(3);

    for (const nodeId of h.world.nodeIds) expect((await h.auditNode(nodeId)).diff.clean).toBe(true);
    expect((await h.call('DELETE', `/v1/admin/simulator/faults/${fault.body.id}`, { key: admin })).status).toBe(204);
    expect((await h.call('DELETE', `/v1/admin/simulator/faults/${fault.body.id}`, { key: admin })).status).toBe(404);
  });

  it('retries a transient fault until it is spent', async () => {
    await h.call('POST', '/v1/admin/simulator/faults', { key: admin, body: { method: 'createDiskFromTemplate', failCalls: 2 } });
    const res = await create('transient-a');
    const op = await h.waitForOperation(member, res.body.id);
    expect(op.status).toBe('succeeded');
    expect(op.steps[0]).toMatchObject({ name: 'createSystemDisk', attempts: 3 });
  });

  it('refuses bad fault and latency specs with 400, and non-admins with 403', async () => {
    const bad = await h.call('POST', '/v1/admin/simulator/faults', { key: admin, body: { method: 'format', probability: 2 } });
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toMatch(/method must be "\*" or a driver method/);
    expect(bad.body.error.message).toMatch(/probability/);
    expect((await h.call('PUT', '/v1/admin/simulator/latency', { key: admin, body: { method: '*', ms: -1 } })).status).toBe(400);
    expect((await h.call('GET', '/v1/admin/simulator/faults', { key: member })).status).toBe(403);
    expect((await h.call('GET', '/v1/admin/simulator/faults', { key: admin })).body.items).toEqual([]);
  });

  it('sets latency per method', async () => {
    const set = await h.call('PUT', '/v1/admin/simulator/latency', { key: admin, body: { method: 'getVm', ms: 250 } });
    expect(set.body.items).toEqual([{ method: 'getVm', nodeId: null, ms: 250 }]);
    expect((await h.call('DELETE', '/v1/admin/simulator/latency', { key: admin })).status).toBe(204);
  });

  it('audits a node through its agent and names what the inventory does not know', async () => {
    const nodeId = h.world.nodeIds[0];
    await h.hypervisor.createBlankDisk(nodeId, { diskId: 'leaked-disk', sizeGb: 1 });
    const res = await h.call('GET', `/v1/admin/nodes/${nodeId}/audit`, { key: admin });
    expect(res.status).toBe(200);
    expect(res.body.node).toEqual({ id: nodeId, name: 'node-1' });
    expect(res.body.diff.orphans).toEqual([{ kind: 'disk', id: 'leaked-disk' }]);
    expect(res.body.audit.disks.map((d: { diskId: string }) => d.diskId)).toContain('leaked-disk');
    for await (const wf of h.temporal.workflow.list({ query: `WorkflowType = 'readNodeWorkflow' AND NodeId = '${nodeId}'` })) {
      await recordHistory(h.temporal, wf.workflowId, 'read-node.audit');
      break;
    }
    await h.hypervisor.deleteDisk(nodeId, 'leaked-disk');
  });

  it("answers 503 naming the node when the node's agent does not poll", async () => {
    const node = await h.call('POST', '/v1/nodes', {
      key: admin,
      body: { name: 'no-agent', datacenter: 'dc1', cpus: 8, memoryMb: 8192, storageGb: 100 },
    });
    expect(node.status).toBe(201);
    const res = await h.call('GET', `/v1/admin/nodes/${node.body.id}/audit`, { key: admin });
    expect(res.status).toBe(503);
    expect(res.body.error).toMatchObject({ code: 'NODE_AGENT_UNAVAILABLE', details: { nodeId: node.body.id } });
    expect((await h.call('GET', `/v1/admin/nodes/00000000-0000-4000-8000-000000000000/audit`, { key: admin })).status).toBe(404);
  });
});
