import { commits, expectSound, names, vm } from '../../test/support/plan-kit';
import { rollbackSnapshotPlan } from './snapshot.rollback.plan';

const input = {
  ...vm,
  snapshotId: 's',
  snapshotName: 'daily',
  targetDiskId: 'd',
  discarded: [{ snapshotId: 'n', name: 'newer' }],
  stopTimeoutSeconds: 180,
  stopFirst: true,
};

describe('snapshot.rollback plan', () => {
  it('has no undo for the rollback itself (its point of no return), and stops/starts only when asked', () => {
    const plan = rollbackSnapshotPlan(input);
    expectSound(plan);
    expect(names(plan)).toEqual(['stopVm', 'rollbackSnapshot', 'forgetDiscarded', 'startVm']);
    expect(commits(plan)).toEqual(['rollbackSnapshot']);
    expect(names(rollbackSnapshotPlan({ ...input, stopFirst: false, discarded: [] }))).toEqual(['rollbackSnapshot']);
  });

  it('records the snapshots it was to discard as ok again when undone before the rollback', () => {
    expect(rollbackSnapshotPlan(input).afterCompensation).toMatchObject({ activity: 'markSnapshotsOk', args: { snapshotIds: ['n'] } });
    expect(rollbackSnapshotPlan({ ...input, discarded: [] }).afterCompensation).toBeUndefined();
  });
});
