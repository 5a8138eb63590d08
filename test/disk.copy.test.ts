import { randomUUID } from 'node:crypto';
import { startHarness, type Harness } from './support/harness';
import { recordOperationHistory } from './support/histories';
import { checkSaga } from './support/saga-kit';

interface Disk {
  id: string;
  position: number | null;
  sizeGb: number;
}

/** disk.copy (Gandi disk.create_from a source disk): the guide's worked example (docs/writing-an-operation.md). */
describe('disk.copy', () => {
  let h: Harness;
  let key: string;

  beforeAll(async () => {
    h = await startHarness();
    ({ apiKey: key } = await h.newTenant());
  });
  afterAll(() => h?.close());
  afterEach(() => h.resetFaults());

  const disks = async (vmId: string, k = key): Promise<Disk[]> => (await h.call('GET', `/v1/vms/${vmId}/disks`, { key: k })).body.items;
  const systemDisk = async (vmId: string) => (await disks(vmId)).find((d) => d.position === 0)!;

  it('copies the system disk of a running VM into a new attached disk; undone at every driver call', async () => {
    const calls = await checkSaga(h, key, {
      setup: async () => {
        const vm = await h.createVm(key);
        const source = await systemDisk(vm.id);
        return { vmId: vm.id, nodeId: vm.nodeId, request: { method: 'POST', path: `/v1/vms/${vm.id}/disks/${source.id}/copy` } };
      },
    });
    expect(calls).toEqual(['createSnapshot', 'createDiskFromSnapshot', 'deleteSnapshot', 'attachDisk']);
  });

  it('makes a copy with the source’s data, larger if asked, and leaves the source and no snapshot behind', async () => {
    const vm = await h.createVm(key);
    const source = await systemDisk(vm.id);
    await h.sim.writeToDisk(source.id, 'the data to copy');
    const before = await h.hypervisor.getDisk(vm.nodeId, source.id);

    const op = await h.runOperation(key, 'POST', `/v1/vms/${vm.id}/disks/${source.id}/copy`, { sizeGb: source.sizeGb + 5, position: 3 });
    await recordOperationHistory(h, op.id, 'disk-copy.succeeded');
    expect(op.status).toBe('succeeded');
    expect(op.steps.map((s) => s.name)).toEqual(['snapshotSource', 'createCopy', 'dropSnapshot', 'attachCopy', 'recordCopy']);

    const copy = (await disks(vm.id)).find((d) => d.position === 3)!;
    expect(copy).toMatchObject({ sizeGb: source.sizeGb + 5 });
    const onNode = await h.hypervisor.getDisk(vm.nodeId, copy.id);
    expect(onNode).toMatchObject({ vmId: vm.id, position: 3, sizeGb: source.sizeGb + 5 });
    expect(onNode?.content).toBe(before?.content);
    expect(await h.hypervisor.getDisk(vm.nodeId, source.id)).toEqual(before);
    expect(await h.hypervisor.listSnapshots(vm.nodeId, { diskId: source.id })).toEqual([]);
    expect((await h.hypervisor.getVm(vm.nodeId, vm.id))?.powerState).toBe('running');
    expect((await h.auditNode(vm.nodeId)).diff.clean).toBe(true);
  });

  it('leaves a copy asked detached unattached, the VM’s to attach later', async () => {
    const vm = await h.createVm(key, { start: false });
    const source = await systemDisk(vm.id);
    const op = await h.runOperation(key, 'POST', `/v1/vms/${vm.id}/disks/${source.id}/copy`, { detached: true });
    expect(op.steps.map((s) => s.name)).toEqual(['snapshotSource', 'createCopy', 'dropSnapshot', 'recordCopy']);
    const copies = (await disks(vm.id)).filter((d) => d.id !== source.id);
    expect(copies).toEqual([expect.objectContaining({ position: null, sizeGb: source.sizeGb })]);
    const attach = await h.runOperation(key, 'POST', `/v1/vms/${vm.id}/disks/${copies[0].id}/attach`);
    expect(attach.status).toBe('succeeded');
    expect((await h.auditNode(vm.nodeId)).diff.clean).toBe(true);
  });

  it('refuses what it cannot do with the error that says what to fix, and changes nothing', async () => {
    const vm = await h.createVm(key);
    const source = await systemDisk(vm.id);
    const path = `/v1/vms/${vm.id}/disks/${source.id}/copy`;
    const refusals = await Promise.all([
      h.call('POST', path, { key, body: { sizeGb: source.sizeGb - 1 } }),
      h.call('POST', path, { key, body: { position: 0 } }),
      h.call('POST', path, { key, body: { size: 5 } }),
      h.call('POST', path, { key, body: { sizeGb: 4096 } }),
      h.call('POST', `/v1/vms/${vm.id}/disks/${randomUUID()}/copy`, { key }),
      h.call('POST', path, { key: (await h.newTenant()).apiKey }),
    ]);
    expect(refusals.map((r) => [r.status, r.body.error.code])).toEqual([
      [412, 'INVALID_PARAMETER'],
      [400, 'VALIDATION_FAILED'],
      [400, 'VALIDATION_FAILED'],
      [417, 'INSUFFICIENT_CAPACITY'],
      [404, 'NOT_FOUND'],
      [404, 'NOT_FOUND'],
    ]);
    const taken = await h.call('POST', path, { key, body: { position: 1 } });
    expect(taken.status).toBe(202);
    await h.waitForOperation(key, taken.body.id);
    expect((await h.call('POST', path, { key, body: { position: 1 } })).body.error.code).toBe('POSITION_TAKEN');
    expect((await disks(vm.id)).length).toBe(2);
  });

  it('takes the VM like any operation: of copies sent at once, one runs and the others answer 409 naming it', async () => {
    const vm = await h.createVm(key);
    const source = await systemDisk(vm.id);
    const answers = await Promise.all(
      Array.from({ length: 4 }, () => h.call('POST', `/v1/vms/${vm.id}/disks/${source.id}/copy`, { key, body: { detached: true } })),
    );
    const started = answers.filter((a) => a.status === 202);
    expect(started).toHaveLength(1);
    for (const busy of answers.filter((a) => a.status !== 202)) {
      expect(busy.status).toBe(409);
      expect(busy.body.error).toMatchObject({ code: 'VM_BUSY', details: { operationId: started[0].body.id, type: 'disk.copy' } });
    }
    expect((await h.waitForOperation(key, started[0].body.id)).status).toBe('succeeded');
    expect((await disks(vm.id)).length).toBe(2);
  });
});
