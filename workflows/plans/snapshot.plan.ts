import type {
  DiskRollbackInput,
  OperationPlan,
  PlannedStep,
  SnapshotCreateInput,
  SnapshotDeleteInput,
  SnapshotRollbackInput,
  VmOperationInput,
} from '../../libs/contracts/src';
import { startVmStep, stopVmStep } from './steps';

/** snapshot.create: take the snapshot on the node → its record (written pending by the API) becomes ok. */
export function createSnapshotPlan({ nodeId, hostname, snapshotId, diskId, name, fsfreeze }: SnapshotCreateInput): OperationPlan {
  return {
    steps: [
      {
        name: 'createSnapshot',
        do: {
          activity: 'createSnapshot',
          args: { nodeId, snapshotId, diskId, name, fsfreeze },
          summary: `Snapshot ${name} of ${hostname}${fsfreeze ? ', filesystems frozen' : ''}`,
        },
        undo: { activity: 'deleteSnapshot', args: { nodeId, snapshotId }, summary: `Delete snapshot ${name}` },
      },
      {
        name: 'recordSnapshot',
        do: { activity: 'markSnapshotsOk', args: { snapshotIds: [snapshotId] }, summary: `Record snapshot ${name}` },
      },
    ],
    afterCompensation: { activity: 'forgetSnapshots', args: { snapshotIds: [snapshotId] }, summary: `Drop the record of snapshot ${name}` },
  };
}

/**
 * snapshot.delete (one or several): each snapshot is deleted on the node, then its record goes. A deletion
 * cannot be undone; if one fails, the snapshots not deleted yet are recorded ok again.
 */
export function deleteSnapshotsPlan({ nodeId, hostname, snapshots }: SnapshotDeleteInput): OperationPlan {
  return {
    steps: snapshots.flatMap(({ snapshotId, name }): PlannedStep[] => [
      {
        name: `delete:${name}`,
        do: { activity: 'deleteSnapshot', args: { nodeId, snapshotId }, summary: `Delete snapshot ${name} of ${hostname}` },
      },
      {
        name: `forget:${name}`,
        do: { activity: 'forgetSnapshots', args: { snapshotIds: [snapshotId] }, summary: `Drop the record of ${name}` },
      },
    ]),
    afterCompensation: {
      activity: 'markSnapshotsOk',
      args: { snapshotIds: snapshots.map((s) => s.snapshotId) },
      summary: 'Record the snapshots not deleted as ok again',
    },
  };
}

/** snapshot.sync (Erigones PUT /snapshot): read what the node holds → the VM's snapshot records follow it. */
export function syncSnapshotsPlan({ nodeId, vmId, hostname }: VmOperationInput): OperationPlan {
  return {
    steps: [
      {
        name: 'readSnapshots',
        do: { activity: 'listSnapshots', args: { nodeId }, summary: `List the snapshots the node of ${hostname} holds` },
      },
      {
        name: 'syncRecords',
        do: {
          activity: 'syncSnapshotRecords',
          args: { vmId },
          observes: 'readSnapshots',
          summary: `Make the snapshot records of ${hostname} match`,
        },
      },
    ],
  };
}

/**
 * snapshot.rollback (in place, Erigones): [stop the VM] → write the snapshot back over the disk (the point of no
 * return: the disk's data after the snapshot is gone, and so are the snapshots it invalidates) → drop their
 * records → [start the VM again]. A failure before the rollback restores the power state and records the
 * snapshots it was to discard (marked deleting by the API) as ok again; a failure after it is not undone.
 */
export function rollbackSnapshotPlan(input: SnapshotRollbackInput): OperationPlan {
  const { nodeId, vmId, hostname, snapshotId, snapshotName, targetDiskId, discarded, stopFirst } = input;
  return {
    steps: [
      ...(stopFirst ? [stopVmStep(nodeId, vmId, hostname, input.stopTimeoutSeconds)] : []),
      {
        name: 'rollbackSnapshot',
        commit: true,
        do: {
          activity: 'rollbackSnapshot',
          args: { nodeId, snapshotId, targetDiskId, discardSnapshots: discarded.length > 0 },
          summary:
            `Roll disk ${targetDiskId.slice(0, 8)} of ${hostname} back to snapshot ${snapshotName}` +
            (discarded.length ? `, discarding ${discarded.map((s) => s.name).join(', ')}` : ''),
        },
      },
      ...(discarded.length
        ? [
            {
              name: 'forgetDiscarded',
              do: {
                activity: 'forgetSnapshots',
                args: { snapshotIds: discarded.map((s) => s.snapshotId) },
                summary: `Drop the records of ${discarded.map((s) => s.name).join(', ')}`,
              },
            } as PlannedStep,
          ]
        : []),
      ...(stopFirst ? [startVmStep(nodeId, vmId, hostname)] : []),
    ],
    ...(discarded.length
      ? {
          afterCompensation: {
            activity: 'markSnapshotsOk',
            args: { snapshotIds: discarded.map((s) => s.snapshotId) },
            summary: `Record ${discarded.map((s) => s.name).join(', ')} as ok again: nothing was discarded`,
          },
        }
      : {}),
  };
}

/**
 * disk.rollback (new disk, Gandi disk_rollback): [stop] → detach the disk → a new disk from the snapshot →
 * attach it at the same position → [start] → record the swap → delete the old disk → drop its record. The old
 * disk goes only once the VM runs on the new one; any failure before that re-attaches the old disk and
 * restores the power state.
 */
export function rollbackDiskPlan(input: DiskRollbackInput): OperationPlan {
  const { nodeId, vmId, hostname, snapshotId, snapshotName, oldDiskId, newDiskId, position, sizeGb, wasRunning } = input;
  const old = `disk ${oldDiskId.slice(0, 8)}`;
  const fresh = `disk ${newDiskId.slice(0, 8)}`;
  return {
    steps: [
      ...(wasRunning ? [stopVmStep(nodeId, vmId, hostname, input.stopTimeoutSeconds)] : []),
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
      ...(wasRunning ? [startVmStep(nodeId, vmId, hostname)] : []),
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
    ],
  };
}
