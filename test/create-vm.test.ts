import { WorkflowFailedError } from '@temporalio/client';
import { startHarness, type Harness } from './support/harness';
import { recordHistory } from './support/histories';

describe('POST /v1/vms: HTTP → Temporal → worker → driver → PostgreSQL', () => {
  let h: Harness;
  let key: string;
  let tenantId: string;

  beforeAll(async () => {
    h = await startHarness();
    ({ apiKey: key, tenantId } = await h.newTenant());
  });
  afterAll(() => h.close());
  afterEach(() => h.resetFaults());

  let counter = 0;
  const createBody = (extra: Record<string, unknown> = {}) => ({
    hostname: `vm-${Date.now().toString(36)}-${counter++}`,
    templateId: h.world.templateId,
    cpus: 2,
    memoryMb: 2048,
    ...extra,
  });

  async function nodeHolds(vmId: string, nodeId: string) {
    const audit = await h.hypervisor.audit(nodeId);
    return { vm: audit.vms.find((v) => v.vmId === vmId), disks: audit.disks.filter((d) => d.vmId === vmId) };
  }

  it('creates a running VM: 202 + Location, the operation succeeds, database and hypervisor agree', async () => {
    const body = createBody({ label: 'web front', note: 'first' });
    const res = await h.call('POST', '/v1/vms', { key, body });

    expect(res.status).toBe(202);
    expect(res.headers.get('location')).toBe(`/v1/operations/${res.body.id}`);
    expect(res.body).toMatchObject({ type: 'vm.create', vmId: expect.any(String), links: { self: `/v1/operations/${res.body.id}` } });
    expect(['pending', 'running']).toContain(res.body.status);

    const op = await h.waitForOperation(key, res.body.id);
    expect(op.status).toBe('succeeded');
    expect(op.steps.map((s) => [s.name, s.status])).toEqual([
      ['createSystemDisk', 'succeeded'],
      ['createInterface', 'succeeded'],
      ['defineVm', 'succeeded'],
      ['startVm', 'succeeded'],
      ['recordVm', 'succeeded'],
    ]);
    expect(op.progress).toEqual({
      step: null,
      stepsDone: 5,
      stepsTotal: 5,
      percent: 100,
      stepPercent: null,
      stepBytes: null,
      children: null,
    });

    const vm = (await h.call('GET', `/v1/vms/${op.vmId}`, { key })).body;
    expect(vm).toMatchObject({ hostname: body.hostname, label: 'web front', status: 'running', locked: false, currentOperationId: null });
    expect(vm.disks).toEqual([{ id: expect.any(String), position: 0, sizeGb: 10 }]);

    const onNode = await nodeHolds(vm.id, vm.nodeId);
    expect(onNode.vm).toMatchObject({ powerState: 'running', hostname: body.hostname, cpus: 2, memoryMb: 2048 });
    expect(onNode.disks).toEqual([expect.objectContaining({ diskId: vm.disks[0].id, position: 0, sizeGb: 10 })]);

    // Ops find the operation in Temporal by the VM it touched, with every search attribute set.
    const found = [];
    for await (const wf of h.temporal.workflow.list({ query: `VmId = '${vm.id}'` })) found.push(wf);
    expect(found).toHaveLength(1);
    expect(found[0].workflowId).toMatch(new RegExp(`^vm-create-${body.hostname}-[0-9a-f]{8}$`));
    expect(found[0].searchAttributes).toMatchObject({
      VmId: [vm.id],
      TenantId: [tenantId],
      NodeId: [vm.nodeId],
      OperationType: ['vm.create'],
    });
    // Its tenant is its fairness key: a burst of another tenant's operations does not queue it behind them all.
    expect((await h.temporal.workflow.getHandle(found[0].workflowId).describe()).priority).toMatchObject({ fairnessKey: tenantId });

    await recordHistory(h.temporal, found[0].workflowId, 'create-vm.succeeded');
  });

  it('creates the VM stopped when asked, without a start step', async () => {
    const res = await h.call('POST', '/v1/vms', { key, body: createBody({ start: false, diskSizeGb: 20 }) });
    const op = await h.waitForOperation(key, res.body.id);

    expect(op.status).toBe('succeeded');
    expect(op.steps.map((s) => s.name)).toEqual(['createSystemDisk', 'createInterface', 'defineVm', 'recordVm']);
    const vm = (await h.call('GET', `/v1/vms/${op.vmId}`, { key })).body;
    expect(vm.status).toBe('stopped');
    expect(vm.disks[0].sizeGb).toBe(20);
    expect((await nodeHolds(vm.id, vm.nodeId)).vm?.powerState).toBe('stopped');
  });

  it('retries a transient driver fault and succeeds, reporting the attempts', async () => {
    await h.sim.injectFault({ method: 'defineVm', error: 'unavailable', message: 'libvirt connection reset', failCalls: 2 });
    const res = await h.call('POST', '/v1/vms', { key, body: createBody() });
    const op = await h.waitForOperation(key, res.body.id);

    expect(op.status).toBe('succeeded');
    expect(op.steps.find((s) => s.name === 'defineVm')).toMatchObject({ status: 'succeeded', attempts: 3 });
    expect(await h.sim.callCount('defineVm')).toBe(3);
  });

  it('undoes every step when one fails for good: compensated, no VM record, nothing left on the node', async () => {
    await h.sim.injectFault({ method: 'startVm', error: 'invalid_state', message: 'the node refuses to start guests' });
    const body = createBody();
    const res = await h.call('POST', '/v1/vms', { key, body });
    const { vmId } = res.body;
    const [{ node_id: nodeId }] = await h.dataSource.query(`SELECT node_id FROM vms WHERE id = $1`, [vmId]);
    const op = await h.waitForOperation(key, res.body.id);

    expect(op.status).toBe('compensated');
    expect(op.error).toEqual({ code: 'DriverInvalidStateError', message: 'the node refuses to start guests', step: 'startVm' });
    expect(op.steps.map((s) => [s.name, s.status])).toEqual([
      ['createSystemDisk', 'compensated'],
      ['createInterface', 'compensated'],
      ['defineVm', 'compensated'],
      ['startVm', 'failed'],
      ['recordVm', 'pending'],
    ]);
    expect(await h.sim.callCount('startVm')).toBe(1); // permanent: not retried

    expect((await h.call('GET', `/v1/vms/${vmId}`, { key })).status).toBe(404);
    expect(await h.dataSource.query(`SELECT id FROM disks WHERE vm_id = $1`, [vmId])).toEqual([]);
    expect(await nodeHolds(vmId, nodeId)).toEqual({ vm: undefined, disks: [] });
    const { diff } = await h.auditNode(nodeId);
    expect(diff).toMatchObject({ clean: true, orphans: [] });

    // The hostname is free again, and the Temporal UI shows the execution as failed.
    const handle = h.temporal.workflow.getHandle(`vm-create-${body.hostname}-${res.body.id.slice(0, 8)}`);
    await expect(handle.result()).rejects.toBeInstanceOf(WorkflowFailedError);
    await recordHistory(h.temporal, handle.workflowId, 'create-vm.compensated');
    await h.sim.resetControls();
    const again = await h.call('POST', '/v1/vms', { key, body });
    expect(again.status).toBe(202);
    expect((await h.waitForOperation(key, again.body.id)).status).toBe('succeeded');
  });

  it('leaves the operation stuck, naming the undo, when compensation itself fails', async () => {
    await h.sim.injectFault({ method: 'startVm', error: 'invalid_state', message: 'the node refuses to start guests' });
    // An undo that cannot succeed however often it is tried: the node no longer has the disk's storage.
    await h.sim.injectFault({ method: 'deleteDisk', error: 'not_found', message: 'the storage pool of the disk is gone' });
    const res = await h.call('POST', '/v1/vms', { key, body: createBody() });
    const op = await h.waitForOperation(key, res.body.id);

    expect(op.status).toBe('stuck');
    expect(op.error).toMatchObject({ code: 'COMPENSATION_FAILED', step: 'deleteDisk' });
    expect(op.error?.message).toContain('the storage pool of the disk is gone');
    expect(op.steps.map((s) => s.status)).toEqual(['compensation_failed', 'compensated', 'compensated', 'failed', 'pending']);

    // The VM stays flagged and locked by the stuck operation until a human has looked at it.
    const vm = (await h.call('GET', `/v1/vms/${op.vmId}`, { key })).body;
    expect(vm).toMatchObject({ status: 'error', locked: true, currentOperationId: op.id });
  });
});
