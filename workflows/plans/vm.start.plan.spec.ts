import { expectSound, vm } from '../../test/support/plan-kit';
import { startVmPlan } from './vm.start.plan';

describe('vm.start plan', () => {
  it('powers on (undo: force-stop) and records running', () => {
    const plan = startVmPlan(vm);
    expectSound(plan);
    expect(plan.steps.map((s) => [s.do.activity, s.undo?.activity ?? null, s.do.args])).toEqual([
      ['startVm', 'forceStopVm', { nodeId: 'node-1', vmId: 'vm-1' }],
      ['recordVmStatus', null, { vmId: 'vm-1', powerState: 'running' }],
    ]);
  });

  it('boots once from an ISO when asked, and says so', () => {
    const [start] = startVmPlan({ ...vm, bootIso: 'rescue.iso' }).steps;
    expect(start.do.args).toEqual({ nodeId: 'node-1', vmId: 'vm-1', bootIso: 'rescue.iso' });
    expect(start.do.summary).toContain('rescue.iso');
  });
});
