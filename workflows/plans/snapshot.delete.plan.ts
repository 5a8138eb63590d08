import type { OperationPlan, PlannedStep, SnapshotDeleteInput } from '../../libs/contracts/src';

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
