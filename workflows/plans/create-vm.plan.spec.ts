import type { CreateVmInput } from '../../libs/contracts/src';
import { createVmPlan } from './create-vm.plan';

const input: CreateVmInput = {
  operationId: 'op-1',
  tenantId: 't-1',
  vmId: 'vm-1',
  hostname: 'web-1',
  nodeId: 'node-1',
  templateId: 'tpl-1',
  systemDiskId: 'disk-1',
  systemDiskSizeGb: 20,
  cpus: 2,
  memoryMb: 2048,
  start: true,
};

describe('vm.create plan', () => {
  it('creates the disk, defines, starts, then records — each driver step with the undo that reverses it', () => {
    const plan = createVmPlan(input);
    expect(plan.steps.map((s) => [s.name, s.do.activity, s.undo?.activity ?? null])).toEqual([
      ['createSystemDisk', 'createDiskFromTemplate', 'deleteDisk'],
      ['defineVm', 'defineVm', 'undefineVm'],
      ['startVm', 'startVm', 'forceStopVm'],
      ['recordVm', 'recordVmStatus', null],
    ]);
    expect(plan.afterCompensation).toMatchObject({ activity: 'discardVmRecord', args: { vmId: 'vm-1' } });
  });

  it('acts on the ids chosen before the start, so a retried step finds its own work', () => {
    const [disk, define] = createVmPlan(input).steps;
    expect(disk.do.args).toEqual({ nodeId: 'node-1', diskId: 'disk-1', templateId: 'tpl-1', sizeGb: 20 });
    expect(disk.undo?.args).toEqual({ nodeId: 'node-1', diskId: 'disk-1' });
    expect(define.do.args).toMatchObject({ vmId: 'vm-1', guestAgent: true, disks: [{ id: 'disk-1', position: 0 }], nics: [] });
  });

  it('leaves the VM stopped, without a start step, when asked', () => {
    const plan = createVmPlan({ ...input, start: false });
    expect(plan.steps.map((s) => s.name)).toEqual(['createSystemDisk', 'defineVm', 'recordVm']);
    expect(plan.steps[2].do.args).toEqual({ vmId: 'vm-1', powerState: 'stopped' });
  });

  it('gives every step and undo a summary for the Temporal UI', () => {
    for (const step of createVmPlan(input).steps) {
      expect(step.do.summary).toContain('web-1');
      if (step.undo) expect(step.undo.summary).toContain('web-1');
    }
  });
});
