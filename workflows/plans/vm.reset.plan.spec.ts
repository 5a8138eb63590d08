import { activities, expectSound, vm } from '../../test/support/plan-kit';
import { legacyResetVmPlan, resetVmPlan } from './vm.reset.plan';

describe('vm.reset plan', () => {
  it("reads the VM through its node's agent, and the inventory takes what that read observed", () => {
    const plan = resetVmPlan(vm);
    expectSound(plan);
    expect(activities(plan)).toEqual([
      ['getVm', null],
      ['syncVmFromNode', null],
    ]);
    expect(plan.steps[1].do.observes).toBe('inspectVm');
  });

  it('before patch reset-reads-node-through-agent: one shared-worker step', () => {
    expect(activities(legacyResetVmPlan(vm))).toEqual([['resyncVmFromNode', null]]);
  });
});
