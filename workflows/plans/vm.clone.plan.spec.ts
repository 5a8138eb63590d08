import { commits, expectSound, names } from '../../test/support/plan-kit';
import { cloneSummary, cloneVmPlan } from './vm.clone.plan';

const input = {
  operationId: 'op',
  tenantId: 't',
  vmId: 'clone',
  hostname: 'web-2',
  nodeId: 'node-2',
  source: { vmId: 'vm-1', hostname: 'web-1', nodeId: 'node-1', running: true },
  disks: [
    { sourceDiskId: 's0', imageId: 'i0', diskId: 'd0', position: 0, sizeGb: 10 },
    { sourceDiskId: 's1', imageId: 'i1', diskId: 'd1', position: 1, sizeGb: 4 },
  ],
  nic: { nicId: 'n', mac: '52:00:00:00:00:02', network: 'public' },
  cpus: 1,
  memoryMb: 512,
  start: false,
};

describe('vm.clone plan', () => {
  it('lets the source go once captured, builds the clone, and only then drops the captures (its point of no return)', () => {
    const plan = cloneVmPlan(input);
    expectSound(plan);
    expect(names(plan)).toEqual([
      'captureDisk0',
      'captureDisk1',
      'releaseSource',
      'createDisk0',
      'createDisk1',
      'createInterface',
      'defineVm',
      'recordVm',
      'dropCapture0',
      'dropCapture1',
    ]);
    expect(commits(plan)).toEqual(['dropCapture0']);
    expect(plan.steps[0].do).toMatchObject({ activity: 'captureImage', args: { nodeId: 'node-1', fsfreeze: true } });
    expect(plan.steps[3].do).toMatchObject({ activity: 'createDiskFromTemplate', args: { nodeId: 'node-2', templateId: 'i0' } });
    expect(plan.afterCompensation).toMatchObject({ activity: 'discardVmRecord', args: { vmId: 'clone' } });
  });

  it('a stopped source is captured without a freeze; its summary names both VMs', () => {
    const plan = cloneVmPlan({ ...input, source: { ...input.source, running: false } });
    expect(plan.steps[0].do.args).toMatchObject({ fsfreeze: false });
    expect(cloneSummary(input)).toBe('vm.clone web-1 → web-2');
  });
});
