import type { OperationView } from '../apps/api/src/operations/operation.view';
import { startHarness, type Harness } from './support/harness';
import { recordOperationHistory } from './support/histories';
import { observeVm } from './support/saga-kit';

/**
 * Node drain (what an operator does before maintenance): the node goes to maintenance and every VM of it
 * migrates off, each as an operation of its own, a bounded number at a time; what cannot move is reported.
 */
describe('node drain', () => {
  let h: Harness;
  let admin: string;
  let tenants: { apiKey: string; tenantId: string }[];

  beforeAll(async () => {
    h = await startHarness({ transferStepMs: 100 });
    admin = (await h.newTenant('admin')).apiKey;
    tenants = [await h.newTenant(), await h.newTenant()];
  });
  afterAll(() => h?.close());
  afterEach(() => h.resetFaults());

  const getOp = async (key: string, id: string): Promise<OperationView> => (await h.call('GET', `/v1/operations/${id}`, { key })).body;
  const nodeStatus = async (id: string) => (await h.dataSource.query(`SELECT status FROM nodes WHERE id = $1`, [id]))[0].status;
  const expectOn = async (vmId: string, nodeId: string) => {
    expect((await observeVm(h, vmId, h.world.nodeIds)).placement).toEqual({ inventoryNodeId: nodeId, definedOn: [nodeId] });
  };
  const expectCleanAudits = async () => {
    for (const node of h.world.nodeIds)
      expect({ node, diff: (await h.auditNode(node)).diff }).toEqual({ node, diff: expect.objectContaining({ clean: true }) });
  };

  it('moves every VM of two tenants off the node, two at a time, and reports the one that cannot move', async () => {
    const [node1, node2] = h.world.nodeIds;
    const [a, b] = tenants;
    const running1 = await h.createVm(a.apiKey, { nodeId: node1 });
    const running2 = await h.createVm(b.apiKey, { nodeId: node1 });
    const stopped = await h.createVm(a.apiKey, { nodeId: node1, start: false });
    const frozen = await h.createVm(b.apiKey, { nodeId: node1, start: false });
    expect((await h.runOperation(b.apiKey, 'POST', `/v1/vms/${frozen.id}/freeze`)).status).toBe('succeeded');
    const elsewhere = await h.createVm(a.apiKey, { nodeId: node2 });

    const dry = await h.call('POST', `/v1/admin/nodes/${node1}/drain?dryRun=true`, { key: admin, body: {} });
    expect(dry.status).toBe(200);
    expect(dry.body.steps.map((s: { name: string; childWorkflow: string }) => [s.name, s.childWorkflow])).toEqual(
      [running1, running2, stopped, frozen].map((vm) => [`migrate:${vm.hostname}`, 'migrateVmWorkflow']).sort(),
    );
    expect(await nodeStatus(node1)).toBe('online');

    // Members cannot drain; bad input is refused before anything starts.
    expect((await h.call('POST', `/v1/admin/nodes/${node1}/drain`, { key: a.apiKey, body: {} })).status).toBe(403);
    expect((await h.call('POST', `/v1/admin/nodes/${node1}/drain`, { key: admin, body: { concurrency: 0 } })).status).toBe(400);
    expect((await h.call('POST', `/v1/admin/nodes/00000000-0000-4000-8000-000000000000/drain`, { key: admin, body: {} })).status).toBe(404);

    const res = await h.call('POST', `/v1/admin/nodes/${node1}/drain`, { key: admin, body: { concurrency: 2 } });
    expect(res.status).toBe(202);
    expect(await nodeStatus(node1)).toBe('maintenance');
    const again = await h.call('POST', `/v1/admin/nodes/${node1}/drain`, { key: admin, body: {} });
    expect([again.status, again.body.error.code, again.body.error.details.operationId]).toEqual([409, 'NODE_BUSY', res.body.id]);

    let mostAtOnce = 0;
    for (;;) {
      const op = await getOp(admin, res.body.id);
      mostAtOnce = Math.max(mostAtOnce, op.steps.filter((s) => s.status === 'running').length);
      const [row] = await h.dataSource.query(`SELECT finished_at FROM operations WHERE id = $1`, [res.body.id]);
      if (row.finished_at) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(mostAtOnce).toBe(2);
    const op = await getOp(admin, res.body.id);
    await recordOperationHistory(h, op.id, 'drain-node.vms-not-moved');
    expect(op.status).toBe('failed');
    expect(op.error).toMatchObject({ code: 'VMS_NOT_MOVED', step: `migrate:${frozen.hostname}` });
    expect(op.error!.message).toContain('is frozen; unfreeze it first');
    expect(op.steps.filter((s) => s.status === 'succeeded')).toHaveLength(3);
    expect(op.progress.children).toEqual({ succeeded: 3, failed: 1, remaining: 0 });

    for (const vm of [running1, running2, stopped]) await expectOn(vm.id, node2);
    await expectOn(frozen.id, node1);
    await expectOn(elsewhere.id, node2);
    expect((await observeVm(h, stopped.id, h.world.nodeIds)).node?.powerState).toBe('stopped');
    expect(await nodeStatus(node1)).toBe('maintenance');
    await expectCleanAudits();

    // Each migration is an operation of its own, in its VM's tenant, readable there and by the operator.
    expect(op.children).toHaveLength(3);
    for (const child of op.children) {
      const owner = [running1, stopped].some((vm) => vm.id === child.vmId) ? a : b;
      const other = owner === a ? b : a;
      expect(child.status).toBe('succeeded');
      expect((await getOp(owner.apiKey, child.operationId)).type).toBe('vm.migrate');
      expect((await getOp(admin, child.operationId)).status).toBe('succeeded');
      expect((await h.call('GET', `/v1/operations/${child.operationId}`, { key: other.apiKey })).status).toBe(404);
      // Its fairness key is its VM's tenant, not the drain's: it takes its turn with that tenant's operations.
      const [{ workflow_id }] = await h.dataSource.query(`SELECT workflow_id FROM operations WHERE id = $1`, [child.operationId]);
      expect((await h.temporal.workflow.getHandle(workflow_id).describe()).priority).toMatchObject({ fairnessKey: owner.tenantId });
    }
    // The drain is the operator's: tenants do not see it.
    expect((await h.call('GET', `/v1/operations/${res.body.id}`, { key: a.apiKey })).status).toBe(404);
    await h.dataSource.query(`UPDATE nodes SET status = 'online' WHERE id = $1`, [node1]);
  });

  it('cancelled, starts no new migration and rolls back the running one; the node stays in maintenance', async () => {
    const [node1, node2] = h.world.nodeIds;
    const [a] = tenants;
    await h.dataSource.query(`UPDATE nodes SET status = 'online' WHERE id = $1`, [node1]);
    const vms = [await h.createVm(a.apiKey, { nodeId: node2 }), await h.createVm(a.apiKey, { nodeId: node2 })];
    const onNode2: string[] = (await h.dataSource.query(`SELECT id FROM vms WHERE node_id = $1`, [node2])).map((r: { id: string }) => r.id);
    await h.sim.setLatency({ method: 'transferVm', ms: 3000 });
    const res = await h.call('POST', `/v1/admin/nodes/${node2}/drain`, { key: admin, body: { concurrency: 1 } });
    expect(res.status).toBe(202);
    while (!(await h.sim.callCount('transferVm'))) await new Promise((r) => setTimeout(r, 50));

    const cancel = await h.call('POST', `/v1/operations/${res.body.id}/cancel`, { key: admin });
    expect(cancel.status).toBe(202);
    const [row] = await h.dataSource.query(`SELECT workflow_id FROM operations WHERE id = $1`, [res.body.id]);
    await h.temporal.workflow
      .getHandle(row.workflow_id)
      .result()
      .catch(() => undefined);
    const op = await h.waitForOperation(admin, res.body.id);
    await recordOperationHistory(h, op.id, 'drain-node.cancelled');
    expect(op.status).toBe('cancelled');
    expect(op.children).toHaveLength(1);
    expect(op.children[0].status).toBe('failed');
    expect((await getOp(admin, op.children[0].operationId)).status).toBe('cancelled');
    // Every VM is where it was: the running migration rolled back, no other was tried.
    for (const id of onNode2) await expectOn(id, node2);
    expect(op.steps.filter((s) => s.status === 'pending').length).toBe(onNode2.length - 1);
    expect(await nodeStatus(node2)).toBe('maintenance');
    expect(vms.length).toBe(2);
    await expectCleanAudits();
    await h.dataSource.query(`UPDATE nodes SET status = 'online' WHERE id = $1`, [node2]);
  });

  it('an empty node drains at once', async () => {
    const [node] = await h.dataSource.query(
      `INSERT INTO nodes (name, datacenter, status, cpus, memory_mb, storage_gb) VALUES ('node-empty', 'dc1', 'online', 8, 8192, 100) RETURNING id`,
    );
    const res = await h.call('POST', `/v1/admin/nodes/${node.id}/drain`, { key: admin, body: {} });
    expect(res.status).toBe(202);
    const op = await h.waitForOperation(admin, res.body.id);
    expect(op).toMatchObject({ status: 'succeeded', steps: [], children: [] });
    expect(await nodeStatus(node.id)).toBe('maintenance');
  });
});
