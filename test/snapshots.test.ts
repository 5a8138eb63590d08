import { startHarness, type Harness } from './support/harness';
import { recordOperationHistory } from './support/histories';
import { checkSaga, observeVm } from './support/saga-kit';

/** Snapshots (Erigones semantics) and the two rollbacks: in place, and onto a new disk (Gandi disk_rollback). */
describe('snapshots and disk rollback', () => {
  let h: Harness;
  let key: string;

  beforeAll(async () => {
    h = await startHarness({ env: { SNAPSHOT_LIMIT_PER_VM: '3' } });
    ({ apiKey: key } = await h.newTenant());
  });
  afterAll(() => h?.close());
  afterEach(() => h.resetFaults());

  const snapshot = (vmId: string, name: string, body: Record<string, unknown> = {}) =>
    h.runOperation(key, 'POST', `/v1/vms/${vmId}/snapshots`, { name, ...body });
  const systemDisk = async (vmId: string) => (await h.call('GET', `/v1/vms/${vmId}`, { key })).body.disks[0].id as string;

  /** A VM whose system disk held `v1` when snapshot `s1` was taken, and holds `v2` now. */
  async function vmWithSnapshot(start = true) {
    const vm = await h.createVm(key, { start });
    const diskId = await systemDisk(vm.id);
    await h.sim.writeToDisk(diskId, 'v1');
    expect((await snapshot(vm.id, 's1', { note: 'before the upgrade' })).status).toBe('succeeded');
    await h.sim.writeToDisk(diskId, 'v2');
    return { ...vm, diskId };
  }

  it('creates a snapshot (saga), lists, reads and annotates it', async () => {
    const calls = await checkSaga(h, key, {
      setup: async () => {
        const vm = await h.createVm(key);
        return {
          vmId: vm.id,
          nodeId: vm.nodeId,
          request: { method: 'POST', path: `/v1/vms/${vm.id}/snapshots`, body: { name: 'daily-1', fsfreeze: true } },
        };
      },
    });
    expect(calls).toEqual(['createSnapshot']);

    const vm = await h.createVm(key);
    const created = await snapshot(vm.id, 'first', { note: 'n1' });
    await recordOperationHistory(h, created.id, 'snapshot-create.succeeded');
    await snapshot(vm.id, 'second');
    const list = await h.call('GET', `/v1/vms/${vm.id}/snapshots?orderBy=name`, { key });
    expect(list.body).toMatchObject({ total: 2, items: [{ name: 'first', note: 'n1', status: 'ok', type: 'manual' }, { name: 'second' }] });
    expect(
      (await h.call('GET', `/v1/vms/${vm.id}/snapshots?orderBy=-created&limit=1`, { key })).body.items.map((s: { name: string }) => s.name),
    ).toEqual(['second']);
    expect((await h.call('GET', `/v1/vms/${vm.id}/snapshots?type=automatic`, { key })).body.total).toBe(0);
    expect((await h.call('GET', `/v1/vms/${vm.id}/snapshots/first`, { key })).body).toMatchObject({
      name: 'first',
      diskId: await systemDisk(vm.id),
    });
    const patched = await h.call('PATCH', `/v1/vms/${vm.id}/snapshots/first`, { key, body: { note: 'kept for audit' } });
    expect(patched.body.note).toBe('kept for audit');
    expect((await h.hypervisor.listSnapshots(vm.nodeId)).filter((s) => s.name === 'first' || s.name === 'second')).toHaveLength(2);
  });

  it('refuses a second snapshot of a name (409), past the per-VM limit (417), bad names and disks (400, 412), a missing one (404)', async () => {
    const vm = await h.createVm(key);
    await snapshot(vm.id, 'a');
    const again = await h.call('POST', `/v1/vms/${vm.id}/snapshots`, { key, body: { name: 'a' } });
    expect([again.status, again.body.error.code]).toEqual([409, 'NAME_TAKEN']);
    await snapshot(vm.id, 'b');
    await snapshot(vm.id, 'c');
    const limit = await h.call('POST', `/v1/vms/${vm.id}/snapshots`, { key, body: { name: 'd' } });
    expect([limit.status, limit.body.error.code]).toEqual([417, 'SNAPSHOT_LIMIT_REACHED']);
    expect((await h.call('POST', `/v1/vms/${vm.id}/snapshots`, { key, body: { name: '-bad name' } })).status).toBe(400);
    const disk = await h.call('POST', `/v1/vms/${vm.id}/snapshots`, {
      key,
      body: { name: 'e', diskId: '00000000-0000-4000-8000-000000000000' },
    });
    expect([disk.status, disk.body.error.code]).toEqual([412, 'INVALID_PARAMETER']);
    expect((await h.call('GET', `/v1/vms/${vm.id}/snapshots/nope`, { key })).status).toBe(404);
    expect((await h.call('GET', `/v1/vms/${vm.id}/snapshots?orderBy=colour`, { key })).status).toBe(400);
    expect((await h.call('GET', `/v1/vms/${vm.id}/snapshots`, { key })).body.total).toBe(3);
  });

  it('deletes one or several snapshots; a deletion that fails leaves the rest ok', async () => {
    const calls = await checkSaga(h, key, {
      setup: async () => {
        const vm = await h.createVm(key);
        await snapshot(vm.id, 'x');
        await snapshot(vm.id, 'y');
        return { vmId: vm.id, nodeId: vm.nodeId, request: { method: 'DELETE', path: `/v1/vms/${vm.id}/snapshots?names=x,y` } };
      },
      // The record of a snapshot just deleted goes next; its write failing for good (a bug, not a node fault)
      // would leave a record of a deleted snapshot, which no undo can mend: the audit reports it.
      skipInventoryStep: (name) => name.startsWith('forget:'),
      // A snapshot deleted before the failure stays deleted (nothing brings it back); the rest is as it was.
      expectedAfterFailure: (before, k) => {
        const gone = new Set(before.records.snapshots.slice(0, Math.max(0, k)).map((s) => s.name));
        return {
          ...before,
          records: { ...before.records, snapshots: before.records.snapshots.filter((s) => !gone.has(s.name)) },
          node: { ...before.node!, snapshots: before.node!.snapshots.filter((s) => !gone.has(s.name)) },
        };
      },
    });
    expect(calls).toEqual(['deleteSnapshot', 'deleteSnapshot']);

    const vm = await h.createVm(key);
    await snapshot(vm.id, 'only');
    const deleted = await h.runOperation(key, 'DELETE', `/v1/vms/${vm.id}/snapshots/only`);
    await recordOperationHistory(h, deleted.id, 'snapshot-delete.succeeded');
    expect((await h.call('GET', `/v1/vms/${vm.id}/snapshots`, { key })).body.total).toBe(0);
    const unknown = await h.call('DELETE', `/v1/vms/${vm.id}/snapshots?names=ghost`, { key });
    expect([unknown.status, unknown.body.error.details]).toEqual([412, { field: 'names' }]);
    expect((await h.call('DELETE', `/v1/vms/${vm.id}/snapshots`, { key })).status).toBe(400);
  });

  it('syncs the records with what the node really holds', async () => {
    const vm = await h.createVm(key);
    await snapshot(vm.id, 'kept');
    await snapshot(vm.id, 'lost-on-node');
    const [lost] = await h.dataSource.query(`SELECT id FROM snapshots WHERE vm_id = $1 AND name = 'lost-on-node'`, [vm.id]);
    await h.hypervisor.deleteSnapshot(vm.nodeId, lost.id);
    await h.hypervisor.createSnapshot(vm.nodeId, {
      snapshotId: '11111111-2222-4333-8444-555555555555',
      diskId: await systemDisk(vm.id),
      name: 'made-by-hand',
      fsfreeze: false,
    });
    expect((await h.auditNode(vm.nodeId)).diff.clean).toBe(false);

    const synced = await h.runOperation(key, 'POST', `/v1/vms/${vm.id}/snapshots/sync`);
    expect(synced.steps.map((s) => s.name)).toEqual(['readSnapshots', 'syncRecords']);
    await recordOperationHistory(h, synced.id, 'snapshot-sync.succeeded');
    expect(
      (await h.call('GET', `/v1/vms/${vm.id}/snapshots?orderBy=name`, { key })).body.items.map((s: { name: string }) => s.name),
    ).toEqual(['kept', 'made-by-hand']);
    expect((await h.auditNode(vm.nodeId)).diff.clean).toBe(true);
    expect(
      await checkSaga(h, key, {
        setup: async () => ({ vmId: vm.id, nodeId: vm.nodeId, request: { method: 'POST', path: `/v1/vms/${vm.id}/snapshots/sync` } }),
      }),
    ).toEqual(['listSnapshots']);
  });

  describe('new-disk rollback (disk.rollback)', () => {
    it('stop → detach → new disk from the snapshot → attach → start → delete the old disk; every failure puts the old disk back', async () => {
      const calls = await checkSaga(h, key, {
        setup: async () => {
          const vm = await vmWithSnapshot();
          return {
            vmId: vm.id,
            nodeId: vm.nodeId,
            request: { method: 'POST', path: `/v1/vms/${vm.id}/snapshots/s1/rollback`, body: { method: 'new_disk' } },
          };
        },
      });
      expect(calls).toEqual(['stopVm', 'detachDisk', 'createDiskFromSnapshot', 'attachDisk', 'startVm', 'deleteDisk']);
    });

    it('leaves a stopped VM stopped, on a new disk holding the snapshot data', async () => {
      const vm = await vmWithSnapshot(false);
      const op = await h.runOperation(key, 'POST', `/v1/vms/${vm.id}/snapshots/s1/rollback`, { method: 'new_disk' });
      await recordOperationHistory(h, op.id, 'disk-rollback.succeeded');
      expect(op.steps.map((s) => s.name)).toEqual([
        'detachOldDisk',
        'createNewDisk',
        'attachNewDisk',
        'recordNewDisk',
        'deleteOldDisk',
        'forgetOldDisk',
      ]);
      const after = await observeVm(h, vm.id, vm.nodeId);
      expect(after.node).toMatchObject({ powerState: 'stopped', snapshots: [] });
      const newDisk = after.records.disks[0];
      expect(newDisk.id).not.toBe(vm.diskId);
      expect(after.node?.disks).toEqual([{ id: newDisk.id, position: 0, content: 'v1' }]);
      expect((await h.hypervisor.getDisk(vm.nodeId, newDisk.id))?.content).toBe('v1');
      expect(await h.hypervisor.getDisk(vm.nodeId, vm.diskId)).toBeNull();
      expect((await h.auditNode(vm.nodeId)).diff.clean).toBe(true);
    });

    it('compensated when the new disk cannot be attached: the VM runs on its old disk, with its data', async () => {
      const vm = await vmWithSnapshot();
      await h.call('POST', '/v1/admin/simulator/faults', {
        key: (await h.newTenant('admin')).apiKey,
        body: { method: 'attachDisk', nodeId: vm.nodeId, error: 'invalid_state', message: 'PCI slot exhausted', failCalls: 1 },
      });
      const op = await h.runOperation(key, 'POST', `/v1/vms/${vm.id}/snapshots/s1/rollback`, { method: 'new_disk' });
      await recordOperationHistory(h, op.id, 'disk-rollback.compensated');
      expect(op.status).toBe('compensated');
      expect(op.error).toMatchObject({ step: 'attachNewDisk', message: 'PCI slot exhausted' });
      const live = await h.hypervisor.getVm(vm.nodeId, vm.id);
      expect(live).toMatchObject({ powerState: 'running', disks: [{ id: vm.diskId, position: 0 }] });
      expect((await h.hypervisor.getDisk(vm.nodeId, vm.diskId))?.content).toBe('v2');
    });
  });

  describe('in-place rollback (snapshot.rollback)', () => {
    it('writes the snapshot back over the disk of a stopped VM; a failed rollback changes nothing', async () => {
      const calls = await checkSaga(h, key, {
        setup: async () => {
          const vm = await vmWithSnapshot(false);
          return {
            vmId: vm.id,
            nodeId: vm.nodeId,
            request: { method: 'POST', path: `/v1/vms/${vm.id}/snapshots/s1/rollback`, body: { method: 'in_place' } },
          };
        },
      });
      expect(calls).toEqual(['rollbackSnapshot']);
      const vm = await vmWithSnapshot(false);
      const op = await h.runOperation(key, 'POST', `/v1/vms/${vm.id}/snapshots/s1/rollback`, { method: 'in_place' });
      await recordOperationHistory(h, op.id, 'snapshot-rollback.succeeded');
      expect((await h.hypervisor.getDisk(vm.nodeId, vm.diskId))?.content).toBe('v1');
    });

    it('stops a running VM first when asked, and starts it again', async () => {
      const calls = await checkSaga(h, key, {
        setup: async () => {
          const vm = await vmWithSnapshot(true);
          return {
            vmId: vm.id,
            nodeId: vm.nodeId,
            request: { method: 'POST', path: `/v1/vms/${vm.id}/snapshots/s1/rollback`, body: { method: 'in_place', stopFirst: true } },
          };
        },
        // Once the disk holds the snapshot's data again, nothing is undone: a failed start leaves it stuck.
        pastPointOfNoReturn: (k, calls) => k > calls.indexOf('rollbackSnapshot'),
      });
      expect(calls).toEqual(['stopVm', 'rollbackSnapshot', 'startVm']);
    });

    it('refuses a running VM (423), newer snapshots without force (417) and deletes them with force', async () => {
      const vm = await vmWithSnapshot(true);
      const running = await h.call('POST', `/v1/vms/${vm.id}/snapshots/s1/rollback`, { key, body: { method: 'in_place' } });
      expect([running.status, running.body.error.code]).toEqual([423, 'VM_INVALID_STATE']);
      await snapshot(vm.id, 's2');
      await h.runOperation(key, 'POST', `/v1/vms/${vm.id}/stop`, { force: true });
      const newer = await h.call('POST', `/v1/vms/${vm.id}/snapshots/s1/rollback`, { key, body: { method: 'in_place' } });
      expect([newer.status, newer.body.error]).toEqual([
        417,
        expect.objectContaining({ code: 'NEWER_SNAPSHOTS', details: { snapshots: ['s2'] } }),
      ]);
      const forced = await h.runOperation(key, 'POST', `/v1/vms/${vm.id}/snapshots/s1/rollback`, { method: 'in_place', force: true });
      expect(forced.steps.map((s) => s.name)).toEqual(['rollbackSnapshot', 'forgetDiscarded']);
      expect((await h.call('GET', `/v1/vms/${vm.id}/snapshots`, { key })).body.items.map((s: { name: string }) => s.name)).toEqual(['s1']);
      expect((await h.auditNode(vm.nodeId)).diff.clean).toBe(true);
    });

    it("restores into another VM's disk on the same node (428 on size or kind mismatch; its snapshots only with force)", async () => {
      const source = await vmWithSnapshot(false);
      const target = await h.createVm(key, { start: false, nodeId: source.nodeId });
      const targetDisk = await systemDisk(target.id);
      await snapshot(target.id, 't1');
      const body = { method: 'in_place', targetVmId: target.id, targetDiskId: targetDisk };
      const has = await h.call('POST', `/v1/vms/${source.id}/snapshots/s1/rollback`, { key, body });
      expect([has.status, has.body.error.code]).toEqual([417, 'TARGET_HAS_SNAPSHOTS']);
      expect(
        (await h.call('POST', `/v1/vms/${source.id}/snapshots/s1/rollback`, { key, body: { method: 'in_place', targetVmId: target.id } }))
          .status,
      ).toBe(412);

      const op = await h.runOperation(key, 'POST', `/v1/vms/${source.id}/snapshots/s1/rollback`, { ...body, force: true });
      expect(op.vmId).toBe(target.id);
      expect((await h.hypervisor.getDisk(source.nodeId, targetDisk))?.content).toBe('v1');
      expect((await h.call('GET', `/v1/vms/${target.id}/snapshots`, { key })).body.total).toBe(0);

      await h.dataSource.query(`UPDATE disks SET size_gb = size_gb + 1 WHERE id = $1`, [targetDisk]);
      const size = await h.call('POST', `/v1/vms/${source.id}/snapshots/s1/rollback`, { key, body });
      expect([size.status, size.body.error.code]).toEqual([428, 'DISK_SIZE_MISMATCH']);
      await h.dataSource.query(`UPDATE disks SET size_gb = size_gb - 1 WHERE id = $1`, [targetDisk]);
    });

    it('refuses options of the other method (412) and a missing method (400), changing nothing', async () => {
      const vm = await vmWithSnapshot(false);
      const before = await observeVm(h, vm.id, vm.nodeId);
      expect((await h.call('POST', `/v1/vms/${vm.id}/snapshots/s1/rollback`, { key, body: {} })).status).toBe(400);
      const mixed = await h.call('POST', `/v1/vms/${vm.id}/snapshots/s1/rollback`, { key, body: { method: 'new_disk', force: true } });
      expect([mixed.status, mixed.body.error.details]).toEqual([412, { field: 'force' }]);
      expect((await h.call('POST', `/v1/vms/${vm.id}/snapshots/nope/rollback`, { key, body: { method: 'in_place' } })).status).toBe(404);
      expect(await observeVm(h, vm.id, vm.nodeId)).toEqual(before);
    });
  });
});
