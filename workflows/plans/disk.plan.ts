import type { DiskAttachInput, DiskChangeInput, DiskCreateInput, OperationPlan, PlannedStep } from '../../libs/contracts/src';

const short = (id: string) => id.slice(0, 8);

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

/**
 * disk.attach: a detached disk → its position. At position 0 of a stopped VM (Gandi) it swaps with the system
 * disk: that one is detached first and attached again at `displaced.to`.
 */
export function attachDiskPlan({ nodeId, vmId, hostname, disk, displaced }: DiskAttachInput): OperationPlan {
  const steps: PlannedStep[] = [];
  if (displaced) {
    steps.push({
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
    });
  }
  steps.push({
    name: 'attachDisk',
    do: {
      activity: 'attachDisk',
      args: { nodeId, diskId: disk.diskId, vmId, position: disk.position },
      summary: `Attach disk ${short(disk.diskId)} to ${hostname} at ${disk.position}`,
    },
    undo: { activity: 'detachDisk', args: { nodeId, diskId: disk.diskId, vmId }, summary: `Detach disk ${short(disk.diskId)}` },
  });
  if (displaced) {
    steps.push({
      name: 'reattachOldSystemDisk',
      do: {
        activity: 'attachDisk',
        args: { nodeId, diskId: displaced.diskId, vmId, position: displaced.to },
        summary: `Attach the old system disk at ${displaced.to}`,
      },
      undo: { activity: 'detachDisk', args: { nodeId, diskId: displaced.diskId, vmId }, summary: `Detach ${short(displaced.diskId)}` },
    });
  }
  // The old system disk's record moves first: the inventory holds one disk per position.
  if (displaced) {
    steps.push({
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
    });
  }
  steps.push({
    name: 'recordDisk',
    do: {
      activity: 'recordDiskSlot',
      args: { diskId: disk.diskId, vmId, position: disk.position, sizeGb: disk.sizeGb },
      summary: `Record disk ${short(disk.diskId)} at ${disk.position}`,
    },
  });
  return { steps };
}

/** disk.detach: the disk stays the VM's, detached. The system disk only from a stopped VM (the API checks). */
export function detachDiskPlan({ nodeId, vmId, hostname, disk, attachedAt }: DiskChangeInput): OperationPlan {
  return {
    steps: [
      {
        name: 'detachDisk',
        do: {
          activity: 'detachDisk',
          args: { nodeId, diskId: disk.diskId, vmId },
          summary: `Detach disk ${short(disk.diskId)} from ${hostname}`,
        },
        undo: {
          activity: 'attachDisk',
          args: { nodeId, diskId: disk.diskId, vmId, position: attachedAt ?? disk.position },
          summary: `Attach it again`,
        },
      },
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

/** disk.delete: [detach] → delete it and its snapshots (no return) → drop its record. */
export function deleteDiskPlan({ nodeId, vmId, hostname, disk, attachedAt }: DiskChangeInput): OperationPlan {
  return {
    steps: [
      ...(attachedAt !== null
        ? [
            {
              name: 'detachDisk',
              do: {
                activity: 'detachDisk',
                args: { nodeId, diskId: disk.diskId, vmId },
                summary: `Detach disk ${short(disk.diskId)} from ${hostname}`,
              },
              undo: {
                activity: 'attachDisk',
                args: { nodeId, diskId: disk.diskId, vmId, position: attachedAt },
                summary: 'Attach it again',
              },
            } as PlannedStep,
          ]
        : []),
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
    ],
  };
}
