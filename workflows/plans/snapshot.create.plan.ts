import type { OperationPlan, SnapshotCreateInput } from '../../libs/contracts/src';

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
