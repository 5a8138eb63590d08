import { activities, commits, expectSound, names, vm } from '../../test/support/plan-kit';
import { copyDiskPlan, type CopyDiskInput } from './disk.copy.plan';

const input: CopyDiskInput = {
  ...vm,
  source: { diskId: 'source-disk', sizeGb: 10 },
  copy: { diskId: 'copy-disk', sizeGb: 20, position: 2 },
  snapshotId: 'snap-1',
  fsfreeze: true,
};

describe('disk.copy plan', () => {
  it('snapshots the source, makes the copy from it, drops the snapshot, attaches and records the copy', () => {
    const plan = copyDiskPlan(input);
    expectSound(plan);
    expect(activities(plan)).toEqual([
      ['createSnapshot', 'deleteSnapshot'],
      ['createDiskFromSnapshot', 'deleteDisk'],
      ['deleteSnapshot', null],
      ['attachDisk', 'detachDisk'],
      ['recordDiskSlot', null],
    ]);
    expect(commits(plan)).toEqual([]);
    expect(plan.afterCompensation).toMatchObject({ activity: 'forgetDiskRecord', args: { diskId: 'copy-disk' } });
  });

  it('acts on the ids chosen before the start: the snapshot, the copy at its size and position', () => {
    const [snapshot, create, drop, attach, record] = copyDiskPlan(input).steps;
    expect(snapshot.do.args).toMatchObject({ nodeId: 'node-1', snapshotId: 'snap-1', diskId: 'source-disk', fsfreeze: true });
    expect(create.do.args).toEqual({ nodeId: 'node-1', diskId: 'copy-disk', snapshotId: 'snap-1', sizeGb: 20 });
    expect(drop.do.args).toEqual({ nodeId: 'node-1', snapshotId: 'snap-1' });
    expect(attach.do.args).toEqual({ nodeId: 'node-1', diskId: 'copy-disk', vmId: 'vm-1', position: 2 });
    expect(record.do.args).toEqual({ diskId: 'copy-disk', vmId: 'vm-1', position: 2, sizeGb: 20 });
  });

  it('leaves a copy asked detached unattached, and records it so', () => {
    const plan = copyDiskPlan({ ...input, copy: { ...input.copy, position: null }, fsfreeze: false });
    expect(names(plan)).toEqual(['snapshotSource', 'createCopy', 'dropSnapshot', 'recordCopy']);
    expect(plan.steps[3].do.args).toMatchObject({ position: null });
    expect(plan.steps[0].do.summary).not.toContain('frozen');
  });
});
