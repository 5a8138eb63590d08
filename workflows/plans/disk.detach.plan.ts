import type { DiskChangeInput, OperationPlan } from '../../libs/contracts/src';
import { detachDiskStep } from './steps';

/** disk.detach: the disk stays the VM's, detached. The system disk only from a stopped VM (the API checks). */
export function detachDiskPlan(input: DiskChangeInput): OperationPlan {
  const { vmId, disk, attachedAt } = input;
  return {
    steps: [
      detachDiskStep(input, disk.diskId, attachedAt ?? disk.position),
      {
        name: 'recordDisk',
        do: {
          activity: 'recordDiskSlot',
          args: { diskId: disk.diskId, vmId, position: null, sizeGb: disk.sizeGb },
          summary: 'Record the disk detached',
        },
      },
    ],
  };
}
