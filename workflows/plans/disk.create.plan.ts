import type { DiskCreateInput, OperationPlan } from '../../libs/contracts/src';
import { short } from './steps';

/** disk.create: a blank disk → attached at its position → recorded there. Undo: detach, delete. */
export function createDiskPlan({ nodeId, vmId, hostname, disk }: DiskCreateInput): OperationPlan {
  return {
    steps: [
      {
        name: 'createDisk',
        do: {
          activity: 'createBlankDisk',
          args: { nodeId, diskId: disk.diskId, sizeGb: disk.sizeGb },
          summary: `Create a ${disk.sizeGb} GB disk for ${hostname}`,
        },
        undo: { activity: 'deleteDisk', args: { nodeId, diskId: disk.diskId }, summary: `Delete disk ${short(disk.diskId)}` },
      },
      {
        name: 'attachDisk',
        do: {
          activity: 'attachDisk',
          args: { nodeId, diskId: disk.diskId, vmId, position: disk.position },
          summary: `Attach it to ${hostname} at ${disk.position}`,
        },
        undo: { activity: 'detachDisk', args: { nodeId, diskId: disk.diskId, vmId }, summary: `Detach disk ${short(disk.diskId)}` },
      },
      {
        name: 'recordDisk',
        do: {
          activity: 'recordDiskSlot',
          args: { diskId: disk.diskId, vmId, position: disk.position, sizeGb: disk.sizeGb },
          summary: `Record the disk at ${disk.position}`,
        },
      },
    ],
    afterCompensation: {
      activity: 'forgetDiskRecord',
      args: { diskId: disk.diskId },
      summary: `Drop the record of disk ${short(disk.diskId)}`,
    },
  };
}
