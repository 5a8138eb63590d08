import { freezeVmPlan, rebootVmPlan, shutdownVmPlan, startVmPlan, stopVmPlan } from './power.plan';

const input = { operationId: 'op', vmId: 'vm-1', hostname: 'web-1', nodeId: 'node-1' };
const shape = (plan: ReturnType<typeof startVmPlan>) => plan.steps.map((s) => [s.do.activity, s.undo?.activity ?? null, s.do.args]);

describe('power plans', () => {
  it('vm.start powers on (undo: force-stop) and records running; an ISO boots once', () => {
    expect(shape(startVmPlan(input))).toEqual([
      ['startVm', 'forceStopVm', { nodeId: 'node-1', vmId: 'vm-1' }],
      ['recordVmStatus', null, { vmId: 'vm-1', powerState: 'running' }],
    ]);
    expect(startVmPlan({ ...input, bootIso: 'rescue.iso' }).steps[0].do.args).toEqual({
      nodeId: 'node-1',
      vmId: 'vm-1',
      bootIso: 'rescue.iso',
    });
  });

  it('vm.stop shuts down gracefully with a 180 s default, forces after it (undo: start again), records stopped', () => {
    expect(shape(stopVmPlan(input))).toEqual([
      ['stopVmWithTimeout', 'startVm', { nodeId: 'node-1', vmId: 'vm-1', timeoutSeconds: 180, onTimeout: 'force' }],
      ['recordVmStatus', null, { vmId: 'vm-1', powerState: 'stopped' }],
    ]);
    expect(stopVmPlan({ ...input, force: true }).steps[0].do.args).toMatchObject({ timeoutSeconds: 0, onTimeout: 'force' });
  });

  it('vm.shutdown never forces: a guest that ignores ACPI fails the operation', () => {
    expect(shutdownVmPlan({ ...input, timeoutSeconds: 30 }).steps[0].do.args).toMatchObject({ timeoutSeconds: 30, onTimeout: 'fail' });
  });

  it('vm.reboot is a stop then a start, each undone by the other; vm.freeze and vm.unfreeze undo each other', () => {
    expect(shape(rebootVmPlan({ ...input, force: true }))).toEqual([
      ['stopVmWithTimeout', 'startVm', { nodeId: 'node-1', vmId: 'vm-1', timeoutSeconds: 0, onTimeout: 'force' }],
      ['startVm', 'forceStopVm', { nodeId: 'node-1', vmId: 'vm-1' }],
    ]);
    expect(shape(freezeVmPlan(input, true)).map(([a, u]) => [a, u])).toEqual([
      ['freezeVm', 'unfreezeVm'],
      ['recordVmFrozen', null],
    ]);
    expect(freezeVmPlan(input, false).steps[0].do.activity).toBe('unfreezeVm');
  });
});
