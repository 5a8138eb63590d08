import { activities, expectSound, names, vm } from '../../test/support/plan-kit';
import { deleteSnapshotsPlan } from './snapshot.delete.plan';

describe('snapshot.delete plan', () => {
  it('deletes each snapshot and then its record; the ones not deleted are recorded ok again when it fails', () => {
    const plan = deleteSnapshotsPlan({
      ...vm,
      snapshots: [
        { snapshotId: 'a', name: 'monday' },
        { snapshotId: 'b', name: 'tuesday' },
      ],
    });
    expectSound(plan);
    expect(names(plan)).toEqual(['delete:monday', 'forget:monday', 'delete:tuesday', 'forget:tuesday']);
    expect(activities(plan).every(([, undo]) => undo === null)).toBe(true);
    expect(plan.afterCompensation).toMatchObject({ activity: 'markSnapshotsOk', args: { snapshotIds: ['a', 'b'] } });
  });
});
