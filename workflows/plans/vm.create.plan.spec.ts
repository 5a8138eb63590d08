import type { CreateVmInput } from '../../libs/contracts/src';
import { expectSound } from '../../test/support/plan-kit';
import { createVmPlan } from './vm.create.plan';

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

  it('with data disks and an interface: each is created before the VM is defined with all of them attached', () => {
    const plan = createVmPlan({
      ...input,
      dataDisks: [{ diskId: 'data-1', position: 1, sizeGb: 5 }],
      nic: { nicId: 'nic-1', mac: '52:54:00:00:00:01', network: 'public' },
      rootPasswordHash: '$scrypt$salt$hash',
    });
    expectSound(plan);
    expect(plan.steps.map((s) => s.name)).toEqual([
      'createSystemDisk',
      'createDataDisk1',
      'createInterface',
      'defineVm',
      'startVm',
      'recordVm',
    ]);
    expect(plan.steps[3].do.args).toMatchObject({
      disks: [
        { id: 'disk-1', position: 0 },
        { id: 'data-1', position: 1 },
      ],
      nics: [{ id: 'nic-1', position: 0 }],
      rootPasswordHash: '$scrypt$salt$hash',
    });
  });

  it('gives every step and undo a summary for the Temporal UI', () => {
    expectSound(createVmPlan(input));
    for (const step of createVmPlan(input).steps) {
      expect(step.do.summary).toContain('web-1');
      if (step.undo) expect(step.undo.summary).toContain('web-1');
    }
  });
});
