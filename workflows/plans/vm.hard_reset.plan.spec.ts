import { activities, commits, expectSound, vm } from '../../test/support/plan-kit';
import { hardResetVmPlan } from './vm.hard_reset.plan';

describe('vm.hard_reset plan', () => {
  it('presses the reset button once: nothing to undo, nothing recorded (the power state does not change)', () => {
    const plan = hardResetVmPlan(vm);
    expectSound(plan);
    expect(activities(plan)).toEqual([['resetVm', null]]);
    expect(commits(plan)).toEqual([]);
  });
});
