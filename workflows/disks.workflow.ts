import type { DiskAttachInput, DiskChangeInput, DiskCreateInput, VmOperationInput } from '../libs/contracts/src';
import { runOperation } from './operation-runner';
import { attachDiskPlan, createDiskPlan, deleteDiskPlan, detachDiskPlan, resizeDiskPlan } from './plans/disk.plan';

// Disk operations on a VM; their plans are in plans/disk.plan.ts.
const ids = (input: VmOperationInput) => ({ operationId: input.operationId, vmId: input.vmId });

export async function createDiskWorkflow(input: DiskCreateInput): Promise<void> {
  await runOperation(ids(input), createDiskPlan(input));
}

export async function attachDiskWorkflow(input: DiskAttachInput): Promise<void> {
  await runOperation(ids(input), attachDiskPlan(input));
}

export async function detachDiskWorkflow(input: DiskChangeInput): Promise<void> {
  await runOperation(ids(input), detachDiskPlan(input));
}

export async function resizeDiskWorkflow(input: DiskChangeInput): Promise<void> {
  await runOperation(ids(input), resizeDiskPlan(input));
}

export async function deleteDiskWorkflow(input: DiskChangeInput): Promise<void> {
  await runOperation(ids(input), deleteDiskPlan(input));
}
