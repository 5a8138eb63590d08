import type { CreateVmInput } from '../libs/contracts/src';
import { runOperation } from './operation-runner';
import { createVmPlan } from './plans/create-vm.plan';

export async function createVmWorkflow(input: CreateVmInput): Promise<void> {
  await runOperation({ operationId: input.operationId, vmId: input.vmId }, createVmPlan(input));
}
