import type { DeleteVmInput } from '../libs/contracts/src';
import { runOperation } from './operation-runner';
import { deleteVmPlan } from './plans/vm.plan';

export async function deleteVmWorkflow(input: DeleteVmInput): Promise<void> {
  await runOperation({ operationId: input.operationId, vmId: input.vmId }, deleteVmPlan(input));
}
