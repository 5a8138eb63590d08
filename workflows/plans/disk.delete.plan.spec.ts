import { deleteDiskPlan } from './disk.delete.plan';
import { commits, expectSound, names, vm } from '../../test/support/plan-kit';

describe('disk.delete plan', () => {
  const disk = { diskId: 'd', position: 2, sizeGb: 5 };

  it('detaches an attached disk first (undone), then commits at the deletion and drops the record', () => {
    const plan = deleteDiskPlan({ ...vm, disk, attachedAt: 2 });
    expectSound(plan);
    expect(names(plan)).toEqual(['detachDisk', 'deleteDisk', 'forgetDisk']);
    expect(commits(plan)).toEqual(['deleteDisk']);
    expect(plan.steps[0].undo?.args).toMatchObject({ position: 2 });
  });

  it('a detached disk is deleted at once', () => {
    expect(names(deleteDiskPlan({ ...vm, disk, attachedAt: null }))).toEqual(['deleteDisk', 'forgetDisk']);
  });
});
