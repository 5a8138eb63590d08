import { resizeDiskPlan } from './disk.resize.plan';
import { activities, commits, expectSound, vm } from '../../test/support/plan-kit';

describe('disk.resize plan', () => {
  it('grows the disk (its point of no return: a disk does not shrink back) and records the new size where it is', () => {
    const plan = resizeDiskPlan({ ...vm, disk: { diskId: 'd', position: 1, sizeGb: 5 }, attachedAt: 1, sizeGb: 20 });
    expectSound(plan);
    expect(activities(plan)).toEqual([
      ['resizeDisk', null],
      ['recordDiskSlot', null],
    ]);
    expect(commits(plan)).toEqual(['resizeDisk']);
    expect(plan.steps[0].do.args).toEqual({ nodeId: 'node-1', diskId: 'd', sizeGb: 20 });
    expect(plan.steps[1].do.args).toEqual({ diskId: 'd', vmId: 'vm-1', position: 1, sizeGb: 20 });
  });
});
