import type { DiskAttachInput, OperationPlan, PlannedStep } from '../../libs/contracts/src';
import { inOrder, short } from './steps';

/**
 * disk.attach: a detached disk → its position. At position 0 of a stopped VM (Gandi) it swaps with the system
 * disk: that one is detached first and attached again at `displaced.to`; its record moves first, since the
 * inventory holds one disk per position.
 */
export function attachDiskPlan({ nodeId, vmId, hostname, disk, displaced }: DiskAttachInput): OperationPlan {
  return {
    steps: inOrder<PlannedStep>(
      displaced && {
        name: 'detachSystemDisk',
        do: {
          activity: 'detachDisk',
          args: { nodeId, diskId: displaced.diskId, vmId },
          summary: `Detach the system disk ${short(displaced.diskId)} of ${hostname}`,
        },
        undo: {
          activity: 'attachDisk',
          args: { nodeId, diskId: displaced.diskId, vmId, position: 0 },
          summary: `Attach ${short(displaced.diskId)} at 0 again`,
        },
      },
      {
        name: 'attachDisk',
        do: {
          activity: 'attachDisk',
          args: { nodeId, diskId: disk.diskId, vmId, position: disk.position },
          summary: `Attach disk ${short(disk.diskId)} to ${hostname} at ${disk.position}`,
        },
        undo: { activity: 'detachDisk', args: { nodeId, diskId: disk.diskId, vmId }, summary: `Detach disk ${short(disk.diskId)}` },
      },
      displaced && [
        {
          name: 'reattachOldSystemDisk',
          do: {
            activity: 'attachDisk',
            args: { nodeId, diskId: displaced.diskId, vmId, position: displaced.to },
            summary: `Attach the old system disk at ${displaced.to}`,
          },
          undo: { activity: 'detachDisk', args: { nodeId, diskId: displaced.diskId, vmId }, summary: `Detach ${short(displaced.diskId)}` },
        },
        {
          name: 'recordOldSystemDisk',
          do: {
            activity: 'recordDiskSlot',
            args: { diskId: displaced.diskId, vmId, position: displaced.to, sizeGb: displaced.sizeGb },
            summary: `Record the old system disk at ${displaced.to}`,
          },
          undo: {
            activity: 'recordDiskSlot',
            args: { diskId: displaced.diskId, vmId, position: 0, sizeGb: displaced.sizeGb },
            summary: 'Record it at 0 again',
          },
        },
      ],
      {
        name: 'recordDisk',
        do: {
          activity: 'recordDiskSlot',
          args: { diskId: disk.diskId, vmId, position: disk.position, sizeGb: disk.sizeGb },
          summary: `Record disk ${short(disk.diskId)} at ${disk.position}`,
        },
      },
    ),
  };
}
