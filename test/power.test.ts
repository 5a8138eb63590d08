import { startHarness, type Harness } from './support/harness';
import { recordOperationHistory } from './support/histories';
import { checkSaga } from './support/saga-kit';

/** The power catalogue: start (ISO), stop (graceful, force), shutdown, reboot, hard reset, freeze, unfreeze. */
describe('VM power operations', () => {
  let h: Harness;
  let key: string;

  beforeAll(async () => {
    h = await startHarness();
    ({ apiKey: key } = await h.newTenant());
  });
  afterAll(() => h?.close());
  afterEach(() => h.resetFaults());

  const power = (action: string, body?: unknown) => async () => {
    const vm = await h.createVm(key, { start: !['start', 'freeze'].includes(action) });
    return { vmId: vm.id, nodeId: vm.nodeId, request: { method: 'POST', path: `/v1/vms/${vm.id}/${action}`, body } };
  };

  it('stop: ACPI shutdown; every driver call undone if it fails for good, retried if it fails for a while', async () => {
    expect(await checkSaga(h, key, { setup: power('stop', { timeoutSeconds: 5 }) })).toEqual(['stopVm']);
  });

  it('stop with force: a power-off, no ACPI', async () => {
    expect(await checkSaga(h, key, { setup: power('stop', { force: true }) })).toEqual(['forceStopVm']);
  });

  it('start boots once from an ISO when asked', async () => {
    expect(await checkSaga(h, key, { setup: power('start', { bootIso: 'rescue.iso' }) })).toEqual(['startVm']);
    const vm = await h.createVm(key, { start: false });
    await h.runOperation(key, 'POST', `/v1/vms/${vm.id}/start`, { bootIso: 'rescue.iso' });
    expect(await h.hypervisor.getVm(vm.nodeId, vm.id)).toMatchObject({ powerState: 'running', bootIso: 'rescue.iso' });
  });

  it('shutdown, reboot and reset', async () => {
    expect(await checkSaga(h, key, { setup: power('shutdown', { timeoutSeconds: 5 }) })).toEqual(['stopVm']);
    expect(await checkSaga(h, key, { setup: power('reboot', { timeoutSeconds: 5 }) })).toEqual(['stopVm', 'startVm']);
    expect(await checkSaga(h, key, { setup: power('reset') })).toEqual(['resetVm']);
  });

  it('freeze and unfreeze; a frozen VM refuses to start (423) until unfrozen', async () => {
    expect(await checkSaga(h, key, { setup: power('freeze') })).toEqual(['freezeVm']);
    expect(
      await checkSaga(h, key, {
        setup: async () => {
          const vm = await h.createVm(key, { start: false });
          await h.runOperation(key, 'POST', `/v1/vms/${vm.id}/freeze`);
          return { vmId: vm.id, nodeId: vm.nodeId, request: { method: 'POST', path: `/v1/vms/${vm.id}/unfreeze` } };
        },
      }),
    ).toEqual(['unfreezeVm']);

    const vm = await h.createVm(key, { start: false });
    const frozen = await h.runOperation(key, 'POST', `/v1/vms/${vm.id}/freeze`);
    await recordOperationHistory(h, frozen.id, 'freeze-vm.succeeded');
    expect((await h.call('GET', `/v1/vms/${vm.id}`, { key })).body).toMatchObject({ status: 'stopped', frozen: true });
    const refused = await h.call('POST', `/v1/vms/${vm.id}/start`, { key });
    expect(refused.status).toBe(423);
    expect(refused.body.error.code).toBe('VM_FROZEN');
    expect((await h.call('POST', `/v1/vms/${vm.id}/freeze`, { key })).body.error.code).toBe('VM_FROZEN');
    const unfrozen = await h.runOperation(key, 'POST', `/v1/vms/${vm.id}/unfreeze`);
    await recordOperationHistory(h, unfrozen.id, 'unfreeze-vm.succeeded');
    expect((await h.call('POST', `/v1/vms/${vm.id}/unfreeze`, { key })).body.error.code).toBe('VM_NOT_FROZEN');
    expect((await h.runOperation(key, 'POST', `/v1/vms/${vm.id}/start`)).status).toBe('succeeded');
  });

  it('a guest that ignores ACPI: shutdown fails and the VM keeps running; stop powers it off after the timeout', async () => {
    const vm = await h.createVm(key);
    // The guest's agent is gone: ACPI does nothing, as for a guest without one.
    await h.sim.setGuestAgent(vm.id, false);
    const shutdown = await h.runOperation(key, 'POST', `/v1/vms/${vm.id}/shutdown`, { timeoutSeconds: 1 });
    expect(shutdown.status).toBe('failed');
    await recordOperationHistory(h, shutdown.id, 'shutdown-vm.guest-ignored-acpi');
    expect(shutdown.error).toMatchObject({ code: 'GuestDidNotStop', step: 'shutdownVm' });
    expect((await h.hypervisor.getVm(vm.nodeId, vm.id))?.powerState).toBe('running');
    expect((await h.call('GET', `/v1/vms/${vm.id}`, { key })).body.status).toBe('running');

    const stop = await h.runOperation(key, 'POST', `/v1/vms/${vm.id}/stop`, { timeoutSeconds: 1 });
    expect(stop.status).toBe('succeeded');
    expect((await h.hypervisor.getVm(vm.nodeId, vm.id))?.powerState).toBe('stopped');
    await recordOperationHistory(h, stop.id, 'stop-vm.forced-after-timeout');
  });

  it('defaults the graceful timeout to 180 s, and 300 s for a Windows template (dry run shows it)', async () => {
    const admin = (await h.newTenant('admin')).apiKey;
    const windows = await h.call('POST', '/v1/templates', {
      key: admin,
      body: { name: 'windows-2022', osFamily: 'windows', diskSizeGb: 10 },
    });
    expect(windows.status).toBe(201);
    const linuxVm = await h.createVm(key);
    const windowsVm = await h.createVm(key, { templateId: windows.body.id });
    const summary = async (id: string, action: string) =>
      (await h.call('POST', `/v1/vms/${id}/${action}?dryRun=true`, { key })).body.steps[0].summary;
    expect(await summary(linuxVm.id, 'stop')).toMatch(/180 s/);
    expect(await summary(windowsVm.id, 'stop')).toMatch(/300 s/);
    expect(await summary(windowsVm.id, 'reboot')).toMatch(/300 s/);
  });

  it('refuses bad options (400), wrong states (423) and a busy VM (409), changing nothing', async () => {
    const vm = await h.createVm(key);
    for (const body of [{ timeoutSeconds: 0 }, { timeoutSeconds: '5' }, { force: 'yes' }, { hard: true }]) {
      const res = await h.call('POST', `/v1/vms/${vm.id}/stop`, { key, body });
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('VALIDATION_FAILED');
    }
    expect((await h.call('POST', `/v1/vms/${vm.id}/start`, { key, body: { bootIso: '../etc/passwd' } })).status).toBe(400);
    for (const action of ['start', 'freeze', 'unfreeze']) {
      const res = await h.call('POST', `/v1/vms/${vm.id}/${action}`, { key });
      expect([action, res.status]).toEqual([action, 423]);
    }
    await h.sim.setLatency({ method: 'stopVm', ms: 1500 });
    const first = await h.call('POST', `/v1/vms/${vm.id}/reboot`, { key });
    const second = await h.call('POST', `/v1/vms/${vm.id}/reset`, { key });
    expect(second.status).toBe(409);
    expect(second.body.error).toMatchObject({ code: 'VM_BUSY', details: { operationId: first.body.id, type: 'vm.reboot' } });
    const done = await h.waitForOperation(key, first.body.id);
    expect(done.status).toBe('succeeded');
    await recordOperationHistory(h, done.id, 'reboot-vm.succeeded');
    const reset = await h.runOperation(key, 'POST', `/v1/vms/${vm.id}/reset`);
    expect(reset.status).toBe('succeeded');
    await recordOperationHistory(h, reset.id, 'hard-reset-vm.succeeded');
    expect((await h.auditNode(vm.nodeId)).diff.clean).toBe(true);
  });
});
