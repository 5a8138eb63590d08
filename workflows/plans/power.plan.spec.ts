import { startVmPlan, stopVmPlan } from './power.plan';

const input = { operationId: 'op', vmId: 'vm-1', hostname: 'web-1', nodeId: 'node-1' };

describe('power plans', () => {
  it('vm.start powers on (undo: force-stop) and records running', () => {
    expect(startVmPlan(input).steps.map((s) => [s.do.activity, s.undo?.activity ?? null, s.do.args])).toEqual([
      ['startVm', 'forceStopVm', { nodeId: 'node-1', vmId: 'vm-1' }],
      ['recordVmStatus', null, { vmId: 'vm-1', powerState: 'running' }],
    ]);
  });

  it('vm.stop powers off (undo: start again) and records stopped', () => {
    expect(stopVmPlan(input).steps.map((s) => [s.do.activity, s.undo?.activity ?? null, s.do.args])).toEqual([
      ['forceStopVm', 'startVm', { nodeId: 'node-1', vmId: 'vm-1' }],
      ['recordVmStatus', null, { vmId: 'vm-1', powerState: 'stopped' }],
    ]);
  });
});
