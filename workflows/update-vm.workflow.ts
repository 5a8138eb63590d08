import type { UpdateVmInput } from '../libs/contracts/src';
import { runOperation } from './operation-runner';
import { updateVmPlan } from './plans/vm.plan';

export async function updateVmWorkflow(input: UpdateVmInput): Promise<void> {
  await runOperation({ operationId: input.operationId, vmId: input.vmId }, updateVmPlan(input));
}
