import type { SnapshotCreateInput, SnapshotDeleteInput, SnapshotRollbackInput, VmOperationInput } from '../libs/contracts/src';
import { runOperation } from './operation-runner';
import { createSnapshotPlan, deleteSnapshotsPlan, rollbackSnapshotPlan, syncSnapshotsPlan } from './plans/snapshot.plan';

// Snapshot operations; their plans are in plans/snapshot.plan.ts.
const ids = (input: VmOperationInput) => ({ operationId: input.operationId, vmId: input.vmId });

export async function createSnapshotWorkflow(input: SnapshotCreateInput): Promise<void> {
  await runOperation(ids(input), createSnapshotPlan(input));
}

export async function deleteSnapshotsWorkflow(input: SnapshotDeleteInput): Promise<void> {
  await runOperation(ids(input), deleteSnapshotsPlan(input));
}

export async function syncSnapshotsWorkflow(input: VmOperationInput): Promise<void> {
  await runOperation(ids(input), syncSnapshotsPlan(input));
}

export async function rollbackSnapshotWorkflow(input: SnapshotRollbackInput): Promise<void> {
  await runOperation(ids(input), rollbackSnapshotPlan(input));
}
