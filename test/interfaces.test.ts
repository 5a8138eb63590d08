import { startHarness, type Harness } from './support/harness';
import { recordOperationHistory } from './support/histories';
import { checkSaga } from './support/saga-kit';

interface Iface {
  id: string;
  vmId: string | null;
  nodeId: string;
  position: number | null;
  mac: string;
  network: string;
  ipAddress: string | null;
}

/** Network interfaces (Gandi iface_*): create and attach, detach, attach again, delete — hot-plugged, sagas all. */
describe('network interfaces', () => {
  let h: Harness;
  let key: string;

  beforeAll(async () => {
    h = await startHarness({ env: { NETWORK_POOLS: 'public=100.64.0.0/10,private=10.0.0.0/8,tiny=192.0.2.0/30' } });
    ({ apiKey: key } = await h.newTenant());
  });
  afterAll(() => h?.close());
  afterEach(() => h.resetFaults());

  const ifaces = async (vmId: string, k = key) =>
    (await h.call('GET', `/v1/vms/${vmId}/interfaces`, { key: k })).body as { items: Iface[]; warnings: string[] };
  const first = async (vmId: string) => (await ifaces(vmId)).items.find((n) => n.position === 0)!;

  it('creates an interface on a running VM and attaches it; undone at every driver call', async () => {
    const calls = await checkSaga(h, key, {
      setup: async () => {
        const vm = await h.createVm(key);
        return {
          vmId: vm.id,
          nodeId: vm.nodeId,
          request: { method: 'POST', path: `/v1/vms/${vm.id}/interfaces`, body: { network: 'private' } },
        };
      },
    });
    expect(calls).toEqual(['createNic', 'attachNic']);

    const vm = await h.createVm(key);
    const op = await h.runOperation(key, 'POST', `/v1/vms/${vm.id}/interfaces`, { network: 'backend', position: 3 });
    await recordOperationHistory(h, op.id, 'nic-create.succeeded');
    expect(op.steps.map((s) => s.name)).toEqual(['createNic', 'attachNic', 'recordNic']);
    const { items, warnings } = await ifaces(vm.id);
    expect(items.map((n) => [n.position, n.network])).toEqual([
      [0, 'public'],
      [3, 'backend'],
    ]);
    expect(warnings).toEqual([]);
    const added = items[1];
    expect(added.mac).toMatch(/^52(:[0-9a-f]{2}){5}$/);
    // public has a pool: an address from it; backend has none.
    expect(items[0].ipAddress).toMatch(/^100\.(6[4-9]|[7-9]\d|1[01]\d|12[0-7])\.\d+\.\d+$/);
    expect(added.ipAddress).toBeNull();
    expect((await h.hypervisor.getVm(vm.nodeId, vm.id))?.nics).toEqual(expect.arrayContaining([{ id: added.id, position: 3 }]));
    expect((await h.call('GET', `/v1/vms/${vm.id}`, { key })).body.interfaces).toHaveLength(2);
    expect((await h.hypervisor.getVm(vm.nodeId, vm.id))?.powerState).toBe('running');
    expect((await h.auditNode(vm.nodeId)).diff.clean).toBe(true);
  });

  it("detaches the last interface with a warning (allowed, as Gandi), keeps it the VM's, and attaches it again", async () => {
    const vm = await h.createVm(key);
    const nic = await first(vm.id);
    const detach = await h.call('POST', `/v1/vms/${vm.id}/interfaces/${nic.id}/detach`, { key });
    expect(detach.status).toBe(202);
    expect(detach.body.warnings).toEqual([expect.stringContaining('no network interface attached')]);
    const detached = await h.waitForOperation(key, detach.body.id);
    expect(detached.status).toBe('succeeded');
    await recordOperationHistory(h, detached.id, 'nic-detach.succeeded');
    expect(await ifaces(vm.id)).toEqual({
      items: [expect.objectContaining({ id: nic.id, vmId: vm.id, position: null })],
      warnings: [expect.stringContaining('no network interface')],
    });
    expect((await h.call('GET', '/v1/interfaces?detached=true', { key })).body.items.map((n: Iface) => n.id)).toContain(nic.id);
    expect((await h.hypervisor.getVm(vm.nodeId, vm.id))?.nics).toEqual([]);

    const again = await h.call('POST', `/v1/vms/${vm.id}/interfaces/${nic.id}/detach`, { key });
    expect([again.status, again.body.error.code]).toEqual([409, 'INTERFACE_DETACHED']);

    const attached = await h.runOperation(key, 'POST', `/v1/vms/${vm.id}/interfaces/${nic.id}/attach`, { position: 2 });
    await recordOperationHistory(h, attached.id, 'nic-attach.succeeded');
    expect(await ifaces(vm.id)).toEqual({ items: [expect.objectContaining({ id: nic.id, position: 2, mac: nic.mac })], warnings: [] });
    expect((await h.hypervisor.getVm(vm.nodeId, vm.id))?.nics).toEqual([{ id: nic.id, position: 2 }]);
    expect((await h.auditNode(vm.nodeId)).diff.clean).toBe(true);

    const dry = await h.call('POST', `/v1/vms/${vm.id}/interfaces/${nic.id}/detach?dryRun=true`, { key });
    expect([dry.status, dry.body.steps.map((s: { name: string }) => s.name), dry.body.warnings.length]).toEqual([
      200,
      ['detachNic', 'recordNic'],
      1,
    ]);
  });

  it('detach and attach are undone at every driver call', async () => {
    const detachCalls = await checkSaga(h, key, {
      setup: async () => {
        const vm = await h.createVm(key);
        const nic = await first(vm.id);
        return { vmId: vm.id, nodeId: vm.nodeId, request: { method: 'POST', path: `/v1/vms/${vm.id}/interfaces/${nic.id}/detach` } };
      },
    });
    expect(detachCalls).toEqual(['detachNic']);
    const attachCalls = await checkSaga(h, key, {
      setup: async () => {
        const vm = await h.createVm(key, { start: false });
        const nic = await first(vm.id);
        await h.runOperation(key, 'POST', `/v1/vms/${vm.id}/interfaces/${nic.id}/detach`);
        return { vmId: vm.id, nodeId: vm.nodeId, request: { method: 'POST', path: `/v1/vms/${vm.id}/interfaces/${nic.id}/attach` } };
      },
    });
    expect(attachCalls).toEqual(['attachNic']);
  });

  it('deletes an attached interface (detached first); undone until the deletion, which is the point of no return', async () => {
    const calls = await checkSaga(h, key, {
      setup: async () => {
        const vm = await h.createVm(key);
        await h.runOperation(key, 'POST', `/v1/vms/${vm.id}/interfaces`, {});
        const second = (await ifaces(vm.id)).items.find((n) => n.position === 1)!;
        return { vmId: vm.id, nodeId: vm.nodeId, request: { method: 'DELETE', path: `/v1/vms/${vm.id}/interfaces/${second.id}` } };
      },
      pastPointOfNoReturn: (k, calls) => k > calls.indexOf('deleteNic'),
    });
    expect(calls).toEqual(['detachNic', 'deleteNic']);

    const vm = await h.createVm(key);
    const nic = await first(vm.id);
    const res = await h.call('DELETE', `/v1/vms/${vm.id}/interfaces/${nic.id}`, { key });
    expect([res.status, res.body.warnings]).toEqual([202, [expect.stringContaining('no network interface attached')]]);
    const op = await h.waitForOperation(key, res.body.id);
    await recordOperationHistory(h, op.id, 'nic-delete.succeeded');
    expect(op.steps.map((s) => [s.name, s.status])).toEqual([
      ['detachNic', 'succeeded'],
      ['deleteNic', 'succeeded'],
      ['forgetNic', 'succeeded'],
    ]);
    expect((await ifaces(vm.id)).items).toEqual([]);
    expect((await h.hypervisor.getVm(vm.nodeId, vm.id))?.nics).toEqual([]);
    expect((await h.auditNode(vm.nodeId)).diff.clean).toBe(true);
  });

  it("attaches an interface left behind by a deleted VM to another VM of its node; undone, it is nobody's again", async () => {
    const nodeId = h.world.nodeIds[0];
    const gone = await h.createVm(key, { nodeId });
    await h.runOperation(key, 'POST', `/v1/vms/${gone.id}/interfaces`, { network: 'private' });
    const kept = (await ifaces(gone.id)).items.find((n) => n.position === 1)!;
    await h.runOperation(key, 'DELETE', `/v1/vms/${gone.id}`);
    const [orphan] = await h.dataSource.query(`SELECT vm_id, position FROM network_interfaces WHERE id = $1`, [kept.id]);
    expect(orphan).toEqual({ vm_id: null, position: null });

    const vm = await h.createVm(key, { nodeId });
    // The attach lands on the node, then fails: its undo detaches it again.
    await h.sim.injectFault({ method: 'attachNic', nodeId, failCalls: 1, error: 'invalid_state', lands: true });
    const failed = await h.runOperation(key, 'POST', `/v1/vms/${vm.id}/interfaces/${kept.id}/attach`);
    expect(failed.status).toBe('failed');
    expect((await h.dataSource.query(`SELECT vm_id, position FROM network_interfaces WHERE id = $1`, [kept.id]))[0]).toEqual({
      vm_id: null,
      position: null,
    });
    expect((await h.hypervisor.getVm(nodeId, vm.id))?.nics.map((n) => n.id)).not.toContain(kept.id);
    expect((await h.auditNode(nodeId)).diff.clean).toBe(true);
    await h.resetFaults();

    const ok = await h.runOperation(key, 'POST', `/v1/vms/${vm.id}/interfaces/${kept.id}/attach`);
    expect(ok.status).toBe('succeeded');
    expect((await ifaces(vm.id)).items.map((n) => [n.id, n.position])).toEqual([
      [(await first(vm.id)).id, 0],
      [kept.id, 1],
    ]);

    const elsewhere = await h.createVm(key, { nodeId: h.world.nodeIds[1] });
    await h.runOperation(key, 'POST', `/v1/vms/${vm.id}/interfaces/${kept.id}/detach`);
    const mismatch = await h.call('POST', `/v1/vms/${elsewhere.id}/interfaces/${kept.id}/attach`, { key });
    // Still the first VM's: another VM cannot take it (404, as for anything not the caller's to use).
    expect([mismatch.status, mismatch.body.error.code]).toEqual([404, 'NOT_FOUND']);
  });

  it('answers bad input with a 4xx that names it and starts nothing', async () => {
    const vm = await h.createVm(key);
    const nic = await first(vm.id);
    const before = await h.dataSource.query(`SELECT count(*)::int AS n FROM operations WHERE vm_id = $1`, [vm.id]);
    const cases: [string, string, unknown, number, string][] = [
      ['POST', `/v1/vms/${vm.id}/interfaces`, { network: 'Bad Net' }, 400, 'VALIDATION_FAILED'],
      ['POST', `/v1/vms/${vm.id}/interfaces`, { position: 8 }, 400, 'VALIDATION_FAILED'],
      ['POST', `/v1/vms/${vm.id}/interfaces`, { position: 0 }, 409, 'POSITION_TAKEN'],
      ['POST', `/v1/vms/${vm.id}/interfaces`, { mac: '52:00:00:00:00:01' }, 400, 'VALIDATION_FAILED'],
      ['POST', `/v1/vms/${vm.id}/interfaces/${nic.id}/attach`, {}, 409, 'INTERFACE_ATTACHED'],
      ['POST', `/v1/vms/${vm.id}/interfaces/00000000-0000-4000-8000-000000000000/detach`, undefined, 404, 'NOT_FOUND'],
      ['POST', `/v1/vms/${vm.id}/interfaces/not-a-uuid/detach`, undefined, 400, 'VALIDATION_FAILED'],
      ['DELETE', `/v1/vms/00000000-0000-4000-8000-000000000000/interfaces/${nic.id}`, undefined, 404, 'NOT_FOUND'],
      ['GET', '/v1/interfaces?detached=maybe', undefined, 400, 'VALIDATION_FAILED'],
    ];
    for (const [method, path, body, status, code] of cases) {
      const res = await h.call(method, path, { key, body });
      expect({ method, path, status: res.status, code: res.body.error?.code }).toEqual({ method, path, status, code });
    }
    expect(await h.dataSource.query(`SELECT count(*)::int AS n FROM operations WHERE vm_id = $1`, [vm.id])).toEqual(before);

    const other = (await h.newTenant()).apiKey;
    const foreign = await h.call('POST', `/v1/vms/${vm.id}/interfaces/${nic.id}/detach`, { key: other });
    expect([foreign.status, foreign.body.error.code]).toEqual([404, 'NOT_FOUND']);
    expect((await h.call('GET', '/v1/interfaces', { key: other })).body.items).toEqual([]);

    await h.sim.setLatency({ method: 'createNic', ms: 1500 });
    const slow = await h.call('POST', `/v1/vms/${vm.id}/interfaces`, { key, body: {} });
    const busy = await h.call('POST', `/v1/vms/${vm.id}/interfaces/${nic.id}/detach`, { key });
    expect([busy.status, busy.body.error.code, busy.body.error.details.operationId]).toEqual([409, 'VM_BUSY', slow.body.id]);
    expect((await h.waitForOperation(key, slow.body.id)).status).toBe('succeeded');
  });

  it('two tenants adding interfaces to their VMs at once: each gets its own, every MAC distinct, each sees only its own', async () => {
    const tenants = [key, (await h.newTenant()).apiKey];
    const vms = await Promise.all(tenants.flatMap((k) => [0, 1, 2].map(async () => ({ k, vm: await h.createVm(k) }))));
    // Each creation takes a while on the node, so each VM's second request meets the first one still running.
    await h.sim.setLatency({ method: 'createNic', ms: 500 });
    // VMs created at the same time take addresses of the same pool, and the nodes' rows, while interfaces are recorded.
    const [started, creates] = await Promise.all([
      Promise.all(
        vms.flatMap(({ k, vm }) =>
          [0, 1].map(async () => ({ k, res: await h.call('POST', `/v1/vms/${vm.id}/interfaces`, { key: k, body: {} }) })),
        ),
      ),
      Promise.all(
        tenants.flatMap((k) =>
          [0, 1].map((i) =>
            h.call('POST', '/v1/vms', {
              key: k,
              body: { hostname: `nic-race-${Date.now().toString(36)}-${i}`, templateId: h.world.templateId, cpus: 1, memoryMb: 512 },
            }),
          ),
        ),
      ),
    ]);
    expect(creates.map((r) => r.status)).toEqual([202, 202, 202, 202]);
    // One operation per VM at a time: of each VM's two requests one starts, the other is told which one runs.
    expect(started.map(({ res }) => res.status).sort()).toEqual([...Array(6).fill(202), ...Array(6).fill(409)]);
    for (const { k, res } of started) {
      if (res.status === 202) expect((await h.waitForOperation(k, res.body.id)).status).toBe('succeeded');
      else expect(res.body.error.code).toBe('VM_BUSY');
    }
    const macs = new Set<string>();
    const addresses = new Set<string>();
    for (const { k, vm } of vms) {
      const { items } = await ifaces(vm.id, k);
      expect(items.map((n) => n.position)).toEqual([0, 1]);
      for (const n of items) {
        macs.add(n.mac);
        addresses.add(n.ipAddress!);
      }
    }
    // Every interface of both tenants has a MAC and a public address of its own.
    expect([macs.size, addresses.size]).toEqual([12, 12]);
    const second = (await h.call('GET', '/v1/interfaces', { key: tenants[1] })).body.items as Iface[];
    for (const [i, r] of creates.entries())
      expect((await h.waitForOperation(tenants[Math.floor(i / 2)], r.body.id)).status).toBe('succeeded');
    const secondsVms = [...vms.filter((v) => v.k === tenants[1]).map((v) => v.vm.id), ...creates.slice(2).map((r) => r.body.vmId)];
    expect(new Set(second.map((n) => n.vmId))).toEqual(new Set(secondsVms));
    for (const nodeId of h.world.nodeIds) expect((await h.auditNode(nodeId)).diff.clean).toBe(true);
  });

  it("hands out each address of a network's pool once, and takes a deleted interface's back; 417 when none is left", async () => {
    const vm = await h.createVm(key);
    const first = await h.runOperation(key, 'POST', `/v1/vms/${vm.id}/interfaces`, { network: 'tiny' });
    expect(first.status).toBe('succeeded');
    const tiny = (await ifaces(vm.id)).items.find((n) => n.network === 'tiny')!;
    // 192.0.2.0/30: .1 is the gateway's, .3 the broadcast: one address to hand out.
    expect(tiny.ipAddress).toBe('192.0.2.2');
    const none = await h.call('POST', `/v1/vms/${vm.id}/interfaces`, { key, body: { network: 'tiny' } });
    expect([none.status, none.body.error.code, none.body.error.details]).toEqual([
      417,
      'ADDRESS_POOL_EXHAUSTED',
      { network: 'tiny', pool: '192.0.2.0/30' },
    ]);
    await h.runOperation(key, 'DELETE', `/v1/vms/${vm.id}/interfaces/${tiny.id}`);
    await h.runOperation(key, 'POST', `/v1/vms/${vm.id}/interfaces`, { network: 'tiny' });
    expect((await ifaces(vm.id)).items.find((n) => n.network === 'tiny')?.ipAddress).toBe('192.0.2.2');
  });
});
