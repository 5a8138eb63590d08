import { commits, expectSound, names, vm } from '../../test/support/plan-kit';
import { rebuildVmPlan } from './vm.rebuild.plan';

const input = {
  ...vm,
  running: true,
  startAfter: false,
  fromTemplateId: 't1',
  templateId: 't2',
  replacements: [
    { oldDiskId: 'o0', newDiskId: 'n0', position: 0, sizeGb: 10 },
    { oldDiskId: 'o1', newDiskId: 'n1', position: 1, sizeGb: 5 },
  ],
  stopTimeoutSeconds: 180,
};

describe('vm.rebuild plan', () => {
  it('swaps every disk before deleting any old one, and records a power change', () => {
    const plan = rebuildVmPlan(input);
    expectSound(plan);
    const steps = names(plan);
    expect(steps.indexOf('deleteOldDisk0')).toBeGreaterThan(steps.indexOf('attachNewDisk1'));
    expect(steps).not.toContain('startVm');
    expect(steps).toContain('recordVm');
    expect(commits(plan)).toEqual(['deleteOldDisk0']);
    expect(plan.steps[1].do).toMatchObject({ activity: 'createDiskFromTemplate', args: { templateId: 't2' } });
    expect(plan.steps[2].do.activity).toBe('createBlankDisk');
  });

  it('a running VM started again after: no power change to record; the template record is undone to the old one', () => {
    const plan = rebuildVmPlan({ ...input, startAfter: true });
    expect(names(plan)).toContain('startVm');
    expect(names(plan)).not.toContain('recordVm');
    expect(plan.steps.find((s) => s.name === 'recordTemplate')?.undo?.args).toEqual({ vmId: 'vm-1', templateId: 't1' });
  });
});
