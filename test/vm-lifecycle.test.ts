import { startHarness, type Harness } from './support/harness';
import { recordOperationHistory } from './support/histories';
import { checkSaga } from './support/saga-kit';

/** VMs end to end: create (disks, interface, password), list, live status, update, disks, rebuild, delete. */
describe('VM lifecycle and disks', () => {
  let h: Harness;
  let key: string;
  let n = 0;

  beforeAll(async () => {
    h = await startHarness();
    ({ apiKey: key } = await h.newTenant());
  });
  afterAll(() => h?.close());
  afterEach(() => h.resetFaults());

  const hostname = () => `life-${Date.now().toString(36)}-${n++}`;
  const vmBody = (extra: Record<string, unknown> = {}) => ({
    hostname: hostname(),
    templateId: h.world.templateId,
    cpus: 1,
    memoryMb: 512,
    ...extra,
  });
  const get = async (vmId: string) => (await h.call('GET', `/v1/vms/${vmId}`, { key })).body;

  describe('create', () => {
    it('makes the system disk, data disks and an interface, defines and starts; undone at every driver call', async () => {
      const calls = await checkSaga(h, key, {
        // Undone, the VM is nowhere: neither in the inventory (its disks and interface with it) nor on the node.
        setup: async () => ({
          vmId: null,
          nodeId: h.world.nodeIds[0],
          request: {
            method: 'POST',
            path: '/v1/vms',
            body: vmBody({ nodeId: h.world.nodeIds[0], dataDisks: [{ sizeGb: 5 }], rootPassword: 'Secret_123' }),
          },
        }),
      });
      expect(calls).toEqual(['createDiskFromTemplate', 'createBlankDisk', 'createNic', 'defineVm', 'startVm']);

      const op = await h.runOperation(
        key,
        'POST',
        '/v1/vms',
        vmBody({ dataDisks: [{ sizeGb: 5 }, { sizeGb: 7 }], network: 'private', rootPassword: 'Secret_123' }),
      );
      await recordOperationHistory(h, op.id, 'create-vm.with-disks-and-interface');
      const vm = await get(op.vmId!);
      expect(vm.disks.map((d: { position: number; sizeGb: number }) => [d.position, d.sizeGb])).toEqual([
        [0, 10],
        [1, 5],
        [2, 7],
      ]);
      const live = await h.hypervisor.getVm(vm.nodeId, vm.id);
      expect(live?.nics).toHaveLength(1);
      expect(live?.rootPasswordHash).toMatch(/^\$scrypt\$/);
      const [nic] = await h.dataSource.query(`SELECT mac, network FROM network_interfaces WHERE vm_id = $1`, [vm.id]);
      expect(nic).toEqual({ mac: expect.stringMatching(/^52(:[0-9a-f]{2}){5}$/), network: 'private' });
      const [stored] = await h.dataSource.query(`SELECT request::text AS request FROM operations WHERE id = $1`, [op.id]);
      expect(stored.request).not.toContain('Secret_123');
    });

    it('validates hostname, password, sizes and disks (400) and capacity (417), creating nothing', async () => {
      const before = await h.dataSource.query(`SELECT count(*)::int AS n FROM vms`);
      const bad = [
        { hostname: '1starts-with-digit' },
        { hostname: 'a'.repeat(26) },
        { rootPassword: 'short' },
        { rootPassword: 'has space 123' },
        { cpus: 0 },
        { memoryMb: 100 },
        { dataDisks: [{ sizeGb: 0 }] },
        { dataDisks: Array.from({ length: 8 }, () => ({ sizeGb: 1 })) },
        { network: 'Public!' },
      ];
      for (const extra of bad) {
        const res = await h.call('POST', '/v1/vms', { key, body: vmBody(extra) });
        expect([JSON.stringify(extra), res.status, res.body.error.code]).toEqual([JSON.stringify(extra), 400, 'VALIDATION_FAILED']);
      }
      const huge = await h.call('POST', '/v1/vms', { key, body: vmBody({ dataDisks: [{ sizeGb: 4096 }] }) });
      expect([huge.status, huge.body.error.code]).toEqual([417, 'INSUFFICIENT_CAPACITY']);
      expect(await h.dataSource.query(`SELECT count(*)::int AS n FROM vms`)).toEqual(before);
    });
  });

  it('lists with filters, order and count, and reads the live status from the node (and writes it back)', async () => {
    const a = await h.createVm(key);
    const b = await h.createVm(key, { start: false });
    await h.call('PATCH', `/v1/vms/${b.id}`, { key, body: { label: 'batch' } });
    const byLabel = await h.call('GET', '/v1/vms?label=batch', { key });
    expect(byLabel.body.items.map((v: { id: string }) => v.id)).toEqual([b.id]);
    expect((await h.call('GET', `/v1/vms?hostname=${a.hostname.slice(5)}`, { key })).body.items.map((v: { id: string }) => v.id)).toEqual([
      a.id,
    ]);
    const stopped = await h.call('GET', '/v1/vms?status=stopped&orderBy=-created&limit=1&total=true', { key });
    expect(stopped.body).toMatchObject({ limit: 1, items: [{ id: b.id }] });
    const count = await h.call('GET', '/v1/vms/count?status=stopped', { key });
    expect(count.body.count).toBe(stopped.body.total);
    expect((await h.call('GET', '/v1/vms?orderBy=colour', { key })).status).toBe(400);

    // The node changed behind the inventory's back: GET shows it, PUT records it.
    await h.hypervisor.forceStopVm(a.nodeId, a.id);
    const live = await h.call('GET', `/v1/vms/${a.id}/status/current`, { key });
    expect(live.body).toMatchObject({ inventoryStatus: 'running', live: { powerState: 'stopped' }, inSync: false });
    const synced = await h.call('PUT', `/v1/vms/${a.id}/status/current`, { key });
    expect(synced.body).toMatchObject({ inventoryStatus: 'stopped', inSync: true });
    expect((await get(a.id)).status).toBe('stopped');
  });

  it('answers 409 VM_BUSY naming the running operation to every mutation of a busy VM, and 400 to bad input, starting nothing', async () => {
    const vm = await h.createVm(key);
    await h.runOperation(key, 'POST', `/v1/vms/${vm.id}/snapshots`, { name: 's1' });
    const disk = (await get(vm.id)).disks[0].id;
    const operations = async () => (await h.dataSource.query(`SELECT count(*)::int AS n FROM operations`))[0].n;

    const bad: [string, string, unknown][] = [
      ['POST', `/v1/vms/${vm.id}/stop`, { timeoutSeconds: -1 }],
      ['POST', `/v1/vms/${vm.id}/reboot`, { force: 1 }],
      ['PATCH', `/v1/vms/${vm.id}`, { cpus: 65 }],
      ['PATCH', `/v1/vms/${vm.id}`, { apply: 'later' }],
      ['POST', `/v1/vms/${vm.id}/rebuild`, { templateId: 'debian' }],
      ['POST', `/v1/vms/${vm.id}/disks`, { sizeGb: 'big' }],
      ['POST', `/v1/vms/${vm.id}/disks`, { sizeGb: 1, position: 0 }],
      ['POST', `/v1/vms/${vm.id}/disks/${disk}/attach`, { position: 16 }],
      ['POST', `/v1/vms/${vm.id}/disks/${disk}/resize`, {}],
      ['POST', `/v1/vms/${vm.id}/snapshots`, { name: 'x', fsfreeze: 'yes' }],
      ['POST', `/v1/vms/${vm.id}/snapshots/s1/rollback`, { method: 'sideways' }],
      ['GET', `/v1/vms?live=perhaps`, undefined],
    ];
    const before = await operations();
    for (const [method, path, body] of bad) {
      const res = await h.call(method, path, { key, body });
      expect([method, path, res.status, res.body.error?.code]).toEqual([method, path, 400, 'VALIDATION_FAILED']);
    }
    expect(await operations()).toBe(before);

    await h.sim.setLatency({ method: 'stopVm', ms: 3000 });
    const holder = await h.call('POST', `/v1/vms/${vm.id}/reboot`, { key });
    expect(holder.status).toBe(202);
    const mutations: [string, string, unknown?][] = [
      ['POST', `/v1/vms/${vm.id}/start`],
      ['POST', `/v1/vms/${vm.id}/stop`],
      ['POST', `/v1/vms/${vm.id}/shutdown`],
      ['POST', `/v1/vms/${vm.id}/reboot`],
      ['POST', `/v1/vms/${vm.id}/reset`],
      ['POST', `/v1/vms/${vm.id}/freeze`],
      ['POST', `/v1/vms/${vm.id}/unfreeze`],
      ['PATCH', `/v1/vms/${vm.id}`, { cpus: 2, apply: 'restart' }],
      ['POST', `/v1/vms/${vm.id}/rebuild`, {}],
      ['DELETE', `/v1/vms/${vm.id}`],
      ['POST', `/v1/vms/${vm.id}/disks`, { sizeGb: 1 }],
      ['POST', `/v1/vms/${vm.id}/disks/${disk}/detach`],
      ['POST', `/v1/vms/${vm.id}/disks/${disk}/resize`, { sizeGb: 50 }],
      ['DELETE', `/v1/vms/${vm.id}/disks/${disk}`],
      ['POST', `/v1/vms/${vm.id}/snapshots`, { name: 'x' }],
      ['DELETE', `/v1/vms/${vm.id}/snapshots/s1`],
      ['POST', `/v1/vms/${vm.id}/snapshots/sync`],
      ['POST', `/v1/vms/${vm.id}/snapshots/s1/rollback`, { method: 'new_disk' }],
      ['POST', `/v1/vms/${vm.id}/snapshots/s1/rollback`, { method: 'in_place', stopFirst: true }],
    ];
    const during = await operations();
    for (const [method, path, body] of mutations) {
      const res = await h.call(method, path, { key, body: body ?? {} });
      expect([method, path, res.status, res.body.error?.code, res.body.error?.details?.operationId]).toEqual([
        method,
        path,
        409,
        'VM_BUSY',
        holder.body.id,
      ]);
    }
    expect(await operations()).toBe(during);
    expect((await h.waitForOperation(key, holder.body.id)).status).toBe('succeeded');

    const live = await h.call('GET', `/v1/vms?live=true&hostname=${vm.hostname}`, { key });
    expect(live.body.items).toEqual([
      expect.objectContaining({
        id: vm.id,
        live: { powerState: 'running', frozen: false },
        interfaces: [expect.objectContaining({ position: 0, network: 'public' })],
      }),
    ]);
  });

  describe('update', () => {
    it('resizes a stopped VM; undone at every driver call', async () => {
      const calls = await checkSaga(h, key, {
        setup: async () => {
          const vm = await h.createVm(key, { start: false });
          return {
            vmId: vm.id,
            nodeId: vm.nodeId,
            request: { method: 'PATCH', path: `/v1/vms/${vm.id}`, body: { cpus: 2, memoryMb: 1024 } },
          };
        },
      });
      expect(calls).toEqual(['resizeVm']);
    });

    it('restarts a running VM to apply the size when asked; undone at every driver call', async () => {
      const calls = await checkSaga(h, key, {
        setup: async () => {
          const vm = await h.createVm(key);
          return {
            vmId: vm.id,
            nodeId: vm.nodeId,
            request: { method: 'PATCH', path: `/v1/vms/${vm.id}`, body: { memoryMb: 1024, apply: 'restart' } },
          };
        },
      });
      expect(calls).toEqual(['stopVm', 'resizeVm', 'startVm']);
    });

    it('keeps the size of a running VM for its next stop', async () => {
      const vm = await h.createVm(key);
      const refused = await h.call('PATCH', `/v1/vms/${vm.id}`, { key, body: { cpus: 2 } });
      expect([refused.status, refused.body.error.code]).toEqual([423, 'VM_INVALID_STATE']);
      const kept = await h.call('PATCH', `/v1/vms/${vm.id}`, { key, body: { cpus: 2, memoryMb: 768, apply: 'next_stop' } });
      expect(kept.status).toBe(200);
      expect(kept.body).toMatchObject({ cpus: 1, pendingSize: { cpus: 2, memoryMb: 768 } });
      const stop = await h.runOperation(key, 'POST', `/v1/vms/${vm.id}/stop`);
      await recordOperationHistory(h, stop.id, 'stop-vm.applies-pending-size');
      expect(stop.steps.map((s) => s.name)).toEqual(['stopVm', 'applyPendingSize', 'recordSize', 'recordVm']);
      expect(await get(vm.id)).toMatchObject({ cpus: 2, memoryMb: 768, pendingSize: null });
      expect(await h.hypervisor.getVm(vm.nodeId, vm.id)).toMatchObject({ cpus: 2, memoryMb: 768 });
      const big = await h.call('PATCH', `/v1/vms/${vm.id}`, { key, body: { memoryMb: 524288 } });
      expect([big.status, big.body.error.code]).toEqual([417, 'INSUFFICIENT_CAPACITY']);
      const update = await h.runOperation(key, 'PATCH', `/v1/vms/${vm.id}`, { cpus: 1 });
      await recordOperationHistory(h, update.id, 'update-vm.succeeded');
    });
  });

  describe('disks', () => {
    it('creates and attaches a disk; undone at every driver call', async () => {
      const calls = await checkSaga(h, key, {
        setup: async () => {
          const vm = await h.createVm(key);
          return { vmId: vm.id, nodeId: vm.nodeId, request: { method: 'POST', path: `/v1/vms/${vm.id}/disks`, body: { sizeGb: 3 } } };
        },
      });
      expect(calls).toEqual(['createBlankDisk', 'attachDisk']);
    });

    it("detaches a data disk (kept, the VM's) and attaches it again; at 0 it swaps with the system disk of a stopped VM", async () => {
      const vm = await h.createVm(key, { start: false });
      const created = await h.runOperation(key, 'POST', `/v1/vms/${vm.id}/disks`, { sizeGb: 3 });
      await recordOperationHistory(h, created.id, 'disk-create.succeeded');
      const data = (await get(vm.id)).disks.find((d: { position: number }) => d.position === 1).id;
      const system = (await get(vm.id)).disks.find((d: { position: number }) => d.position === 0).id;

      const detached = await h.runOperation(key, 'POST', `/v1/vms/${vm.id}/disks/${data}/detach`);
      await recordOperationHistory(h, detached.id, 'disk-detach.succeeded');
      expect((await h.call('GET', `/v1/vms/${vm.id}/disks`, { key })).body.items.find((d: { id: string }) => d.id === data)).toMatchObject({
        vmId: vm.id,
        position: null,
      });
      expect((await h.call('GET', '/v1/disks?detached=true', { key })).body.items.map((d: { id: string }) => d.id)).toContain(data);
      expect((await h.auditNode(vm.nodeId)).diff.clean).toBe(true);

      const swapped = await h.runOperation(key, 'POST', `/v1/vms/${vm.id}/disks/${data}/attach`, { position: 0 });
      await recordOperationHistory(h, swapped.id, 'disk-attach.swap');
      const positions = Object.fromEntries((await get(vm.id)).disks.map((d: { id: string; position: number }) => [d.id, d.position]));
      expect(positions).toEqual({ [data]: 0, [system]: 1 });
      expect((await h.hypervisor.getVm(vm.nodeId, vm.id))?.disks).toEqual([
        { id: data, position: 0 },
        { id: system, position: 1 },
      ]);

      const calls = await checkSaga(h, key, {
        setup: async () => {
          const fresh = await h.createVm(key, { start: false });
          await h.runOperation(key, 'POST', `/v1/vms/${fresh.id}/disks`, { sizeGb: 1 });
          const disk = (await get(fresh.id)).disks.find((d: { position: number }) => d.position === 1).id;
          await h.runOperation(key, 'POST', `/v1/vms/${fresh.id}/disks/${disk}/detach`);
          return {
            vmId: fresh.id,
            nodeId: fresh.nodeId,
            request: { method: 'POST', path: `/v1/vms/${fresh.id}/disks/${disk}/attach`, body: { position: 0 } },
          };
        },
      });
      expect(calls).toEqual(['detachDisk', 'attachDisk', 'attachDisk']);
    });

    it("refuses the running VM's system disk (423), a taken position (409), a shrink (412); grows and deletes", async () => {
      const vm = await h.createVm(key);
      const system = (await get(vm.id)).disks[0].id;
      const detach = await h.call('POST', `/v1/vms/${vm.id}/disks/${system}/detach`, { key });
      expect([detach.status, detach.body.error.code]).toEqual([423, 'VM_INVALID_STATE']);
      await h.runOperation(key, 'POST', `/v1/vms/${vm.id}/disks`, { sizeGb: 2, position: 3 });
      const taken = await h.call('POST', `/v1/vms/${vm.id}/disks`, { key, body: { sizeGb: 2, position: 3 } });
      expect([taken.status, taken.body.error.code]).toEqual([409, 'POSITION_TAKEN']);
      const data = (await get(vm.id)).disks.find((d: { position: number }) => d.position === 3).id;
      const shrink = await h.call('POST', `/v1/vms/${vm.id}/disks/${data}/resize`, { key, body: { sizeGb: 1 } });
      expect([shrink.status, shrink.body.error.code]).toEqual([412, 'INVALID_PARAMETER']);
      expect(
        await checkSaga(h, key, {
          setup: async () => {
            const fresh = await h.createVm(key);
            await h.runOperation(key, 'POST', `/v1/vms/${fresh.id}/disks`, { sizeGb: 2 });
            const disk = (await get(fresh.id)).disks.find((d: { position: number }) => d.position === 1).id;
            return {
              vmId: fresh.id,
              nodeId: fresh.nodeId,
              request: { method: 'POST', path: `/v1/vms/${fresh.id}/disks/${disk}/resize`, body: { sizeGb: 3 } },
            };
          },
        }),
      ).toEqual(['resizeDisk']);
      const grown = await h.runOperation(key, 'POST', `/v1/vms/${vm.id}/disks/${data}/resize`, { sizeGb: 10 });
      await recordOperationHistory(h, grown.id, 'disk-resize.succeeded');
      expect((await h.hypervisor.getDisk(vm.nodeId, data))?.sizeGb).toBe(10);
      const deleteSystem = await h.call('DELETE', `/v1/vms/${vm.id}/disks/${system}`, { key });
      expect([deleteSystem.status, deleteSystem.body.error.code]).toEqual([423, 'SYSTEM_DISK']);
      const deleted = await h.runOperation(key, 'DELETE', `/v1/vms/${vm.id}/disks/${data}`);
      await recordOperationHistory(h, deleted.id, 'disk-delete.succeeded');
      expect(deleted.steps.map((s) => s.name)).toEqual(['detachDisk', 'deleteDisk', 'forgetDisk']);
      expect(await h.hypervisor.getDisk(vm.nodeId, data)).toBeNull();
      expect((await h.auditNode(vm.nodeId)).diff.clean).toBe(true);
    });

    it('deleting an attached data disk is undone at every driver call before the deletion', async () => {
      const calls = await checkSaga(h, key, {
        setup: async () => {
          const vm = await h.createVm(key);
          await h.runOperation(key, 'POST', `/v1/vms/${vm.id}/disks`, { sizeGb: 2 });
          const data = (await get(vm.id)).disks.find((d: { position: number }) => d.position === 1).id;
          return { vmId: vm.id, nodeId: vm.nodeId, request: { method: 'DELETE', path: `/v1/vms/${vm.id}/disks/${data}` } };
        },
      });
      expect(calls).toEqual(['detachDisk', 'deleteDisk']);
    });
  });

  describe('rebuild', () => {
    it('recreates every disk (system from the template, data zeroed) and starts; undone until the old disks go', async () => {
      const calls = await checkSaga(h, key, {
        setup: async () => {
          const vm = await h.createVm(key);
          await h.runOperation(key, 'POST', `/v1/vms/${vm.id}/disks`, { sizeGb: 2 });
          return { vmId: vm.id, nodeId: vm.nodeId, request: { method: 'POST', path: `/v1/vms/${vm.id}/rebuild`, body: {} } };
        },
        pastPointOfNoReturn: (k, calls) => k > calls.indexOf('deleteDisk'),
      });
      expect(calls).toEqual([
        'stopVm',
        'createDiskFromTemplate',
        'createBlankDisk',
        'detachDisk',
        'attachDisk',
        'detachDisk',
        'attachDisk',
        'startVm',
        'deleteDisk',
        'deleteDisk',
      ]);
    });

    it('zeroes the data, can switch template and stay stopped', async () => {
      const admin = (await h.newTenant('admin')).apiKey;
      const other = await h.call('POST', '/v1/templates', { key: admin, body: { name: 'alpine-3', osFamily: 'linux', diskSizeGb: 5 } });
      const vm = await h.createVm(key);
      const [system] = (await get(vm.id)).disks;
      await h.sim.writeToDisk(system.id, 'user data');
      const op = await h.runOperation(key, 'POST', `/v1/vms/${vm.id}/rebuild`, { templateId: other.body.id, startAfter: false });
      await recordOperationHistory(h, op.id, 'rebuild-vm.succeeded');
      const after = await get(vm.id);
      expect(after).toMatchObject({ status: 'stopped', templateId: other.body.id });
      expect(after.disks[0].id).not.toBe(system.id);
      expect((await h.hypervisor.getDisk(vm.nodeId, after.disks[0].id))?.content).toBe(`template:${other.body.id}`);
      expect(await h.hypervisor.getDisk(vm.nodeId, system.id)).toBeNull();
      expect((await h.auditNode(vm.nodeId)).diff.clean).toBe(true);
    });
  });

  describe('delete', () => {
    it('Gandi default: deletes the system disk and first interface, keeps the other disks detached; undone until the first deletion', async () => {
      let kept: string | null = null;
      const calls = await checkSaga(h, key, {
        setup: async () => {
          const vm = await h.createVm(key);
          await h.runOperation(key, 'POST', `/v1/vms/${vm.id}/disks`, { sizeGb: 2 });
          kept = (await get(vm.id)).disks.find((d: { position: number }) => d.position === 1).id;
          return { vmId: vm.id, nodeId: vm.nodeId, request: { method: 'DELETE', path: `/v1/vms/${vm.id}` } };
        },
        pastPointOfNoReturn: (k, calls) => k > calls.indexOf('deleteDisk'),
      });
      expect(calls).toEqual(['forceStopVm', 'detachDisk', 'undefineVm', 'deleteDisk', 'deleteNic']);
      const [row] = await h.dataSource.query(`SELECT vm_id, position FROM disks WHERE id = $1`, [kept]);
      expect(row).toEqual({ vm_id: null, position: null });
    });

    it('deleteAllDisks deletes every disk; the VM and its records are gone, the audit clean', async () => {
      const vm = await h.createVm(key);
      await h.runOperation(key, 'POST', `/v1/vms/${vm.id}/disks`, { sizeGb: 2 });
      await h.runOperation(key, 'POST', `/v1/vms/${vm.id}/disks`, { sizeGb: 3 });
      const spare = (await get(vm.id)).disks.find((d: { position: number }) => d.position === 2).id;
      await h.runOperation(key, 'POST', `/v1/vms/${vm.id}/disks/${spare}/detach`);
      await h.runOperation(key, 'POST', `/v1/vms/${vm.id}/snapshots`, { name: 'gone-too' });
      const op = await h.runOperation(key, 'DELETE', `/v1/vms/${vm.id}?deleteAllDisks=true`);
      expect(op.steps.map((s) => s.name)).toEqual([
        'stopVm',
        'detachDisk1',
        'undefineVm',
        'deleteSystemDisk',
        'deleteInterface',
        expect.stringMatching(/^deleteDisk:/),
        expect.stringMatching(/^deleteDisk:/),
        'forgetVm',
      ]);
      expect(await h.hypervisor.getDisk(vm.nodeId, spare)).toBeNull();
      await recordOperationHistory(h, op.id, 'delete-vm.succeeded');
      expect(op.status).toBe('succeeded');
      expect((await h.call('GET', `/v1/vms/${vm.id}`, { key })).status).toBe(404);
      expect(await h.dataSource.query(`SELECT id FROM disks WHERE vm_id = $1`, [vm.id])).toEqual([]);
      expect(await h.hypervisor.getVm(vm.nodeId, vm.id)).toBeNull();
      expect((await h.auditNode(vm.nodeId)).diff).toMatchObject({ clean: true });
      expect((await h.call('DELETE', `/v1/vms/${vm.id}?deleteAllDisks=maybe`, { key })).status).toBe(400);
    });

    it('a delete past its point of no return is stuck; an admin reset then drops the VM', async () => {
      const vm = await h.createVm(key);
      await h.sim.injectFault({ method: 'deleteNic', error: 'invalid_state', message: 'interface busy' });
      const op = await h.runOperation(key, 'DELETE', `/v1/vms/${vm.id}`);
      expect(op).toMatchObject({ status: 'stuck', error: { code: 'FAILED_AFTER_COMMIT', step: 'deleteInterface' } });
      await h.sim.clearFaults();
      const admin = (await h.newTenant('admin')).apiKey;
      const reset = await h.call('POST', `/v1/admin/vms/${vm.id}/reset`, { key: admin });
      expect((await h.waitForOperation(key, reset.body.id)).status).toBe('succeeded');
      expect((await h.call('GET', `/v1/vms/${vm.id}`, { key })).status).toBe(404);
      // What the failed step left behind is on the node for a human to see: the interface.
      expect((await h.auditNode(vm.nodeId)).diff.orphans).toEqual([expect.objectContaining({ kind: 'nic' })]);
    });
  });
});
