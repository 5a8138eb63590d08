import { startHarness, type Harness } from './support/harness';
import { recordOperationHistory } from './support/histories';
import { ABSENT, checkSaga } from './support/saga-kit';

/** Clone (Gigas): a new VM from a source VM's disks, captured consistently; the source is let go early. */
describe('clone', () => {
  let h: Harness;
  let key: string;
  let n = 0;

  beforeAll(async () => {
    h = await startHarness();
    ({ apiKey: key } = await h.newTenant());
  });
  afterAll(() => h?.close());
  afterEach(() => h.resetFaults());

  const hostname = () => `clone-${Date.now().toString(36)}-${n++}`;
  const get = async (vmId: string) => (await h.call('GET', `/v1/vms/${vmId}`, { key })).body;
  /** Captures left in the simulated image store. */
  const images = async () => Number((await h.dataSource.query(`SELECT count(*)::int AS n FROM ${h.config.simulator.schema}.images`))[0].n);
  /** VMs still held by an operation, but for clones left stuck (for a human) past the point of no return. */
  const lockedVms = async () =>
    (
      await h.dataSource.query(`SELECT v.hostname FROM vms v JOIN operations o ON o.id = v.current_operation_id WHERE o.status <> 'stuck'`)
    ).map((r: { hostname: string }) => r.hostname);

  it('clones a stopped VM with a data disk onto another node; undone at every step, leaving no clone, no capture, the source free', async () => {
    const [sourceNode, targetNode] = h.world.nodeIds;
    const before = await images();
    const calls = await checkSaga(h, key, {
      setup: async () => {
        const source = await h.createVm(key, { start: false, nodeId: sourceNode });
        await h.runOperation(key, 'POST', `/v1/vms/${source.id}/disks`, { sizeGb: 2 });
        return {
          vmId: null,
          nodeId: targetNode,
          otherNodeIds: [sourceNode],
          request: { method: 'POST', path: `/v1/vms/${source.id}/clone`, body: { hostname: hostname(), nodeId: targetNode } },
        };
      },
      // Past the first capture dropped, the clone stands; a failure leaves the operation stuck, not the clone undone.
      pastPointOfNoReturn: (k, calls) => k > calls.indexOf('deleteImage'),
      expectedAfterFailure: () => ABSENT,
    });
    expect(calls).toEqual([
      'captureImage',
      'captureImage',
      'createDiskFromTemplate',
      'createDiskFromTemplate',
      'createNic',
      'defineVm',
      'deleteImage',
      'deleteImage',
    ]);
    // Every run ended with its source free and its captures gone (but for clones stuck past the point of no return).
    expect(await lockedVms()).toEqual([]);
    const stuckClones = await h.dataSource.query(
      `SELECT v.status FROM vms v JOIN operations o ON o.id = v.current_operation_id WHERE o.type = 'vm.clone' AND o.status = 'stuck'`,
    );
    for (const vm of stuckClones) expect(vm.status).toBe('error');
    const stuck = Number(
      (await h.dataSource.query(`SELECT count(*)::int AS n FROM operations WHERE type = 'vm.clone' AND status = 'stuck'`))[0].n,
    );
    expect(await images()).toBeLessThanOrEqual(before + stuck);
  });

  it('clones a running VM with its filesystems frozen: the data as captured, larger disks, another size; the source runs on and is free early', async () => {
    const source = await h.createVm(key, { nodeId: h.world.nodeIds[0] });
    await h.runOperation(key, 'POST', `/v1/vms/${source.id}/disks`, { sizeGb: 2 });
    const [system, data] = (await get(source.id)).disks;
    await h.sim.writeToDisk(system.id, 'os v1');
    await h.sim.writeToDisk(data.id, 'db rows');

    // The copies take a while: the source is free again meanwhile.
    await h.sim.setLatency({ method: 'createDiskFromTemplate', ms: 1500 });
    const name = hostname();
    const res = await h.call('POST', `/v1/vms/${source.id}/clone`, {
      key,
      body: {
        hostname: name,
        cpus: 2,
        memoryMb: 1024,
        label: 'copy',
        disks: [{ position: 1, sizeGb: 4 }],
        start: true,
        nodeId: h.world.nodeIds[1],
      },
    });
    expect(res.status).toBe(202);
    for (;;) {
      const op = (await h.call('GET', `/v1/operations/${res.body.id}`, { key })).body;
      if (op.steps.find((s: { name: string }) => s.name === 'releaseSource').status === 'succeeded') break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const meanwhile = await h.runOperation(key, 'POST', `/v1/vms/${source.id}/snapshots`, { name: 'while-cloning' });
    expect(meanwhile.status).toBe('succeeded');
    await h.sim.writeToDisk(system.id, 'os v2');

    const op = await h.waitForOperation(key, res.body.id);
    await recordOperationHistory(h, op.id, 'clone-vm.running-source');
    expect(op).toMatchObject({ type: 'vm.clone', status: 'succeeded', vmId: res.body.vmId });
    const clone = await get(res.body.vmId);
    expect(clone).toMatchObject({
      hostname: name,
      cpus: 2,
      memoryMb: 1024,
      label: 'copy',
      status: 'running',
      nodeId: h.world.nodeIds[1],
      templateId: (await get(source.id)).templateId,
    });
    expect(clone.disks.map((d: { position: number; sizeGb: number }) => [d.position, d.sizeGb])).toEqual([
      [0, 10],
      [1, 4],
    ]);
    expect((await h.hypervisor.getDisk(h.world.nodeIds[1], clone.disks[0].id))?.content).toBe('os v1');
    expect((await h.hypervisor.getDisk(h.world.nodeIds[1], clone.disks[1].id))?.content).toBe('db rows');
    expect(clone.interfaces).toHaveLength(1);
    expect(clone.interfaces[0].mac).not.toBe((await get(source.id)).interfaces[0].mac);
    expect((await h.hypervisor.getVm(h.world.nodeIds[0], source.id))?.powerState).toBe('running');
    for (const nodeId of h.world.nodeIds) expect((await h.auditNode(nodeId)).diff.clean).toBe(true);
  });

  it('refuses bad input and a busy source with a 4xx, starting nothing; a running source without a guest agent fails cleanly', async () => {
    const source = await h.createVm(key, { start: false });
    const taken = (await h.createVm(key)).hostname;
    const ops = async () => Number((await h.dataSource.query(`SELECT count(*)::int AS n FROM operations WHERE type = 'vm.clone'`))[0].n);
    const before = await ops();
    const cases: [unknown, number, string][] = [
      [{}, 400, 'VALIDATION_FAILED'],
      [{ hostname: 'Bad_Host' }, 400, 'VALIDATION_FAILED'],
      [{ hostname: taken }, 409, 'HOSTNAME_TAKEN'],
      [{ hostname: hostname(), disks: [{ position: 0, sizeGb: 5 }] }, 412, 'INVALID_PARAMETER'],
      [{ hostname: hostname(), disks: [{ position: 3, sizeGb: 50 }] }, 412, 'INVALID_PARAMETER'],
      [{ hostname: hostname(), memoryMb: 100 }, 400, 'VALIDATION_FAILED'],
      [{ hostname: hostname(), nodeId: '00000000-0000-4000-8000-000000000000' }, 412, 'INVALID_PARAMETER'],
    ];
    for (const [body, status, code] of cases) {
      const res = await h.call('POST', `/v1/vms/${source.id}/clone`, { key, body });
      expect({ body, status: res.status, code: res.body.error?.code }).toEqual({ body, status, code });
    }
    expect(await ops()).toBe(before);
    const stranger = (await h.newTenant()).apiKey;
    expect((await h.call('POST', `/v1/vms/${source.id}/clone`, { key: stranger, body: { hostname: hostname() } })).status).toBe(404);

    await h.sim.setLatency({ method: 'startVm', ms: 1500 });
    const starting = await h.call('POST', `/v1/vms/${source.id}/start`, { key });
    const busy = await h.call('POST', `/v1/vms/${source.id}/clone`, { key, body: { hostname: hostname() } });
    expect([busy.status, busy.body.error.code, busy.body.error.details.operationId]).toEqual([409, 'VM_BUSY', starting.body.id]);
    await h.waitForOperation(key, starting.body.id);

    await h.sim.setGuestAgent(source.id, false);
    const name = hostname();
    const failed = await h.runOperation(key, 'POST', `/v1/vms/${source.id}/clone`, { hostname: name });
    expect(failed.status).toBe('failed');
    expect(failed.error?.message).toContain('guest agent');
    expect((await h.call('GET', `/v1/vms?hostname=${name}`, { key })).body.items).toEqual([]);
    expect((await get(source.id)).currentOperationId).toBeNull();
  });

  it("joins anti-affinity groups: never on a node where a member is, the source's own node included", async () => {
    const [node1, node2] = h.world.nodeIds;
    const source = await h.createVm(key, { start: false, nodeId: node1 });
    const group = (await h.call('POST', '/v1/anti-affinity-groups', { key, body: { name: hostname(), vmIds: [source.id] } })).body;
    const named = await h.call('POST', `/v1/vms/${source.id}/clone`, {
      key,
      body: { hostname: hostname(), nodeId: node1, antiAffinityGroupIds: [group.id] },
    });
    expect([named.status, named.body.error.code, named.body.error.details.vm.id]).toEqual([409, 'ANTI_AFFINITY', source.id]);
    const placed = await h.runOperation(key, 'POST', `/v1/vms/${source.id}/clone`, {
      hostname: hostname(),
      antiAffinityGroupIds: [group.id],
    });
    expect(placed.status).toBe('succeeded');
    expect((await get(placed.vmId!)).nodeId).toBe(node2);
  });
});
