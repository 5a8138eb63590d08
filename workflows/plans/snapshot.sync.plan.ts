import type { OperationPlan, VmOperationInput } from '../../libs/contracts/src';

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
