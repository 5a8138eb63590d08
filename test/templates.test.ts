import { startHarness, type Harness } from './support/harness';
import { recordOperationHistory } from './support/histories';
import { checkSaga } from './support/saga-kit';

/** Templates made from VMs (Gigas): captured from a stopped (or fsfrozen) VM's system disk, the tenant's own. */
describe('templates from VMs', () => {
  let h: Harness;
  let key: string;
  let n = 0;

  beforeAll(async () => {
    h = await startHarness();
    ({ apiKey: key } = await h.newTenant());
  });
  afterAll(() => h?.close());
  afterEach(() => h.resetFaults());

  const name = () => `golden-${Date.now().toString(36)}-${n++}`;
  const systemDisk = async (vmId: string) => (await h.call('GET', `/v1/vms/${vmId}`, { key })).body.disks[0].id as string;
  const templateNamed = async (k: string, templateName: string) =>
    (
      (await h.call('GET', '/v1/templates', { key: k })).body.items as { id: string; name: string; status: string; visibility: string }[]
    ).find((t) => t.name === templateName);

  it("captures a stopped VM's system disk; new VMs built from it hold its data; undone at the capture", async () => {
    const calls = await checkSaga(h, key, {
      setup: async () => {
        const vm = await h.createVm(key, { start: false });
        return { vmId: vm.id, nodeId: vm.nodeId, request: { method: 'POST', path: '/v1/templates', body: { name: name(), vmId: vm.id } } };
      },
    });
    expect(calls).toEqual(['captureImage']);

    const source = await h.createVm(key, { start: false });
    await h.sim.writeToDisk(await systemDisk(source.id), 'configured web server');
    const templateName = name();
    const op = await h.runOperation(key, 'POST', '/v1/templates', { name: templateName, vmId: source.id, description: 'nginx + app' });
    await recordOperationHistory(h, op.id, 'template-create.succeeded');
    expect(op).toMatchObject({ type: 'template.create', status: 'succeeded', vmId: source.id });
    const template = await templateNamed(key, templateName);
    expect(template).toMatchObject({
      status: 'ready',
      visibility: 'tenant',
      sourceVmId: source.id,
      diskSizeGb: 10,
      osFamily: 'linux',
      description: 'nginx + app',
    });

    // Writes to the source after the capture do not reach VMs built from the template, on either node.
    await h.sim.writeToDisk(await systemDisk(source.id), 'changed later');
    for (const nodeId of h.world.nodeIds) {
      const created = await h.runOperation(key, 'POST', '/v1/vms', {
        hostname: name(),
        templateId: template!.id,
        cpus: 1,
        memoryMb: 512,
        nodeId,
      });
      expect(created.status).toBe('succeeded');
      const vm = (await h.call('GET', `/v1/vms/${created.vmId}`, { key })).body;
      expect(vm.templateId).toBe(template!.id);
      expect((await h.hypervisor.getDisk(nodeId, vm.disks[0].id))?.content).toBe('configured web server');
    }
  });

  it('a running VM: 423 unless fsfreeze, which needs its guest agent; captured with the filesystems frozen', async () => {
    const vm = await h.createVm(key);
    const refused = await h.call('POST', '/v1/templates', { key, body: { name: name(), vmId: vm.id } });
    expect([refused.status, refused.body.error.code]).toEqual([423, 'VM_INVALID_STATE']);
    const frozen = await h.runOperation(key, 'POST', '/v1/templates', { name: name(), vmId: vm.id, fsfreeze: true });
    expect(frozen.status).toBe('succeeded');
    expect((await h.hypervisor.getVm(vm.nodeId, vm.id))?.powerState).toBe('running');

    await h.sim.setGuestAgent(vm.id, false);
    const noAgentName = name();
    const noAgent = await h.runOperation(key, 'POST', '/v1/templates', { name: noAgentName, vmId: vm.id, fsfreeze: true });
    expect(noAgent.status).toBe('failed');
    expect(noAgent.error?.message).toContain('guest agent');
    expect(await templateNamed(key, noAgentName)).toBeUndefined();
  });

  it("is the tenant's own; deleting it is refused while a VM uses it, then takes its image", async () => {
    const source = await h.createVm(key, { start: false });
    const templateName = name();
    await h.runOperation(key, 'POST', '/v1/templates', { name: templateName, vmId: source.id });
    const template = (await templateNamed(key, templateName))!;
    const stranger = (await h.newTenant()).apiKey;
    expect(await templateNamed(stranger, templateName)).toBeUndefined();
    expect((await h.call('GET', `/v1/templates/${template.id}`, { key: stranger })).status).toBe(404);
    const foreign = await h.call('POST', '/v1/vms', {
      key: stranger,
      body: { hostname: name(), templateId: template.id, cpus: 1, memoryMb: 512 },
    });
    expect([foreign.status, foreign.body.error.code]).toEqual([412, 'INVALID_PARAMETER']);
    expect((await h.call('DELETE', `/v1/templates/${template.id}`, { key: stranger })).status).toBe(404);

    const user = await h.runOperation(key, 'POST', '/v1/vms', { hostname: name(), templateId: template.id, cpus: 1, memoryMb: 512 });
    const inUse = await h.call('DELETE', `/v1/templates/${template.id}`, { key });
    expect([inUse.status, inUse.body.error.code, inUse.body.error.details.vms.map((v: { id: string }) => v.id)]).toEqual([
      409,
      'TEMPLATE_IN_USE',
      [user.vmId],
    ]);
    await h.runOperation(key, 'DELETE', `/v1/vms/${user.vmId}`);

    // The image cannot be deleted: the operation fails, and the template is ready again, still usable.
    await h.sim.injectFault({ method: 'deleteImage', failCalls: 1, error: 'invalid_state' });
    const refused = await h.runOperation(key, 'DELETE', `/v1/templates/${template.id}`);
    expect(refused.status).toBe('failed');
    expect((await h.call('GET', `/v1/templates/${template.id}`, { key })).body.status).toBe('ready');
    await h.resetFaults();

    const dry = await h.call('DELETE', `/v1/templates/${template.id}?dryRun=true`, { key });
    expect(dry.body.steps.map((s: { name: string; commit: boolean }) => [s.name, s.commit])).toEqual([
      ['deleteImage', true],
      ['forgetTemplate', false],
    ]);
    const deleted = await h.call('DELETE', `/v1/templates/${template.id}`, { key });
    expect(deleted.status).toBe(202);
    const op = await h.waitForOperation(key, deleted.body.id);
    await recordOperationHistory(h, op.id, 'template-delete.succeeded');
    expect(op).toMatchObject({ type: 'template.delete', status: 'succeeded' });
    expect((await h.call('GET', `/v1/templates/${template.id}`, { key })).status).toBe(404);
    const gone = await h.call('POST', '/v1/vms', { key, body: { hostname: name(), templateId: template.id, cpus: 1, memoryMb: 512 } });
    expect(gone.status).toBe(412);
  });

  it('refuses bad input with what to fix, and a create racing a delete never builds from a deleted image', async () => {
    const vm = await h.createVm(key, { start: false });
    const admin = (await h.newTenant('admin')).apiKey;
    const cases: [string, string, unknown, number, string][] = [
      ['POST', '/v1/templates', { name: 'Bad Name', vmId: vm.id }, 400, 'VALIDATION_FAILED'],
      ['POST', '/v1/templates', { name: 'x', vmId: vm.id, osFamily: 'linux' }, 400, 'VALIDATION_FAILED'],
      ['POST', '/v1/templates', { name: 'x' }, 400, 'VALIDATION_FAILED'],
      ['POST', '/v1/templates', { name: 'x', osFamily: 'linux', diskSizeGb: 5 }, 403, 'ADMIN_REQUIRED'],
      ['POST', '/v1/templates', { name: 'x', vmId: '00000000-0000-4000-8000-000000000000' }, 404, 'NOT_FOUND'],
      ['DELETE', `/v1/templates/${h.world.templateId}`, undefined, 403, 'ADMIN_REQUIRED'],
      ['GET', '/v1/templates/not-a-uuid', undefined, 400, 'VALIDATION_FAILED'],
    ];
    for (const [method, path, body, status, code] of cases) {
      const res = await h.call(method, path, { key, body });
      expect({ method, path, body, status: res.status, code: res.body.error?.code }).toEqual({ method, path, body, status, code });
    }
    const templateName = name();
    await h.runOperation(key, 'POST', '/v1/templates', { name: templateName, vmId: vm.id });
    const taken = await h.call('POST', '/v1/templates', { key, body: { name: templateName, vmId: vm.id } });
    expect([taken.status, taken.body.error.code]).toEqual([409, 'NAME_TAKEN']);
    const base = await h.call('DELETE', `/v1/templates/${h.world.templateId}`, { key: admin });
    expect([base.status, base.body.error.code]).toEqual([409, 'TEMPLATE_IN_USE']);

    // Creates and a delete of one template at once: either a VM is built (and the delete refused) or the template is gone first.
    const template = (await templateNamed(key, templateName))!;
    await h.sim.setLatency({ method: 'deleteImage', ms: 500 });
    const [del, ...creates] = await Promise.all([
      h.call('DELETE', `/v1/templates/${template.id}`, { key }),
      ...[0, 1, 2].map(() =>
        h.call('POST', '/v1/vms', { key, body: { hostname: name(), templateId: template.id, cpus: 1, memoryMb: 512 } }),
      ),
    ]);
    const built = creates.filter((c) => c.status === 202);
    if (del.status === 202) {
      expect((await h.waitForOperation(key, del.body.id)).status).toBe('succeeded');
      for (const c of creates) expect(['423 TEMPLATE_NOT_READY', '412 INVALID_PARAMETER']).toContain(`${c.status} ${c.body.error?.code}`);
      expect(built).toEqual([]);
    } else {
      expect([del.status, del.body.error.code]).toEqual([409, 'TEMPLATE_IN_USE']);
      expect(built.length).toBeGreaterThan(0);
    }
    for (const c of built) expect((await h.waitForOperation(key, c.body.id)).status).toBe('succeeded');
  });
});
