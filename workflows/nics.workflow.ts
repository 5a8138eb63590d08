import type { NicChangeInput, NicCreateInput, VmOperationInput } from '../libs/contracts/src';
import { runOperation } from './operation-runner';
import { attachNicPlan, createNicPlan, deleteNicPlan, detachNicPlan } from './plans/nic.plan';

// Network interface operations on a VM; their plans are in plans/nic.plan.ts.
const ids = (input: VmOperationInput) => ({ operationId: input.operationId, vmId: input.vmId });

export async function createNicWorkflow(input: NicCreateInput): Promise<void> {
  await runOperation(ids(input), createNicPlan(input));
}

export async function attachNicWorkflow(input: NicChangeInput): Promise<void> {
  await runOperation(ids(input), attachNicPlan(input));
}

export async function detachNicWorkflow(input: NicChangeInput): Promise<void> {
  await runOperation(ids(input), detachNicPlan(input));
}

export async function deleteNicWorkflow(input: NicChangeInput): Promise<void> {
  await runOperation(ids(input), deleteNicPlan(input));
}
