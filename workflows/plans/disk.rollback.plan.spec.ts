import { rollbackDiskPlan } from './disk.rollback.plan';
import { commits, expectSound, names, undone, vm } from '../../test/support/plan-kit';

const input = {
  ...vm,
  snapshotId: 's',
  snapshotName: 'daily',
  oldDiskId: 'old',
  newDiskId: 'new',
  position: 0,
  sizeGb: 10,
  stopTimeoutSeconds: 180,
  wasRunning: true,
};

describe('disk.rollback plan', () => {
  it('deletes the old disk only after the VM runs on the new one and the swap is recorded', () => {
    const plan = rollbackDiskPlan(input);
    expectSound(plan);
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
  });

  it('a stopped VM is neither stopped nor started', () => {
    expect(names(rollbackDiskPlan({ ...input, wasRunning: false }))).not.toContain('startVm');
    expect(names(rollbackDiskPlan({ ...input, wasRunning: false }))).not.toContain('stopVm');
  });
});
