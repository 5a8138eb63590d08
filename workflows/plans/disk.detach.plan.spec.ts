import { detachDiskPlan } from './disk.detach.plan';
import { activities, expectSound, vm } from '../../test/support/plan-kit';

describe('disk.detach plan', () => {
  it('detaches (undo: attach where it was) and records the disk detached', () => {
    const plan = detachDiskPlan({ ...vm, disk: { diskId: 'd', position: 2, sizeGb: 5 }, attachedAt: 2 });
    expectSound(plan);
    expect(activities(plan)).toEqual([
      ['detachDisk', 'attachDisk'],
      ['recordDiskSlot', null],
    ]);
    expect(plan.steps[0].undo?.args).toEqual({ nodeId: 'node-1', diskId: 'd', vmId: 'vm-1', position: 2 });
    expect(plan.steps[1].do.args).toMatchObject({ position: null });
  });
});
