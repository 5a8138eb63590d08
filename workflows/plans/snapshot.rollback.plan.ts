import type { OperationPlan, PlannedStep, SnapshotRollbackInput } from '../../libs/contracts/src';
import { inOrder, short, startVmStep, stopVmStep } from './steps';

/**
 * snapshot.rollback (in place, Erigones): [stop the VM] → write the snapshot back over the disk (the point of no
 * return: the disk's data after the snapshot is gone, and so are the snapshots it invalidates) → drop their
 * records → [start the VM again]. A failure before the rollback restores the power state and records the
 * snapshots it was to discard (marked deleting by the API) as ok again; a failure after it is not undone.
 */
export function rollbackSnapshotPlan(input: SnapshotRollbackInput): OperationPlan {
  const { nodeId, vmId, hostname, snapshotId, snapshotName, targetDiskId, discarded, stopFirst } = input;
  return {
    steps: inOrder<PlannedStep>(
      stopFirst && stopVmStep(nodeId, vmId, hostname, input.stopTimeoutSeconds),
      {
        name: 'rollbackSnapshot',
        commit: true,
        do: {
          activity: 'rollbackSnapshot',
          args: { nodeId, snapshotId, targetDiskId, discardSnapshots: discarded.length > 0 },
          summary:
            `Roll disk ${short(targetDiskId)} of ${hostname} back to snapshot ${snapshotName}` +
            (discarded.length ? `, discarding ${discarded.map((s) => s.name).join(', ')}` : ''),
        },
      },
      discarded.length > 0 && {
        name: 'forgetDiscarded',
        do: {
          activity: 'forgetSnapshots',
          args: { snapshotIds: discarded.map((s) => s.snapshotId) },
          summary: `Drop the records of ${discarded.map((s) => s.name).join(', ')}`,
        },
      },
      stopFirst && startVmStep(nodeId, vmId, hostname),
    ),
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
