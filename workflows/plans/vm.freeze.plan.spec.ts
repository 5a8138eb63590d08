import { activities, expectSound, vm } from '../../test/support/plan-kit';
import { freezeVmPlan } from './vm.freeze.plan';
import { unfreezeVmPlan } from './vm.unfreeze.plan';

describe('vm.freeze plan', () => {
  it('freezes on the node (undo: unfreeze), then records it frozen', () => {
    const plan = freezeVmPlan(vm);
    expectSound(plan);
    expect(activities(plan)).toEqual([
      ['freezeVm', 'unfreezeVm'],
      ['recordVmFrozen', null],
    ]);
    expect(plan.steps[1].do.args).toEqual({ vmId: 'vm-1', frozen: true });
  });

  it('is what vm.unfreeze undoes, and the other way round', () => {
    expect(activities(unfreezeVmPlan(vm))[0]).toEqual(['unfreezeVm', 'freezeVm']);
  });
});
