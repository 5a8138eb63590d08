import { startHarness, type Harness } from './support/harness';

/**
 * The workflows end to end on real QEMU: the API, the worker and an agent over the QEMU driver, two nodes on this
 * machine. What the guest wrote is read back from the qcow2 images (qemu-io), not from any record of ours.
 */
describe('operations on QEMU nodes', () => {
  // An operation gets a minute (a few seconds on a quiet machine) and a test five, so that an operation that hangs is
  // reported with its steps (run, below) rather than cut short by the test's own timeout.
  const OPERATION_WAIT_MS = 60_000;
  jest.setTimeout(300_000);
  let h: Harness;
  let key: string;
  let q1: string;
  let q2: string;

  beforeAll(async () => {
    h = await startHarness({ qemuNodes: 2 });
    ({ apiKey: key } = await h.newTenant());
    [q1, q2] = h.qemu!.nodeIds;
  });
  afterAll(() => h?.close());

  const qemu = () => h.qemu!.driver;
  /** runOperation, and on a timeout the operation's steps and their errors in the failure (what went wrong where). */
  const run = async (method: string, path: string, body?: unknown) => {
    const res = await h.call(method, path, { key, body });
    if (res.status !== 202) throw new Error(`${method} ${path} answered ${res.status}: ${JSON.stringify(res.body)}`);
    try {
      return await h.waitForOperation(key, res.body.id, OPERATION_WAIT_MS);
    } catch (err) {
      const op = (await h.call('GET', `/v1/operations/${res.body.id}`, { key })).body;
      throw new Error(
        `${(err as Error).message}; steps: ${JSON.stringify(op.steps?.map((s: any) => [s.name, s.status, s.attempts, s.error]))}`,
        { cause: err },
      );
    }
  };
  const vmView = async (vmId: string) => (await h.call('GET', `/v1/vms/${vmId}`, { key })).body;

  it('rolls a running VM back onto a new disk holding what the guest had written when the snapshot was taken', async () => {
    const vm = await h.createVm(key, { nodeId: q1 });
    expect(await qemu().getVm(q1, vm.id)).toMatchObject({ powerState: 'running' });
    const diskId = (await vmView(vm.id)).disks[0].id as string;

    // The guest writes into its running QEMU; the snapshot is taken live (blockdev-backup).
    await qemu().guestWrite(q1, diskId, 'pattern-before-upgrade');
    expect((await run('POST', `/v1/vms/${vm.id}/snapshots`, { name: 's1' })).status).toBe('succeeded');
    await qemu().guestWrite(q1, diskId, 'overwritten-by-upgrade');
    expect((await qemu().getDisk(q1, diskId))?.content).toBe('overwritten-by-upgrade');

    const op = await run('POST', `/v1/vms/${vm.id}/snapshots/s1/rollback`, { method: 'new_disk' });
    expect(op.status).toBe('succeeded');
    const after = await vmView(vm.id);
    expect(after).toMatchObject({ status: 'running' });
    const newDiskId = after.disks[0].id as string;
    expect(newDiskId).not.toBe(diskId);
    expect(await qemu().getVm(q1, vm.id)).toMatchObject({ powerState: 'running', disks: [{ id: newDiskId, position: 0 }] });
    expect((await qemu().getDisk(q1, newDiskId))?.content).toBe('pattern-before-upgrade');
    expect(await qemu().getDisk(q1, diskId)).toBeNull();
    expect((await h.auditNode(q1)).diff.clean).toBe(true);
  });

  it('rolls a stopped VM back in place', async () => {
    const vm = await h.createVm(key, { nodeId: q1, start: false });
    const diskId = (await vmView(vm.id)).disks[0].id as string;
    await qemu().guestWrite(q1, diskId, 'v1');
    expect((await run('POST', `/v1/vms/${vm.id}/snapshots`, { name: 'first' })).status).toBe('succeeded');
    await qemu().guestWrite(q1, diskId, 'v2');
    const op = await run('POST', `/v1/vms/${vm.id}/snapshots/first/rollback`, { method: 'in_place' });
    expect(op.status).toBe('succeeded');
    expect((await qemu().getDisk(q1, diskId))?.content).toBe('v1');
    expect((await h.auditNode(q1)).diff.clean).toBe(true);
  });

  it('migrates a running VM live to the other QEMU node: its disk, snapshot and interface go along, it keeps running', async () => {
    const vm = await h.createVm(key, { nodeId: q1 });
    const diskId = (await vmView(vm.id)).disks[0].id as string;
    await qemu().guestWrite(q1, diskId, 'written-on-the-source');
    expect((await run('POST', `/v1/vms/${vm.id}/snapshots`, { name: 'pre-move' })).status).toBe('succeeded');
    const startedAt = (await qemu().getVm(q1, vm.id))?.startedAt;

    const op = await run('POST', `/v1/vms/${vm.id}/migrate`, { targetNodeId: q2 });
    expect(op.status).toBe('succeeded');
    expect(await qemu().getVm(q1, vm.id)).toBeNull();
    const moved = await qemu().getVm(q2, vm.id);
    // Live: the same guest kept running (not restarted) on the target.
    expect(moved).toMatchObject({ powerState: 'running', startedAt, disks: [{ id: diskId, position: 0 }] });
    expect((await qemu().getDisk(q2, diskId))?.content).toBe('written-on-the-source');
    expect((await qemu().listSnapshots(q2, { diskId })).map((s) => s.name)).toEqual(['pre-move']);
    expect((await vmView(vm.id)).nodeId).toBe(q2);
    // The guest writes on the target, takes a snapshot there and migrates back, live again.
    await qemu().guestWrite(q2, diskId, 'written-on-the-target');
    expect((await run('POST', `/v1/vms/${vm.id}/snapshots`, { name: 'on-target' })).status).toBe('succeeded');
    expect((await run('POST', `/v1/vms/${vm.id}/migrate`, { targetNodeId: q1 })).status).toBe('succeeded');
    expect(await qemu().getVm(q1, vm.id)).toMatchObject({ powerState: 'running', startedAt });
    expect((await qemu().listSnapshots(q1, { diskId })).map((s) => s.name)).toEqual(['pre-move', 'on-target']);
    // The guest itself runs there: it obeys the ACPI power button (a shutdown never forces), and what it wrote on
    // the target is on its disk.
    expect((await run('POST', `/v1/vms/${vm.id}/shutdown`, { timeoutSeconds: 60 })).status).toBe('succeeded');
    expect((await qemu().getDisk(q1, diskId))?.content).toBe('written-on-the-target');
    expect((await h.auditNode(q1)).diff.clean).toBe(true);
    expect((await h.auditNode(q2)).diff.clean).toBe(true);
  });
});
