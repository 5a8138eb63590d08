import { activities, expectSound, vm } from '../../test/support/plan-kit';
import { unfreezeVmPlan } from './vm.unfreeze.plan';

describe('vm.unfreeze plan', () => {
  it('unfreezes on the node (undo: freeze again), then records it not frozen', () => {
    const plan = unfreezeVmPlan(vm);
    expectSound(plan);
    expect(activities(plan)).toEqual([
      ['unfreezeVm', 'freezeVm'],
      ['recordVmFrozen', null],
    ]);
    expect(plan.steps[1].do.args).toEqual({ vmId: 'vm-1', frozen: false });
  });
});
