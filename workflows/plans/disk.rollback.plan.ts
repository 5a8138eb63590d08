import type { DiskRollbackInput, OperationPlan, PlannedStep } from '../../libs/contracts/src';
import { inOrder, short, startVmStep, stopVmStep } from './steps';

/**
 * disk.rollback (new disk, Gandi disk_rollback): [stop] → detach the disk → a new disk from the snapshot →
 * attach it at the same position → [start] → record the swap → delete the old disk → drop its record. The old
 * disk goes only once the VM runs on the new one; any failure before that re-attaches the old disk and
 * restores the power state.
 */
export function rollbackDiskPlan(input: DiskRollbackInput): OperationPlan {
  const { nodeId, vmId, hostname, snapshotId, snapshotName, oldDiskId, newDiskId, position, sizeGb, wasRunning } = input;
  const old = `disk ${short(oldDiskId)}`;
  const fresh = `disk ${short(newDiskId)}`;
  return {
    steps: inOrder<PlannedStep>(
      wasRunning && stopVmStep(nodeId, vmId, hostname, input.stopTimeoutSeconds),
      {
        name: 'detachOldDisk',
        do: { activity: 'detachDisk', args: { nodeId, diskId: oldDiskId, vmId }, summary: `Detach ${old} from ${hostname}` },
        undo: {
          activity: 'attachDisk',
          args: { nodeId, diskId: oldDiskId, vmId, position },
          summary: `Attach ${old} to ${hostname} again at position ${position}`,
        },
      },
      {
        name: 'createNewDisk',
        do: {
          activity: 'createDiskFromSnapshot',
          args: { nodeId, diskId: newDiskId, snapshotId, sizeGb },
          summary: `Create ${fresh} from snapshot ${snapshotName}`,
        },
        undo: { activity: 'deleteDisk', args: { nodeId, diskId: newDiskId }, summary: `Delete ${fresh}` },
      },
      {
        name: 'attachNewDisk',
        do: {
          activity: 'attachDisk',
          args: { nodeId, diskId: newDiskId, vmId, position },
          summary: `Attach ${fresh} at position ${position}`,
        },
        undo: { activity: 'detachDisk', args: { nodeId, diskId: newDiskId, vmId }, summary: `Detach ${fresh}` },
      },
      wasRunning && startVmStep(nodeId, vmId, hostname),
      {
        name: 'recordNewDisk',
        do: {
          activity: 'replaceDiskRecord',
          args: { vmId, oldDiskId, newDiskId, position, sizeGb },
          summary: `Record ${fresh} in place of ${old}`,
        },
        undo: { activity: 'restoreDiskRecord', args: { vmId, oldDiskId, newDiskId, position }, summary: `Record ${old} back in its place` },
      },
      {
        name: 'deleteOldDisk',
        commit: true,
        do: { activity: 'deleteDisk', args: { nodeId, diskId: oldDiskId }, summary: `Delete ${old} and its snapshots` },
      },
      { name: 'forgetOldDisk', do: { activity: 'forgetDiskRecord', args: { diskId: oldDiskId }, summary: `Drop the record of ${old}` } },
    ),
  };
}
