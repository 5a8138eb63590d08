import { expectSound, vm } from '../../test/support/plan-kit';
import { rebootVmPlan } from './vm.reboot.plan';

describe('vm.reboot plan', () => {
  it('is a stop then a start, each undone by the other; force skips the graceful wait', () => {
    const plan = rebootVmPlan({ ...vm, force: true });
    expectSound(plan);
    expect(plan.steps.map((s) => [s.do.activity, s.undo?.activity ?? null, s.do.args])).toEqual([
      ['stopVmWithTimeout', 'startVm', { nodeId: 'node-1', vmId: 'vm-1', timeoutSeconds: 0, onTimeout: 'force' }],
      ['startVm', 'forceStopVm', { nodeId: 'node-1', vmId: 'vm-1' }],
    ]);
    expect(rebootVmPlan(vm).steps[0].do.args).toMatchObject({ timeoutSeconds: 180 });
  });
});
