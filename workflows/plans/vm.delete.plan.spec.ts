import { commits, expectSound, names, vm } from '../../test/support/plan-kit';
import { deleteVmPlan } from './vm.delete.plan';

const input = {
  ...vm,
  running: true,
  cpus: 1,
  memoryMb: 512,
  systemDisk: { diskId: 'sys', position: 0, sizeGb: 10 },
  otherDisks: [
    { diskId: 'data', position: 1, sizeGb: 5 },
    { diskId: 'spare', position: -1, sizeGb: 5 },
  ],
  firstNic: { nicId: 'nic', position: 0 },
  otherNics: [{ nicId: 'nic-2', position: 1 }],
  deleteAllDisks: false,
};

describe('vm.delete plan', () => {
  it('commits at its first deletion, detaches only attached disks and keeps the others unless told', () => {
    const plan = deleteVmPlan(input);
    expectSound(plan);
    expect(names(plan)).toEqual([
      'stopVm',
      'detachDisk1',
      'detachInterface1',
      'undefineVm',
      'deleteSystemDisk',
      'deleteInterface',
      'forgetVm',
    ]);
    expect(commits(plan)).toEqual(['deleteSystemDisk']);
    expect(plan.steps.at(-1)?.do.args).toEqual({ vmId: 'vm-1', keepDiskIds: ['data', 'spare'] });
  });

  it('with deleteAllDisks, deletes the kept disks too and keeps none', () => {
    const plan = deleteVmPlan({ ...input, deleteAllDisks: true });
    expectSound(plan);
    expect(names(plan)).toEqual(expect.arrayContaining(['deleteDisk:data', 'deleteDisk:spare']));
    expect(plan.steps.at(-1)?.do.args).toEqual({ vmId: 'vm-1', keepDiskIds: [] });
  });

  it("the undefine's undo defines the VM again with its system disk and first interface", () => {
    const undefine = deleteVmPlan(input).steps.find((s) => s.name === 'undefineVm')!;
    expect(undefine.undo?.args).toMatchObject({ disks: [{ id: 'sys', position: 0 }], nics: [{ id: 'nic', position: 0 }] });
  });

  it('a stopped VM without disks or interfaces: undefine and forget, and no point of no return', () => {
    const plan = deleteVmPlan({ ...input, running: false, systemDisk: null, otherDisks: [], firstNic: null, otherNics: [] });
    expect(names(plan)).toEqual(['undefineVm', 'forgetVm']);
    expect(commits(plan)).toEqual([]);
  });
});
