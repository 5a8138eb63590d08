import { activities, expectSound, vm } from '../../test/support/plan-kit';
import { createSnapshotPlan } from './snapshot.create.plan';

describe('snapshot.create plan', () => {
  it('takes the snapshot (undo: delete it), records it ok, and drops the pending record when undone', () => {
    const plan = createSnapshotPlan({ ...vm, snapshotId: 's-1', diskId: 'd', name: 'daily', fsfreeze: true });
    expectSound(plan);
    expect(activities(plan)).toEqual([
      ['createSnapshot', 'deleteSnapshot'],
      ['markSnapshotsOk', null],
    ]);
    expect(plan.steps[0].do.args).toEqual({ nodeId: 'node-1', snapshotId: 's-1', diskId: 'd', name: 'daily', fsfreeze: true });
    expect(plan.steps[0].do.summary).toContain('filesystems frozen');
    expect(plan.afterCompensation).toMatchObject({ activity: 'forgetSnapshots', args: { snapshotIds: ['s-1'] } });
  });
});
