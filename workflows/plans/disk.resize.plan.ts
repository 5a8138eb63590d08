import type { DiskChangeInput, OperationPlan } from '../../libs/contracts/src';
import { short } from './steps';

/** disk.resize: grow the disk on the node (a disk does not shrink back: nothing to undo) → record the size. */
export function resizeDiskPlan({ nodeId, vmId, hostname, disk, attachedAt, sizeGb }: DiskChangeInput): OperationPlan {
  const to = sizeGb ?? disk.sizeGb;
  return {
    steps: [
      // A disk does not shrink back: past the resize, the size is recorded or a human looks.
      {
        name: 'resizeDisk',
        commit: true,
        do: {
          activity: 'resizeDisk',
          args: { nodeId, diskId: disk.diskId, sizeGb: to },
          summary: `Grow disk ${short(disk.diskId)} of ${hostname} to ${to} GB`,
        },
      },
      {
        name: 'recordDisk',
        do: {
          activity: 'recordDiskSlot',
          args: { diskId: disk.diskId, vmId, position: attachedAt, sizeGb: to },
          summary: `Record ${to} GB`,
        },
      },
    ],
  };
}
