import { createDiskPlan } from './disk.create.plan';
import { activities, expectSound, vm } from '../../test/support/plan-kit';

describe('disk.create plan', () => {
  it('creates a blank disk and attaches it (each undone), records it, and drops the record when undone', () => {
    const plan = createDiskPlan({ ...vm, disk: { diskId: 'disk-2', position: 2, sizeGb: 8 } });
    expectSound(plan);
    expect(activities(plan)).toEqual([
      ['createBlankDisk', 'deleteDisk'],
      ['attachDisk', 'detachDisk'],
      ['recordDiskSlot', null],
    ]);
    expect(plan.steps[1].do.args).toEqual({ nodeId: 'node-1', diskId: 'disk-2', vmId: 'vm-1', position: 2 });
    expect(plan.afterCompensation).toMatchObject({ activity: 'forgetDiskRecord', args: { diskId: 'disk-2' } });
  });
});
