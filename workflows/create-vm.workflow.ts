import type { CloneVmInput, CreateVmInput } from '../libs/contracts/src';
import { runOperation } from './operation-runner';
import { cloneVmPlan, createVmPlan } from './plans/create-vm.plan';

export async function createVmWorkflow(input: CreateVmInput): Promise<void> {
  await runOperation({ operationId: input.operationId, vmId: input.vmId }, createVmPlan(input));
}

export async function cloneVmWorkflow(input: CloneVmInput): Promise<void> {
  await runOperation({ operationId: input.operationId, vmId: input.vmId }, cloneVmPlan(input));
}
