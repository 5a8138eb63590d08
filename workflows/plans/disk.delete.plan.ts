import type { DiskChangeInput, OperationPlan, PlannedStep } from '../../libs/contracts/src';
import { detachDiskStep, inOrder, short } from './steps';

/** disk.delete: [detach] → delete it and its snapshots (no return) → drop its record. */
export function deleteDiskPlan(input: DiskChangeInput): OperationPlan {
  const { nodeId, disk, attachedAt } = input;
  return {
    steps: inOrder<PlannedStep>(
      attachedAt !== null && detachDiskStep(input, disk.diskId, attachedAt),
      {
        name: 'deleteDisk',
        commit: true,
        do: {
          activity: 'deleteDisk',
          args: { nodeId, diskId: disk.diskId },
          summary: `Delete disk ${short(disk.diskId)} and its snapshots`,
        },
      },
      { name: 'forgetDisk', do: { activity: 'forgetDiskRecord', args: { diskId: disk.diskId }, summary: 'Drop its record' } },
    ),
  };
}
