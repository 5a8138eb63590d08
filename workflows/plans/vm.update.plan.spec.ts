import { expectSound, names, vm } from '../../test/support/plan-kit';
import { updateVmPlan } from './vm.update.plan';

const input = { ...vm, from: { cpus: 1, memoryMb: 512 }, to: { cpus: 2, memoryMb: 1024 }, restart: true, stopTimeoutSeconds: 300 };

describe('vm.update plan', () => {
  it('restarts a running VM around the resize; the undo gives the old size back', () => {
    const plan = updateVmPlan(input);
    expectSound(plan);
    expect(names(plan)).toEqual(['stopVm', 'resizeVm', 'startVm', 'recordSize']);
    expect(plan.steps[0].do.args).toMatchObject({ timeoutSeconds: 300 });
    expect(plan.steps[1].undo?.args).toEqual({ nodeId: 'node-1', vmId: 'vm-1', cpus: 1, memoryMb: 512 });
    expect(plan.steps[3].undo?.args).toEqual({ vmId: 'vm-1', cpus: 1, memoryMb: 512 });
  });

  it('resizes a stopped VM without a restart', () => {
    expect(names(updateVmPlan({ ...input, restart: false }))).toEqual(['resizeVm', 'recordSize']);
  });
});
