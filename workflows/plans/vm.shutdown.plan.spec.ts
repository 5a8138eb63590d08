import { activities, expectSound, vm } from '../../test/support/plan-kit';
import { shutdownVmPlan } from './vm.shutdown.plan';

describe('vm.shutdown plan', () => {
  it('never forces: a guest that ignores ACPI for the timeout fails the operation', () => {
    const plan = shutdownVmPlan({ ...vm, timeoutSeconds: 30 });
    expectSound(plan);
    expect(activities(plan)).toEqual([
      ['stopVmWithTimeout', 'startVm'],
      ['recordVmStatus', null],
    ]);
    expect(plan.steps[0].do.args).toMatchObject({ timeoutSeconds: 30, onTimeout: 'fail' });
    expect(shutdownVmPlan(vm).steps[0].do.args).toMatchObject({ timeoutSeconds: 180 });
  });
});
