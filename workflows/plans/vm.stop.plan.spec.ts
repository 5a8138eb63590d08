import { activities, expectSound, names, vm } from '../../test/support/plan-kit';
import { legacyStopVmPlan, stopVmPlan } from './vm.stop.plan';

describe('vm.stop plan', () => {
  it('shuts down gracefully with a 180 s default, forces after it (undo: start again), records stopped', () => {
    const plan = stopVmPlan(vm);
    expectSound(plan);
    expect(plan.steps.map((s) => [s.do.activity, s.undo?.activity ?? null, s.do.args])).toEqual([
      ['stopVmWithTimeout', 'startVm', { nodeId: 'node-1', vmId: 'vm-1', timeoutSeconds: 180, onTimeout: 'force' }],
      ['recordVmStatus', null, { vmId: 'vm-1', powerState: 'stopped' }],
    ]);
    expect(stopVmPlan({ ...vm, force: true }).steps[0].do.args).toMatchObject({ timeoutSeconds: 0, onTimeout: 'force' });
  });

  it('applies a size waiting for the stop once the VM is off; its undo gives the old size back', () => {
    const from = { cpus: 1, memoryMb: 512 };
    const to = { cpus: 2, memoryMb: 1024 };
    const plan = stopVmPlan({ ...vm, resize: { from, to } });
    expectSound(plan);
    expect(names(plan)).toEqual(['stopVm', 'applyPendingSize', 'recordSize', 'recordVm']);
    expect(plan.steps[1].do.args).toEqual({ nodeId: 'node-1', vmId: 'vm-1', ...to });
    expect(plan.steps[1].undo?.args).toEqual({ nodeId: 'node-1', vmId: 'vm-1', ...from });
  });

  it('before patch graceful-stop: a hard power-off', () => {
    expect(activities(legacyStopVmPlan(vm))).toEqual([
      ['forceStopVm', 'startVm'],
      ['recordVmStatus', null],
    ]);
  });
});
