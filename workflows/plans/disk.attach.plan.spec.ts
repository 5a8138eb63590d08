import { attachDiskPlan } from './disk.attach.plan';
import { activities, expectSound, names, vm } from '../../test/support/plan-kit';

describe('disk.attach plan', () => {
  it('attaches a detached disk at its position (undo: detach) and records it there', () => {
    const plan = attachDiskPlan({ ...vm, disk: { diskId: 'd', position: 2, sizeGb: 5 }, displaced: null });
    expectSound(plan);
    expect(activities(plan)).toEqual([
      ['attachDisk', 'detachDisk'],
      ['recordDiskSlot', null],
    ]);
  });

  it('at 0 moves the old system disk out first, in the inventory too (one disk per position)', () => {
    const plan = attachDiskPlan({
      ...vm,
      disk: { diskId: 'new', position: 0, sizeGb: 5 },
      displaced: { diskId: 'sys', to: 2, sizeGb: 10 },
    });
    expectSound(plan);
    expect(names(plan)).toEqual(['detachSystemDisk', 'attachDisk', 'reattachOldSystemDisk', 'recordOldSystemDisk', 'recordDisk']);
    expect(plan.steps[0].undo?.args).toMatchObject({ diskId: 'sys', position: 0 });
    expect(plan.steps[3].undo?.args).toMatchObject({ diskId: 'sys', position: 0 });
  });
});
