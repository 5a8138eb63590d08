import { cloneVmPlan } from './create-vm.plan';
import { attachDiskPlan } from './disk.plan';
import { attachNicPlan, deleteNicPlan } from './nic.plan';
import { rollbackDiskPlan, rollbackSnapshotPlan } from './snapshot.plan';
import { deleteVmPlan, rebuildVmPlan, updateVmPlan } from './vm.plan';

const vm = { operationId: 'op', vmId: 'vm-1', hostname: 'web-1', nodeId: 'node-1' };
const names = (plan: { steps: { name: string }[] }) => plan.steps.map((s) => s.name);
const undone = (plan: { steps: { name: string; undo?: unknown }[] }) => plan.steps.filter((s) => s.undo).map((s) => s.name);
const commits = (plan: { steps: { name: string; commit?: true }[] }) => plan.steps.filter((s) => s.commit).map((s) => s.name);

describe('catalogue plans', () => {
  const rollback = {
    ...vm,
    snapshotId: 's',
    snapshotName: 'daily',
    oldDiskId: 'old',
    newDiskId: 'new',
    position: 0,
    sizeGb: 10,
    stopTimeoutSeconds: 180,
  };

  it('disk.rollback deletes the old disk only after the VM runs on the new one and the swap is recorded', () => {
    const plan = rollbackDiskPlan({ ...rollback, wasRunning: true });
    expect(names(plan)).toEqual([
      'stopVm',
      'detachOldDisk',
      'createNewDisk',
      'attachNewDisk',
      'startVm',
      'recordNewDisk',
      'deleteOldDisk',
      'forgetOldDisk',
    ]);
    expect(undone(plan)).toEqual(['stopVm', 'detachOldDisk', 'createNewDisk', 'attachNewDisk', 'startVm', 'recordNewDisk']);
    expect(commits(plan)).toEqual(['deleteOldDisk']);
    expect(names(rollbackDiskPlan({ ...rollback, wasRunning: false }))).not.toContain('startVm');
  });

  it('snapshot.rollback has no undo for the rollback itself, and stops/starts only when asked', () => {
    const input = {
      ...vm,
      snapshotId: 's',
      snapshotName: 'daily',
      targetDiskId: 'd',
      discarded: [{ snapshotId: 'n', name: 'newer' }],
      stopTimeoutSeconds: 180,
    };
    expect(names(rollbackSnapshotPlan({ ...input, stopFirst: true }))).toEqual([
      'stopVm',
      'rollbackSnapshot',
      'forgetDiscarded',
      'startVm',
    ]);
    expect(names(rollbackSnapshotPlan({ ...input, stopFirst: false, discarded: [] }))).toEqual(['rollbackSnapshot']);
  });

  it('vm.delete commits at its first deletion, detaches only attached disks and keeps the others unless told', () => {
    const input = {
      ...vm,
      running: true,
      cpus: 1,
      memoryMb: 512,
      systemDisk: { diskId: 'sys', position: 0, sizeGb: 10 },
      otherDisks: [
        { diskId: 'data', position: 1, sizeGb: 5 },
        { diskId: 'spare', position: -1, sizeGb: 5 },
      ],
      firstNic: { nicId: 'nic', position: 0 },
      otherNics: [],
      deleteAllDisks: false,
    };
    const plan = deleteVmPlan(input);
    expect(names(plan)).toEqual(['stopVm', 'detachDisk1', 'undefineVm', 'deleteSystemDisk', 'deleteInterface', 'forgetVm']);
    expect(commits(plan)).toEqual(['deleteSystemDisk']);
    expect(plan.steps.at(-1)?.do.args).toEqual({ vmId: 'vm-1', keepDiskIds: ['data', 'spare'] });
    expect(names(deleteVmPlan({ ...input, deleteAllDisks: true }))).toEqual(
      expect.arrayContaining(['deleteDisk:data', 'deleteDisk:spare']),
    );
  });

  it('vm.rebuild swaps every disk before deleting any old one, and records a power change', () => {
    const plan = rebuildVmPlan({
      ...vm,
      running: true,
      startAfter: false,
      fromTemplateId: 't1',
      templateId: 't2',
      replacements: [
        { oldDiskId: 'o0', newDiskId: 'n0', position: 0, sizeGb: 10 },
        { oldDiskId: 'o1', newDiskId: 'n1', position: 1, sizeGb: 5 },
      ],
      stopTimeoutSeconds: 180,
    });
    const steps = names(plan);
    expect(steps.indexOf('deleteOldDisk0')).toBeGreaterThan(steps.indexOf('attachNewDisk1'));
    expect(steps).not.toContain('startVm');
    expect(steps).toContain('recordVm');
    expect(commits(plan)).toEqual(['deleteOldDisk0']);
    expect(plan.steps[1].do).toMatchObject({ activity: 'createDiskFromTemplate', args: { templateId: 't2' } });
    expect(plan.steps[2].do.activity).toBe('createBlankDisk');
  });

  it('vm.update restarts a running VM around the resize; the undo gives the old size back', () => {
    const plan = updateVmPlan({
      ...vm,
      from: { cpus: 1, memoryMb: 512 },
      to: { cpus: 2, memoryMb: 1024 },
      restart: true,
      stopTimeoutSeconds: 300,
    });
    expect(names(plan)).toEqual(['stopVm', 'resizeVm', 'startVm', 'recordSize']);
    expect(plan.steps[1].undo?.args).toEqual({ nodeId: 'node-1', vmId: 'vm-1', cpus: 1, memoryMb: 512 });
  });

  it('disk.attach at 0 moves the old system disk out first, in the inventory too (one disk per position)', () => {
    const plan = attachDiskPlan({
      ...vm,
      disk: { diskId: 'new', position: 0, sizeGb: 5 },
      displaced: { diskId: 'sys', to: 2, sizeGb: 10 },
    });
    expect(names(plan)).toEqual(['detachSystemDisk', 'attachDisk', 'reattachOldSystemDisk', 'recordOldSystemDisk', 'recordDisk']);
  });

  it("nic.delete detaches only an attached interface and commits at the deletion; a claimed one is nobody's again when undone", () => {
    const nic = { ...vm, nicId: 'eth1', mac: '52:00:00:00:00:01' };
    expect(names(deleteNicPlan({ ...nic, attachedAt: 1 }))).toEqual(['detachNic', 'deleteNic', 'forgetNic']);
    expect(names(deleteNicPlan({ ...nic, attachedAt: null }))).toEqual(['deleteNic', 'forgetNic']);
    expect(commits(deleteNicPlan({ ...nic, attachedAt: 1 }))).toEqual(['deleteNic']);
    expect(attachNicPlan({ ...nic, attachedAt: null, position: 2, claimed: true }).afterCompensation?.args).toEqual({
      nicId: 'eth1',
      vmId: null,
      position: null,
    });
    expect(attachNicPlan({ ...nic, attachedAt: null, position: 2 }).afterCompensation).toBeUndefined();
  });

  it('vm.clone lets the source go once captured, builds the clone, and only then drops the captures (its point of no return)', () => {
    const plan = cloneVmPlan({
      operationId: 'op',
      tenantId: 't',
      vmId: 'clone',
      hostname: 'web-2',
      nodeId: 'node-2',
      source: { vmId: 'vm-1', hostname: 'web-1', nodeId: 'node-1', running: true },
      disks: [
        { sourceDiskId: 's0', imageId: 'i0', diskId: 'd0', position: 0, sizeGb: 10 },
        { sourceDiskId: 's1', imageId: 'i1', diskId: 'd1', position: 1, sizeGb: 4 },
      ],
      nic: { nicId: 'n', mac: '52:00:00:00:00:02', network: 'public' },
      cpus: 1,
      memoryMb: 512,
      start: false,
    });
    expect(names(plan)).toEqual([
      'captureDisk0',
      'captureDisk1',
      'releaseSource',
      'createDisk0',
      'createDisk1',
      'createInterface',
      'defineVm',
      'recordVm',
      'dropCapture0',
      'dropCapture1',
    ]);
    expect(commits(plan)).toEqual(['dropCapture0']);
    expect(plan.steps[0].do).toMatchObject({ activity: 'captureImage', args: { nodeId: 'node-1', fsfreeze: true } });
    expect(plan.steps[3].do).toMatchObject({ activity: 'createDiskFromTemplate', args: { nodeId: 'node-2', templateId: 'i0' } });
  });
});
