import type { VmPowerInput } from '../libs/contracts/src';
import { runOperation } from './operation-runner';
import { resetVmPlan } from './plans/reset-vm.plan';

export async function resetVmWorkflow(input: VmPowerInput): Promise<void> {
  await runOperation({ operationId: input.operationId, vmId: input.vmId }, resetVmPlan(input));
}
