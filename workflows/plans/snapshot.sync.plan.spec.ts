import { activities, expectSound, vm } from '../../test/support/plan-kit';
import { syncSnapshotsPlan } from './snapshot.sync.plan';

describe('snapshot.sync plan', () => {
  it("reads the node's snapshots, and the records follow what that read observed", () => {
    const plan = syncSnapshotsPlan(vm);
    expectSound(plan);
    expect(activities(plan)).toEqual([
      ['listSnapshots', null],
      ['syncSnapshotRecords', null],
    ]);
    expect(plan.steps[1].do.observes).toBe('readSnapshots');
  });
});
